package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
)

// sqlStore implements Store over database/sql for both dialects.
type sqlStore struct {
	db   *sql.DB
	d    *dialect
	seal *sealer

	callBatches atomic.Uint64 // AppendCalls transactions begun: every recountEvery-th recounts
}

func (s *sqlStore) now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func (s *sqlStore) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

func (s *sqlStore) Close() error { return s.db.Close() }

// withTx runs fn in a transaction, committed when fn returns nil.
func (s *sqlStore) withTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, ignoreDone(tx.Rollback()))
	}
	return tx.Commit()
}

func ignoreDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// fail wraps err for the caller: no rows is ErrNotFound, a unique
// violation is conflict, a foreign-key violation is ErrNotFound (the
// tenant or connection the row belongs to is missing). Sentinel and
// validation errors pass through.
func (s *sqlStore) fail(op string, err error, conflict error) error {
	var ve *ValidationError
	switch {
	case errors.As(err, &ve), errors.Is(err, ErrNotFound), errors.Is(err, ErrConflict):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	case s.d.isUnique(err):
		return fmt.Errorf("%s: %w", op, conflict)
	case s.d.isFK(err):
		return fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// affected turns "no row changed" into ErrNotFound.
func affected(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// Times are stored as Unix microseconds, 0 for the zero time.
func dbTime(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func goTime(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// nullable stores "" as NULL so that unique indexes ignore empty values.
func nullable(v string) sql.NullString { return sql.NullString{String: v, Valid: v != ""} }

// likePattern is a LIKE pattern matching keyword anywhere (escape '\').
func likePattern(keyword string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(keyword)) + "%"
}

// pageArgs normalises a 1-based page and a limit (default 50, at most 1000).
func pageArgs(page, limit int) (lim, offset int) {
	if page < 1 {
		page = 1
	}
	if limit < 1 {
		limit = 50
	}
	if limit > 1000 {
		limit = 1000
	}
	return limit, (page - 1) * limit
}

// ---- tenants ----

const tenantCols = `t.id, t.name, t.created_at, t.memory_mb, t.timeout_ms, t.max_concurrency, t.calls_per_minute, t.max_module_bytes, t.max_host_calls, t.cpu_ms_per_minute, t.uploads_per_minute, t.allow_private_networks, t.private_networks`

type scanner interface{ Scan(dest ...any) error }

func scanTenant(r scanner) (Tenant, error) {
	var t Tenant
	var created int64
	var networks string
	q := &t.Quotas
	err := r.Scan(&t.ID, &t.Name, &created, &q.MemoryMB, &q.TimeoutMs, &q.MaxConcurrency, &q.CallsPerMinute, &q.MaxModuleBytes, &q.MaxHostCalls,
		&q.CPUMsPerMinute, &q.UploadsPerMinute, &q.AllowPrivateNetworks, &networks)
	t.CreatedAt = goTime(created)
	if err != nil {
		return t, err
	}
	q.PrivateNetworks = []string{}
	if err := json.Unmarshal([]byte(networks), &q.PrivateNetworks); err != nil {
		return t, fmt.Errorf("tenant %s: private_networks: %w", t.ID, err)
	}
	return t, nil
}

// networksJSON is the stored form of privateNetworks.
func networksJSON(q Quotas) string {
	b, _ := json.Marshal(q.clone().PrivateNetworks)
	return string(b)
}

func (s *sqlStore) CreateTenant(ctx context.Context, name, apiKeyHash string) (Tenant, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return Tenant{}, invalid("name", "must be 1 to 200 characters")
	}
	id, err := newTenantID()
	if err != nil {
		return Tenant{}, err
	}
	t := Tenant{ID: id, Name: name, CreatedAt: s.now(), Quotas: DefaultQuotas()}
	q := t.Quotas
	err = s.withTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO tenants (id, name, created_at, memory_mb, timeout_ms, max_concurrency, calls_per_minute, max_module_bytes, max_host_calls,
				cpu_ms_per_minute, uploads_per_minute, allow_private_networks, private_networks)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			t.ID, t.Name, dbTime(t.CreatedAt), q.MemoryMB, q.TimeoutMs, q.MaxConcurrency, q.CallsPerMinute, q.MaxModuleBytes, q.MaxHostCalls,
			q.CPUMsPerMinute, q.UploadsPerMinute, q.AllowPrivateNetworks, networksJSON(q)); err != nil {
			return err
		}
		if apiKeyHash == "" {
			return nil
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO api_keys (hash, tenant_id, created_at) VALUES (?, ?, ?)`), apiKeyHash, t.ID, dbTime(t.CreatedAt))
		return err
	})
	if err != nil {
		return Tenant{}, s.fail("create tenant", err, ErrConflict)
	}
	return t, nil
}

func (s *sqlStore) GetTenant(ctx context.Context, tenantID string) (Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+tenantCols+` FROM tenants t WHERE t.id = ?`), tenantID))
	if err != nil {
		return Tenant{}, s.fail("get tenant", err, ErrConflict)
	}
	return t, nil
}

func (s *sqlStore) ListTenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantCols+` FROM tenants t ORDER BY t.created_at, t.name`)
	if err != nil {
		return nil, s.fail("list tenants", err, ErrConflict)
	}
	defer rows.Close()
	out := []Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, s.fail("list tenants", err, ErrConflict)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list tenants", err, ErrConflict)
	}
	return out, nil
}

func (s *sqlStore) UpdateQuotas(ctx context.Context, tenantID string, q Quotas) (Tenant, error) {
	if err := q.Validate(); err != nil {
		return Tenant{}, err
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE tenants SET memory_mb = ?, timeout_ms = ?, max_concurrency = ?, calls_per_minute = ?, max_module_bytes = ?, max_host_calls = ?,
			cpu_ms_per_minute = ?, uploads_per_minute = ?, allow_private_networks = ?, private_networks = ?
		WHERE id = ?`), q.MemoryMB, q.TimeoutMs, q.MaxConcurrency, q.CallsPerMinute, q.MaxModuleBytes, q.MaxHostCalls,
		q.CPUMsPerMinute, q.UploadsPerMinute, q.AllowPrivateNetworks, networksJSON(q), tenantID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return Tenant{}, s.fail("update quotas", err, ErrConflict)
	}
	return s.GetTenant(ctx, tenantID)
}

func (s *sqlStore) AddAPIKey(ctx context.Context, tenantID, keyHash string) error {
	if keyHash == "" {
		return invalid("keyHash", "is empty")
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO api_keys (hash, tenant_id, created_at) VALUES (?, ?, ?)`), keyHash, tenantID, dbTime(s.now()))
	if err != nil {
		return s.fail("add api key", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) DeleteAPIKey(ctx context.Context, tenantID, keyHash string) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM api_keys WHERE hash = ? AND tenant_id = ?`), keyHash, tenantID)
	if err == nil {
		err = affected(res)
	}
	if err != nil {
		return s.fail("delete api key", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT hash, created_at FROM api_keys WHERE tenant_id = ? ORDER BY created_at, hash`), tenantID)
	if err != nil {
		return nil, s.fail("list api keys", err, ErrConflict)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		var k APIKey
		var created int64
		if err := rows.Scan(&k.Hash, &created); err != nil {
			return nil, s.fail("list api keys", err, ErrConflict)
		}
		k.CreatedAt = goTime(created)
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list api keys", err, ErrConflict)
	}
	return out, nil
}

func (s *sqlStore) TenantByAPIKeyHash(ctx context.Context, keyHash string) (Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+tenantCols+` FROM tenants t JOIN api_keys k ON k.tenant_id = t.id WHERE k.hash = ?`), keyHash))
	if err != nil {
		return Tenant{}, s.fail("tenant by api key", err, ErrConflict)
	}
	return t, nil
}
