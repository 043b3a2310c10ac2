package invoke

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

// TestAdmitShare: three nodes (a limiter and a Membership each) on one
// PostgreSQL store admit a tenant's quotas in total: their own shares
// in memory and the remainder through the store's shared pools.
func TestAdmitShare(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testpg.Schema(t, "admit")
	type node struct {
		l *limiter
		m *cluster.Membership
	}
	var nodes []node
	for range 3 {
		st, err := store.OpenPostgres(ctx, dsn, make([]byte, 32))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		m, err := cluster.Join(ctx, cluster.Config{Store: st, Heartbeat: 50 * time.Millisecond, TTL: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Leave(ctx) })
		nodes = append(nodes, node{newLimiter(), m})
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		// Joins are in transition for two heartbeats: wait for the
		// steady shares (62 on 3 nodes: 20 each, a pool of 2).
		for l, s := n.m.Split(62); l != 20 || s != 2; l, s = n.m.Split(62) {
			if time.Now().After(deadline) {
				t.Fatal("the nodes did not see each other")
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	tests := []struct {
		name   string
		q      store.Quotas
		calls  int // round robin over the nodes, none released
		want   int
		reason Reason
	}{
		{"concurrency below the node count: all through the store", store.Quotas{MaxConcurrency: 2}, 9, 2, ReasonConcurrency},
		{"concurrency with a remainder", store.Quotas{MaxConcurrency: 5}, 15, 5, ReasonConcurrency},
		{"even concurrency", store.Quotas{MaxConcurrency: 6}, 15, 6, ReasonConcurrency},
		{"rate with a remainder", store.Quotas{CallsPerMinute: 62}, 120, 62, ReasonRate},
		{"rate below the node count", store.Quotas{CallsPerMinute: 2}, 9, 2, ReasonRate},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pools := &poolCount{}
			tenant := store.Tenant{ID: "tn_" + string(rune('a'+i)), Quotas: tt.q}
			admitted := 0
			var releases []func()
			for c := range tt.calls {
				n := nodes[c%len(nodes)]
				release, err := admitShare(ctx, n.l, n.m, tenant, time.Now, pools.observe)
				var qe *QuotaError
				switch {
				case err == nil:
					admitted++
					releases = append(releases, release)
				case errors.As(err, &qe):
					if qe.Reason != tt.reason {
						t.Fatalf("call %d refused by %s, want %s", c, qe.Reason, tt.reason)
					}
				default:
					t.Fatal(err)
				}
			}
			if admitted != tt.want {
				t.Fatalf("admitted %d of %d calls, want %d", admitted, tt.calls, tt.want)
			}
			// Every call past a node's share asked the pool, if there is
			// one, and the pool gave exactly its remainder.
			local, shared := nodes[0].m.Split(limit(tt.q))
			asked := tt.calls - len(nodes)*local
			if shared == 0 {
				asked = 0
			}
			if pools.taken != shared || pools.taken+pools.full != asked {
				t.Fatalf("pool: %d taken, %d full; want %d taken of %d", pools.taken, pools.full, shared, asked)
			}
			for _, r := range releases {
				r()
			}
			if tt.q.MaxConcurrency > 0 {
				// Released, the slots are free again on every node.
				again := 0
				for c := range tt.calls {
					n := nodes[c%len(nodes)]
					if release, err := admitShare(ctx, n.l, n.m, tenant, time.Now, pools.observe); err == nil {
						again++
						defer release()
					}
				}
				if again != tt.want {
					t.Fatalf("after the releases %d calls were admitted, want %d", again, tt.want)
				}
			}
		})
	}
}

// poolCount counts the uses of the shared pools.
type poolCount struct{ taken, full int }

func (p *poolCount) observe(_ Reason, outcome string) {
	switch outcome {
	case "taken":
		p.taken++
	case "full":
		p.full++
	}
}

func limit(q store.Quotas) int { return max(q.MaxConcurrency, q.CallsPerMinute) }
