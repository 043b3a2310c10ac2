package store

import (
	"context"
	"time"
)

func (s *sqlStore) AppendAudit(ctx context.Context, e AuditEntry) error {
	switch {
	case e.Tenant == "":
		return invalid("tenant", "is empty")
	case e.Action == "":
		return invalid("action", "is empty")
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO audit_log (time, tenant_id, connection_name, request_id, action, subject, code, detail, duration_ms)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		dbTime(e.Time), e.Tenant, e.Connection, e.RequestID, e.Action, e.Subject, e.Code, e.Detail, e.DurationMs)
	if err != nil {
		return s.fail("append audit", err, ErrConflict)
	}
	return nil
}

func (s *sqlStore) ListAudit(ctx context.Context, tenantID string, q AuditQuery) ([]AuditEntry, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, 1000)
	query := `SELECT id, time, tenant_id, connection_name, request_id, action, subject, code, detail, duration_ms FROM audit_log WHERE tenant_id = ?`
	args := []any{tenantID}
	if q.Connection != "" {
		query += ` AND connection_name = ?`
		args = append(args, q.Connection)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query+` ORDER BY id DESC LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, s.fail("list audit", err, ErrConflict)
	}
	defer rows.Close()
	out := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Tenant, &e.Connection, &e.RequestID, &e.Action, &e.Subject, &e.Code, &e.Detail, &e.DurationMs); err != nil {
			return nil, s.fail("list audit", err, ErrConflict)
		}
		e.Time = goTime(t)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list audit", err, ErrConflict)
	}
	return out, nil
}

func (s *sqlStore) PruneAudit(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM audit_log WHERE time < ?`), dbTime(before))
	if err != nil {
		return 0, s.fail("prune audit", err, ErrConflict)
	}
	return res.RowsAffected()
}

// ---- migration jobs ----

const jobCols = `tenant_id, connection_name, status, next_page, imported, legacy_total, started_at, updated_at, error`

func (s *sqlStore) GetMigrationJob(ctx context.Context, tenantID, connection string) (MigrationJob, error) {
	var j MigrationJob
	var started, updated int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+jobCols+` FROM migration_jobs WHERE tenant_id = ? AND connection_name = ?`), tenantID, connection).
		Scan(&j.Tenant, &j.Connection, &j.Status, &j.NextPage, &j.Imported, &j.LegacyTotal, &started, &updated, &j.Error)
	if err != nil {
		return MigrationJob{}, s.fail("get migration job", err, ErrConflict)
	}
	j.StartedAt, j.UpdatedAt = goTime(started), goTime(updated)
	return j, nil
}

func (s *sqlStore) PutMigrationJob(ctx context.Context, j MigrationJob) (MigrationJob, error) {
	switch {
	case j.Tenant == "":
		return MigrationJob{}, invalid("tenant", "is empty")
	case j.Connection == "":
		return MigrationJob{}, invalid("connection", "is empty")
	case j.Status == "":
		return MigrationJob{}, invalid("status", "is empty")
	}
	j.UpdatedAt = s.now()
	j.StartedAt = j.StartedAt.UTC().Truncate(time.Microsecond)
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO migration_jobs (`+jobCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (tenant_id, connection_name) DO UPDATE SET status = excluded.status, next_page = excluded.next_page,
			imported = excluded.imported, legacy_total = excluded.legacy_total, started_at = excluded.started_at,
			updated_at = excluded.updated_at, error = excluded.error`),
		j.Tenant, j.Connection, j.Status, j.NextPage, j.Imported, j.LegacyTotal, dbTime(j.StartedAt), dbTime(j.UpdatedAt), j.Error)
	if err != nil {
		return MigrationJob{}, s.fail("put migration job", err, ErrConflict)
	}
	return j, nil
}
