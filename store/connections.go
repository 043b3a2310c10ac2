package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

var (
	connNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	envNameRE  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func validateConnection(c *Connection) error {
	switch {
	case c.Tenant == "":
		return invalid("tenant", "is empty")
	case !connNameRE.MatchString(c.Name):
		return invalid("name", "must be 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit")
	case c.Mode != ModeLazyMigration && c.Mode != ModeCustomUserStore:
		return invalid("mode", "must be %s or %s", ModeLazyMigration, ModeCustomUserStore)
	}
	switch c.DBType {
	case DBPostgres, DBMySQL, DBMongoDB, DBHTTP:
	default:
		return invalid("dbType", "must be postgres, mysql, mongodb or http")
	}
	if c.Connection.Port < 0 || c.Connection.Port > 65535 {
		return invalid("connection.port", "must be between 0 and 65535")
	}
	for k := range c.Env {
		if !envNameRE.MatchString(k) {
			return invalid("env", "%q is not a valid variable name", k)
		}
	}
	for _, k := range c.PlainEnv {
		if _, ok := c.Env[k]; !ok {
			return invalid("plainEnv", "%q is not a variable of env", k)
		}
	}
	for _, e := range c.EgressAllowlist {
		if strings.TrimSpace(e) == "" {
			return invalid("egressAllowlist", "has an empty entry")
		}
	}
	return nil
}

const connCols = `tenant_id, name, mode, db_type, uri_enc, host, port, username, password_enc, database_name, env_enc, egress_allowlist, enabled, active_version, config_version, created_at, updated_at, env_plain`

func (s *sqlStore) scanConnection(r scanner) (Connection, error) {
	var c Connection
	var uri, pw, env, allow, plain string
	var created, updated int64
	p := &c.Connection
	if err := r.Scan(&c.Tenant, &c.Name, &c.Mode, &c.DBType, &uri, &p.Host, &p.Port, &p.Username, &pw, &p.Database,
		&env, &allow, &c.Enabled, &c.ActiveVersion, &c.ConfigVersion, &created, &updated, &plain); err != nil {
		return Connection{}, err
	}
	c.CreatedAt, c.UpdatedAt = goTime(created), goTime(updated)
	var err error
	if p.URI, err = s.seal.open(c.Tenant, c.Name, "uri", uri); err != nil {
		return Connection{}, err
	}
	if p.Password, err = s.seal.open(c.Tenant, c.Name, "password", pw); err != nil {
		return Connection{}, err
	}
	sealedEnv := map[string]string{}
	if err := json.Unmarshal([]byte(env), &sealedEnv); err != nil {
		return Connection{}, fmt.Errorf("env: %w", err)
	}
	c.Env = make(map[string]string, len(sealedEnv))
	for k, v := range sealedEnv {
		if c.Env[k], err = s.seal.open(c.Tenant, c.Name, "env:"+k, v); err != nil {
			return Connection{}, err
		}
	}
	c.EgressAllowlist = []string{}
	if err := json.Unmarshal([]byte(allow), &c.EgressAllowlist); err != nil {
		return Connection{}, fmt.Errorf("egress allowlist: %w", err)
	}
	c.PlainEnv = []string{}
	if err := json.Unmarshal([]byte(plain), &c.PlainEnv); err != nil {
		return Connection{}, fmt.Errorf("plain env: %w", err)
	}
	return c, nil
}

func (s *sqlStore) PutConnection(ctx context.Context, c Connection) (Connection, error) {
	if err := validateConnection(&c); err != nil {
		return Connection{}, err
	}
	c.Env = maps.Clone(c.Env)
	if c.Env == nil {
		c.Env = map[string]string{}
	}
	c.EgressAllowlist = append([]string{}, c.EgressAllowlist...)
	c.PlainEnv = slices.Compact(slices.Sorted(slices.Values(c.PlainEnv)))
	if c.PlainEnv == nil {
		c.PlainEnv = []string{}
	}
	uri, err := s.seal.seal(c.Tenant, c.Name, "uri", c.Connection.URI)
	if err != nil {
		return Connection{}, err
	}
	pw, err := s.seal.seal(c.Tenant, c.Name, "password", c.Connection.Password)
	if err != nil {
		return Connection{}, err
	}
	sealedEnv := make(map[string]string, len(c.Env))
	for k, v := range c.Env {
		if sealedEnv[k], err = s.seal.seal(c.Tenant, c.Name, "env:"+k, v); err != nil {
			return Connection{}, err
		}
	}
	env, _ := json.Marshal(sealedEnv)
	allow, _ := json.Marshal(c.EgressAllowlist)
	plain, _ := json.Marshal(c.PlainEnv)
	now := s.now()
	p := c.Connection
	var created int64
	err = s.db.QueryRowContext(ctx, s.d.q(`INSERT INTO connections (`+connCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?, ?)
		ON CONFLICT (tenant_id, name) DO UPDATE SET
			mode = excluded.mode, db_type = excluded.db_type, uri_enc = excluded.uri_enc, host = excluded.host,
			port = excluded.port, username = excluded.username, password_enc = excluded.password_enc,
			database_name = excluded.database_name, env_enc = excluded.env_enc, env_plain = excluded.env_plain,
			egress_allowlist = excluded.egress_allowlist, enabled = excluded.enabled,
			config_version = connections.config_version + 1, updated_at = excluded.updated_at
		RETURNING active_version, config_version, created_at`),
		c.Tenant, c.Name, string(c.Mode), string(c.DBType), uri, p.Host, p.Port, p.Username, pw, p.Database,
		string(env), string(allow), c.Enabled, dbTime(now), dbTime(now), string(plain),
	).Scan(&c.ActiveVersion, &c.ConfigVersion, &created)
	if err != nil {
		return Connection{}, s.fail("put connection", err, ErrConflict)
	}
	c.CreatedAt, c.UpdatedAt = goTime(created), now
	return c, nil
}

func (s *sqlStore) getConnection(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, tenantID, name string) (Connection, error) {
	return s.scanConnection(q.QueryRowContext(ctx, s.d.q(`SELECT `+connCols+` FROM connections WHERE tenant_id = ? AND name = ?`), tenantID, name))
}

func (s *sqlStore) GetConnection(ctx context.Context, tenantID, name string) (Connection, error) {
	c, err := s.getConnection(ctx, s.db, tenantID, name)
	if err != nil {
		return Connection{}, s.fail("get connection", err, ErrConflict)
	}
	return c, nil
}

// connExists is ErrNotFound when the tenant has no such connection.
func (s *sqlStore) connExists(ctx context.Context, tenantID, name string) error {
	var one int
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM connections WHERE tenant_id = ? AND name = ?`), tenantID, name).Scan(&one)
	if err != nil {
		return s.fail("get connection", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) ListConnections(ctx context.Context, tenantID string) ([]Connection, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+connCols+` FROM connections WHERE tenant_id = ? ORDER BY name`), tenantID)
	if err != nil {
		return nil, s.fail("list connections", err, ErrConflict)
	}
	defer rows.Close()
	out := []Connection{}
	for rows.Next() {
		c, err := s.scanConnection(rows)
		if err != nil {
			return nil, s.fail("list connections", err, ErrConflict)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list connections", err, ErrConflict)
	}
	return out, nil
}

func (s *sqlStore) DeleteConnection(ctx context.Context, tenantID, name string) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM connections WHERE tenant_id = ? AND name = ?`), tenantID, name)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.fail("delete connection", err, ErrConflict)
	}
	return nil
}

// ---- versions ----

const versionCols = `tenant_id, connection_name, version, sha256, size, functions, abi_version, created_at`

func scanVersion(r scanner) (Version, error) {
	var v Version
	var fns string
	var created int64
	if err := r.Scan(&v.Tenant, &v.Connection, &v.Version, &v.SHA256, &v.Size, &fns, &v.ABIVersion, &created); err != nil {
		return Version{}, err
	}
	v.CreatedAt = goTime(created)
	v.Functions = []string{}
	if err := json.Unmarshal([]byte(fns), &v.Functions); err != nil {
		return Version{}, fmt.Errorf("functions: %w", err)
	}
	return v, nil
}

func (s *sqlStore) AddVersion(ctx context.Context, tenantID, connection string, nv NewVersion, module []byte) (Version, error) {
	if len(module) == 0 {
		return Version{}, invalid("module", "is empty")
	}
	if nv.Version < 0 {
		return Version{}, invalid("version", "must not be negative")
	}
	if nv.MaxVersions < 0 || nv.MaxVersions == 1 {
		return Version{}, invalid("maxVersions", "must be 0 (no cap) or at least 2")
	}
	sum := sha256.Sum256(module)
	v := Version{
		Tenant: tenantID, Connection: connection, Version: nv.Version,
		SHA256: hex.EncodeToString(sum[:]), Size: int64(len(module)),
		Functions: append([]string{}, nv.Functions...), ABIVersion: nv.ABIVersion, CreatedAt: s.now(),
	}
	if nv.SHA256 != "" && !strings.EqualFold(nv.SHA256, v.SHA256) {
		return Version{}, invalid("sha256", "does not match the module bytes")
	}
	fns, _ := json.Marshal(v.Functions)
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		v.Existing, v.Pruned = false, nil
		var active int // locks the connection row on PostgreSQL: versions are numbered one at a time
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT active_version FROM connections WHERE tenant_id = ? AND name = ?`+s.d.forUpdate),
			tenantID, connection).Scan(&active); err != nil {
			return err
		}
		// The same bytes again: the version the connection has (the
		// active one when several have them, else the newest).
		found, err := s.versionOfModule(ctx, tx, tenantID, connection, v.SHA256, active)
		if err != nil {
			return err
		}
		if found.Version != 0 {
			v = found
			v.Existing = true
			if !nv.Activate || active == v.Version {
				return nil
			}
			return s.activate(ctx, tx, tenantID, connection, v.Version)
		}
		// DO UPDATE (not DO NOTHING) locks an existing module row, so a
		// concurrent prune skips it until this version references it.
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO modules (sha256, size, bytes, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (sha256) DO UPDATE SET size = excluded.size`),
			v.SHA256, v.Size, module, dbTime(v.CreatedAt)); err != nil {
			return err
		}
		if v.Version == 0 {
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE tenant_id = ? AND connection_name = ?`),
				tenantID, connection).Scan(&v.Version); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO versions (`+versionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			tenantID, connection, v.Version, v.SHA256, v.Size, string(fns), v.ABIVersion, dbTime(v.CreatedAt)); err != nil {
			return err
		}
		if nv.Activate {
			if err := s.activate(ctx, tx, tenantID, connection, v.Version); err != nil {
				return err
			}
			active = v.Version
		}
		if nv.MaxVersions > 0 {
			v.Pruned, err = s.prune(ctx, tx, tenantID, connection, nv.MaxVersions, active, v.Version)
		}
		return err
	})
	if err != nil {
		return Version{}, s.fail("add version", err, ErrConflict)
	}
	return v, nil
}

// versionOfModule is the connection's version of module sha (Version 0
// when it has none): active when that one has it, else the newest.
func (s *sqlStore) versionOfModule(ctx context.Context, tx *sql.Tx, tenantID, connection, sha string, active int) (Version, error) {
	v, err := scanVersion(tx.QueryRowContext(ctx, s.d.q(`SELECT `+versionCols+` FROM versions
		WHERE sha256 = ? AND tenant_id = ? AND connection_name = ? ORDER BY version = ? DESC, version DESC LIMIT 1`),
		sha, tenantID, connection, active))
	if errors.Is(err, sql.ErrNoRows) {
		return Version{}, nil
	}
	return v, err
}

// prune deletes the connection's oldest versions beyond maxVersions,
// never active nor keep, and then the modules no version references any
// more. It returns the deleted version numbers, oldest first.
func (s *sqlStore) prune(ctx context.Context, tx *sql.Tx, tenantID, connection string, maxVersions, active, keep int) ([]int, error) {
	type row struct {
		version int
		sha     string
	}
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT version, sha256 FROM versions WHERE tenant_id = ? AND connection_name = ? ORDER BY version`),
		tenantID, connection)
	if err != nil {
		return nil, err
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.version, &r.sha); err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var pruned []int
	shas := map[string]bool{}
	for _, r := range all {
		if len(all)-len(pruned) <= maxVersions {
			break
		}
		if r.version == active || r.version == keep {
			continue
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM versions WHERE tenant_id = ? AND connection_name = ? AND version = ?`),
			tenantID, connection, r.version); err != nil {
			return nil, err
		}
		pruned = append(pruned, r.version)
		shas[r.sha] = true
	}
	for sha := range shas {
		if err := s.collectModule(ctx, tx, sha); err != nil {
			return nil, err
		}
	}
	return pruned, nil
}

// collectModule deletes module sha when no version references it. On
// PostgreSQL a module row locked by an upload in flight (AddVersion's
// insert locks it) is skipped: that upload is about to reference it.
func (s *sqlStore) collectModule(ctx context.Context, tx *sql.Tx, sha string) error {
	var one int
	err := tx.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM modules WHERE sha256 = ?
		AND NOT EXISTS (SELECT 1 FROM versions WHERE versions.sha256 = modules.sha256)`+s.d.skipLocked), sha).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // still in use, or locked by an upload
	}
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, s.d.q(`DELETE FROM modules WHERE sha256 = ?`), sha)
	return err
}

