package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

// TestPostgresConcurrentCallWriters: two nodes' call-log writers append
// batches touching the same connections at once, each batch in its own
// order; none fails (no deadlock between their trims) and every
// connection ends within its bound.
func TestPostgresConcurrentCallWriters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testpg.Schema(t, "store_test")
	var nodes []store.Store
	for range 2 {
		s, err := store.OpenPostgres(ctx, dsn, testKey)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes = append(nodes, s)
	}
	a := newTenant(t, ctx, nodes[0], "acme")
	var conns []string
	for i := range 8 {
		conns = append(conns, fmt.Sprintf("c%d", i))
		must(nodes[0].PutConnection(ctx, pgConn(a.ID, conns[i])))(t)
	}
	bounds := store.CallBounds{MaxCalls: 5, MaxBytes: 1 << 20}
	const batches = 20
	var wg sync.WaitGroup
	errs := make(chan error, 2*batches)
	for n, s := range nodes {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(n), 7))
			for b := range batches {
				var batch []store.Call
				for _, c := range conns {
					for k := range 3 {
						batch = append(batch, store.Call{Tenant: a.ID, Connection: c, Time: time.Now(), Function: "login",
							RequestID: fmt.Sprintf("n%d-b%d-%d", n, b, k), Outcome: "ok", Record: []byte(`{"n":1}`)})
					}
				}
				r.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
				if _, err := s.AppendCalls(ctx, batch, bounds); err != nil {
					errs <- fmt.Errorf("node %d batch %d: %w", n, b, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, c := range conns {
		if got := must(nodes[0].ListCalls(ctx, a.ID, c, store.CallQuery{Limit: 100}))(t); len(got) != bounds.MaxCalls {
			t.Errorf("%s keeps %d calls, want %d", c, len(got), bounds.MaxCalls)
		}
		// The tallies on the connection's row are the log's.
		var n, bytes, realN, realBytes int64
		if err := db.QueryRowContext(ctx, `SELECT call_count, call_bytes, (SELECT COUNT(*) FROM call_log l WHERE l.tenant_id = c.tenant_id AND l.connection_name = c.name),
			(SELECT COALESCE(SUM(size), 0) FROM call_log l WHERE l.tenant_id = c.tenant_id AND l.connection_name = c.name)
			FROM connections c WHERE tenant_id = $1 AND name = $2`, a.ID, c).Scan(&n, &bytes, &realN, &realBytes); err != nil {
			t.Fatal(err)
		}
		if n != realN || bytes != realBytes {
			t.Errorf("%s: tallies %d calls, %d bytes; the log holds %d, %d", c, n, bytes, realN, realBytes)
		}
	}
}
