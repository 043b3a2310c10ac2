package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
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

// recountEvery: one AppendCalls transaction in recountEvery counts its
// connections' calls again from the log rather than trusting their
// tallies, so tallies that drifted (calls written by a node of an older
// version during a rolling upgrade, which keeps no tallies; rows edited
// by hand) are right again within recountEvery batches.
const recountEvery = 32

// appendCalls is one attempt of AppendCalls: one transaction. It first
// locks the rows of the connections the batch touches, in one order
// (tenant, then name). That finds the connections deleted since (their
// calls are skipped rather than failing the batch on the foreign key);
// it reads each connection's count and bytes of calls, kept on its row,
// so the bounds are checked without reading the log; and it serializes
// two nodes' writers per connection, so neither trims without seeing the
// other's calls (two trims that each saw only their own would leave the
// connection over its bound) and a connection's ids are committed in
// order (the live tail reads "after id"). On PostgreSQL the lock is FOR
// NO KEY UPDATE: it does not hold up the foreign-key checks of other
// inserts naming the connection (users, versions, jobs).
func (s *sqlStore) appendCalls(ctx context.Context, calls []Call, b CallBounds) (int, error) {
	type key struct{ tenant, conn string }
	type tally struct {
		key
		count, bytes int64
	}
	var keys []key
	for _, c := range calls {
		if k := (key{c.Tenant, c.Connection}); !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(x, y key) int { return cmp.Or(cmp.Compare(x.tenant, y.tenant), cmp.Compare(x.conn, y.conn)) })
	recount := s.callBatches.Add(1)%recountEvery == 0
	added := 0
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		added = 0
		var live []tally
		for _, k := range keys {
			t := tally{key: k}
			err := tx.QueryRowContext(ctx, s.d.q(`SELECT call_count, call_bytes FROM connections WHERE tenant_id = ? AND name = ?`+s.d.forNoKeyUpdate),
				k.tenant, k.conn).Scan(&t.count, &t.bytes)
			if err == nil && recount {
				err = tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*), COALESCE(SUM(size), 0) FROM call_log WHERE tenant_id = ? AND connection_name = ?`),
					k.tenant, k.conn).Scan(&t.count, &t.bytes)
			}
			switch {
			case errors.Is(err, sql.ErrNoRows):
			case err != nil:
				return err
			default:
				live = append(live, t)
			}
		}
		var rows []Call
		for _, c := range calls {
			if i := slices.IndexFunc(live, func(t tally) bool { return t.key == key{c.Tenant, c.Connection} }); i >= 0 {
				rows = append(rows, c)
				live[i].count++
				live[i].bytes += int64(len(c.Record))
			}
		}
		if err := s.insertCalls(ctx, tx, rows); err != nil {
			return err
		}
		added = len(rows)
		for _, t := range live {
			count, bytes, err := s.trimCalls(ctx, tx, t.tenant, t.conn, t.count, t.bytes, b)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE connections SET call_count = ?, call_bytes = ? WHERE tenant_id = ? AND name = ?`),
				count, bytes, t.tenant, t.conn); err != nil {
				return err
			}
		}
		return nil
	})
	return added, err
}

// insertCalls writes calls in their order with one prepared INSERT (a
// multi-row INSERT cost the embedded store more to parse than it saved).
func (s *sqlStore) insertCalls(ctx context.Context, tx *sql.Tx, calls []Call) error {
	ins, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO call_log (tenant_id, connection_name, at, function_name, request_id, outcome, code, size, record)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, c := range calls {
		if _, err := ins.ExecContext(ctx, c.Tenant, c.Connection, dbTime(c.Time), c.Function, c.RequestID, c.Outcome, c.Code,
			int64(len(c.Record)), string(c.Record)); err != nil {
			return err
		}
	}
	return nil
}

// trimPage is the fewest calls trimCalls reads at a time.
const trimPage = 32

// trimCalls drops a connection holding count calls of bytes bytes down
// to b, oldest first, and returns what it keeps. It reads the oldest
// calls a page at a time, a page about as long as the calls the count
// bound drops: checking the bounds by reading every call of every
// touched connection in every batch (an OFFSET and a window sum) cost the
// embedded store ~0.15 ms a call.
func (s *sqlStore) trimCalls(ctx context.Context, tx *sql.Tx, tenantID, connection string, count, bytes int64, b CallBounds) (int64, int64, error) {
	over := func() bool {
		return (b.MaxCalls > 0 && count > int64(b.MaxCalls)) || (b.MaxBytes > 0 && bytes > b.MaxBytes)
	}
	var cut int64 // the newest call dropped
	for over() {
		page := int64(trimPage)
		if b.MaxCalls > 0 {
			page = max(page, count-int64(b.MaxCalls))
		}
		n, err := s.trimPage(ctx, tx, tenantID, connection, &cut, page, func(size int64) bool {
			if !over() {
				return false
			}
			count, bytes = count-1, bytes-size
			return true
		})
		if err != nil {
			return 0, 0, err
		}
		if n == 0 { // no call left: the tallies were above the log's
			count, bytes = 0, 0
		}
	}
	if cut > 0 {
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM call_log WHERE tenant_id = ? AND connection_name = ? AND id <= ?`),
			tenantID, connection, cut); err != nil {
			return 0, 0, err
		}
	}
	return max(count, 0), max(bytes, 0), nil
}

// trimPage reads up to page calls after *cut, oldest first, and hands
// each one's size to drop until it answers false, moving *cut to the
// last dropped. It returns how many calls it read.
func (s *sqlStore) trimPage(ctx context.Context, tx *sql.Tx, tenantID, connection string, cut *int64, page int64, drop func(size int64) bool) (int, error) {
	rows, err := tx.QueryContext(ctx, s.d.q(`SELECT id, size FROM call_log WHERE tenant_id = ? AND connection_name = ? AND id > ? ORDER BY id LIMIT ?`),
		tenantID, connection, *cut, page)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
		var id, size int64
		if err := rows.Scan(&id, &size); err != nil {
			return n, err
		}
		if !drop(size) {
			break
		}
		*cut = id
	}
	return n, rows.Err()
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