func (s *sqlStore) activate(ctx context.Context, tx *sql.Tx, tenantID, connection string, version int) error {
	res, err := tx.ExecContext(ctx, s.d.q(`UPDATE connections SET active_version = ?, config_version = config_version + 1, updated_at = ?
		WHERE tenant_id = ? AND name = ?`), version, dbTime(s.now()), tenantID, connection)
	if err != nil {
		return err
	}
	return affected(res)
}

func (s *sqlStore) ListVersions(ctx context.Context, tenantID, connection string) ([]Version, error) {
	if err := s.connExists(ctx, tenantID, connection); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+versionCols+` FROM versions WHERE tenant_id = ? AND connection_name = ? ORDER BY version`), tenantID, connection)
	if err != nil {
		return nil, s.fail("list versions", err, ErrConflict)
	}
	defer rows.Close()
	out := []Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, s.fail("list versions", err, ErrConflict)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list versions", err, ErrConflict)
	}
	return out, nil
}

func (s *sqlStore) GetVersion(ctx context.Context, tenantID, connection string, version int) (Version, error) {
	v, err := scanVersion(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+versionCols+` FROM versions WHERE tenant_id = ? AND connection_name = ? AND version = ?`),
		tenantID, connection, version))
	if err != nil {
		return Version{}, s.fail("get version", err, ErrConflict)
	}
	return v, nil
}

func (s *sqlStore) ModuleBytes(ctx context.Context, sha string) ([]byte, error) {
	var b []byte
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT bytes FROM modules WHERE sha256 = ?`), strings.ToLower(sha)).Scan(&b); err != nil {
		return nil, s.fail("module bytes", err, ErrConflict)
	}
	return b, nil
}

func (s *sqlStore) ActivateVersion(ctx context.Context, tenantID, connection string, version int) (Connection, error) {
	var c Connection
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM versions WHERE tenant_id = ? AND connection_name = ? AND version = ?`),
			tenantID, connection, version).Scan(&one); err != nil {
			return err
		}
		if err := s.activate(ctx, tx, tenantID, connection, version); err != nil {
			return err
		}
		var err error
		c, err = s.getConnection(ctx, tx, tenantID, connection)
		return err
	})
	if err != nil {
		return Connection{}, s.fail("activate version", err, ErrConflict)
	}
	return c, nil
}
