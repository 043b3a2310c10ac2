package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
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
	for _, e := range c.EgressAllowlist {
		if strings.TrimSpace(e) == "" {
			return invalid("egressAllowlist", "has an empty entry")
		}
	}
	return nil
}

const connCols = `tenant_id, name, mode, db_type, uri_enc, host, port, username, password_enc, database_name, env_enc, egress_allowlist, enabled, active_version, config_version, created_at, updated_at`

func (s *sqlStore) scanConnection(r scanner) (Connection, error) {
	var c Connection
	var uri, pw, env, allow string
	var created, updated int64
	p := &c.Connection
	if err := r.Scan(&c.Tenant, &c.Name, &c.Mode, &c.DBType, &uri, &p.Host, &p.Port, &p.Username, &pw, &p.Database,
		&env, &allow, &c.Enabled, &c.ActiveVersion, &c.ConfigVersion, &created, &updated); err != nil {
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
	now := s.now()
	p := c.Connection
	var created int64
	err = s.db.QueryRowContext(ctx, s.d.q(`INSERT INTO connections (`+connCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 1, ?, ?)
		ON CONFLICT (tenant_id, name) DO UPDATE SET
			mode = excluded.mode, db_type = excluded.db_type, uri_enc = excluded.uri_enc, host = excluded.host,
			port = excluded.port, username = excluded.username, password_enc = excluded.password_enc,
			database_name = excluded.database_name, env_enc = excluded.env_enc,
			egress_allowlist = excluded.egress_allowlist, enabled = excluded.enabled,
			config_version = connections.config_version + 1, updated_at = excluded.updated_at
		RETURNING active_version, config_version, created_at`),
		c.Tenant, c.Name, string(c.Mode), string(c.DBType), uri, p.Host, p.Port, p.Username, pw, p.Database,
		string(env), string(allow), c.Enabled, dbTime(now), dbTime(now),
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
		var active int // locks the connection row on PostgreSQL: versions are numbered one at a time
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT active_version FROM connections WHERE tenant_id = ? AND name = ?`+s.d.forUpdate),
			tenantID, connection).Scan(&active); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO modules (sha256, size, bytes, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (sha256) DO NOTHING`),
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
		if !nv.Activate {
			return nil
		}
		return s.activate(ctx, tx, tenantID, connection, v.Version)
	})
	if err != nil {
		return Version{}, s.fail("add version", err, ErrConflict)
	}
	return v, nil
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
