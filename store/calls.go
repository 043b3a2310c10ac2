package store

import (
	"cmp"
	"context"
	"database/sql"
	"slices"
)

// appendAttempts is how often AppendCalls runs its transaction when it
// loses a deadlock or serialization conflict to another node's writer.
const appendAttempts = 4

// ---- production call log ----

func (s *sqlStore) AppendCalls(ctx context.Context, calls []Call, b CallBounds) (int, error) {
	for _, c := range calls {
		switch {
		case c.Tenant == "":
			return 0, invalid("tenant", "is empty")
		case c.Connection == "":
			return 0, invalid("connection", "is empty")
		case len(c.Record) == 0:
			return 0, invalid("record", "is empty")
		}
	}
	var added int
	var err error
	for attempt := 1; ; attempt++ {
		added, err = s.appendCalls(ctx, calls, b)
		if err == nil || s.d.isRetry == nil || !s.d.isRetry(err) || attempt == appendAttempts || ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		return 0, s.fail("append calls", err, ErrConflict)
	}
	return added, nil
}

// appendCalls is one attempt of AppendCalls: one transaction. It trims
// the connections it touched in one order (tenant, then name), so two
// nodes' writers trimming the same connections wait for each other
// rather than deadlock.
func (s *sqlStore) appendCalls(ctx context.Context, calls []Call, b CallBounds) (int, error) {
	added := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		// INSERT ... SELECT ... WHERE EXISTS skips the calls of a
		// connection deleted since, rather than failing the batch on the
		// foreign key.
		ins, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO call_log (tenant_id, connection_name, at, function_name, request_id, outcome, code, size, record)
			SELECT ?, ?, CAST(? AS BIGINT), ?, ?, ?, ?, CAST(? AS BIGINT), ? WHERE EXISTS (SELECT 1 FROM connections WHERE tenant_id = ? AND name = ?)`))
		if err != nil {
			return err
		}
		defer ins.Close()
		type key struct{ tenant, conn string }
		var touched []key
		for _, c := range calls {
			res, err := ins.ExecContext(ctx, c.Tenant, c.Connection, dbTime(c.Time), c.Function, c.RequestID, c.Outcome, c.Code,
				int64(len(c.Record)), string(c.Record), c.Tenant, c.Connection)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				added++
				if k := (key{c.Tenant, c.Connection}); !slices.Contains(touched, k) {
					touched = append(touched, k)
				}
			}
		}
		slices.SortFunc(touched, func(x, y key) int { return cmp.Or(cmp.Compare(x.tenant, y.tenant), cmp.Compare(x.conn, y.conn)) })
		for _, k := range touched {
			if err := s.trimCalls(ctx, tx, k.tenant, k.conn, b); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// trimCalls drops a connection's oldest calls beyond b.
func (s *sqlStore) trimCalls(ctx context.Context, tx *sql.Tx, tenantID, connection string, b CallBounds) error {
	if b.MaxCalls > 0 {
		// The newest call past the count bound, and every older one.
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM call_log WHERE tenant_id = ? AND connection_name = ? AND id <= COALESCE((
			SELECT id FROM call_log WHERE tenant_id = ? AND connection_name = ? ORDER BY id DESC LIMIT 1 OFFSET ?), 0)`),
			tenantID, connection, tenantID, connection, b.MaxCalls); err != nil {
			return err
		}
	}
	if b.MaxBytes > 0 {
		// The newest call whose running total (newest first) is over the
		// byte bound, and every older one.
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM call_log WHERE tenant_id = ? AND connection_name = ? AND id <= COALESCE((
			SELECT id FROM (SELECT id, SUM(size) OVER (ORDER BY id DESC) AS total FROM call_log WHERE tenant_id = ? AND connection_name = ?) w
			WHERE total > ? ORDER BY id DESC LIMIT 1), 0)`),
			tenantID, connection, tenantID, connection, b.MaxBytes); err != nil {
			return err
		}
	}
	return nil
}

func (s *sqlStore) ListCalls(ctx context.Context, tenantID, connection string, q CallQuery) ([]Call, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 1000)
	query := `SELECT id, tenant_id, connection_name, at, function_name, request_id, outcome, code, record FROM call_log
		WHERE tenant_id = ? AND connection_name = ?`
	args := []any{tenantID, connection}
	for _, f := range []struct{ col, v string }{
		{"function_name", q.Function}, {"outcome", q.Outcome}, {"code", q.Code}, {"request_id", q.RequestID},
	} {
		if f.v != "" {
			query += ` AND ` + f.col + ` = ?`
			args = append(args, f.v)
		}
	}
	order := ` ORDER BY id DESC`
	if q.Before > 0 {
		query += ` AND id < ?`
		args = append(args, q.Before)
	}
	if q.After > 0 {
		query += ` AND id > ?`
		args = append(args, q.After)
	}
	if q.After > 0 || q.Oldest {
		order = ` ORDER BY id`
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query+order+` LIMIT ?`), append(args, limit)...)
	if err != nil {
		return nil, s.fail("list calls", err, ErrConflict)
	}
	defer rows.Close()
	out := []Call{}
	size := 0
	for rows.Next() {
		if q.MaxBytes > 0 && size >= q.MaxBytes {
			break
		}
		var c Call
		var at int64
		var rec string
		if err := rows.Scan(&c.ID, &c.Tenant, &c.Connection, &at, &c.Function, &c.RequestID, &c.Outcome, &c.Code, &rec); err != nil {
			return nil, s.fail("list calls", err, ErrConflict)
		}
		c.Time, c.Record = goTime(at), []byte(rec)
		size += len(rec)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.fail("list calls", err, ErrConflict)
	}
	return out, nil
}
