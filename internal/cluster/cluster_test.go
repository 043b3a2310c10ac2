package cluster_test

import (
	"context"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/cluster"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		name          string
		total         int
		nodes         []int
		local, shared int
	}{
		{"one node enforces it all", 60, []int{1}, 60, 0},
		{"even", 60, []int{3}, 20, 0},
		{"a remainder is shared", 62, []int{3}, 20, 2},
		{"fewer units than nodes: all shared", 2, []int{3}, 0, 2},
		{"one unit", 1, []int{5}, 0, 1},
		{"no quota", 0, []int{3}, 0, 0},
		{"fenced", 60, []int{0}, 0, 0},
		{"no view", 60, nil, 0, 0},
		{"a change: the largest size's share, the smallest remainder", 8, []int{2, 3}, 2, 0},
		{"a change of a small quota", 2, []int{3, 2}, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			local, shared := cluster.Split(tt.total, tt.nodes...)
			if local != tt.local || shared != tt.shared {
				t.Fatalf("Split(%d, %v) = %d, %d; want %d, %d", tt.total, tt.nodes, local, shared, tt.local, tt.shared)
			}
		})
	}
}

// TestSplitAddsUp: in a steady cluster the shares and the pool are the
// quota exactly; while a node joins or leaves, every mix of nodes on the
// old size, in transition and on the new size stays within it. (Nodes
// on the old size and on the new one never meet: a node is in
// transition for two heartbeats after it saw the change, by when every
// node has seen it; a joining node serves only after a heartbeat.)
func TestSplitAddsUp(t *testing.T) {
	// within reports the most units nodes in states may hold together:
	// their own shares and the shared pool, whose slots count against
	// every node and which the node with the largest pool can fill.
	within := func(total int, states [][]int) int {
		sum, pool := 0, 0
		for _, sizes := range states {
			local, shared := cluster.Split(total, sizes...)
			sum += local
			pool = max(pool, shared)
		}
		return sum + pool
	}
	for total := 1; total <= 64; total++ {
		for n := 1; n <= 7; n++ {
			steady := make([][]int, n)
			for i := range steady {
				steady[i] = []int{n}
			}
			if got := within(total, steady); got != total {
				t.Fatalf("quota %d on %d nodes: shares add up to %d", total, n, got)
			}
			// A leave from n+1 to n, a join from n to n+1.
			for _, ch := range []struct {
				name     string
				old, new int
			}{{"leave", n + 1, n}, {"join", n, n + 1}} {
				old, trans, nw := []int{ch.old}, []int{ch.old, ch.new}, []int{ch.new}
				// Each phase: the serving nodes, k of them in state a and
				// the others in state b, plus fixed nodes.
				type phase struct {
					serving int
					a, b    []int
					fixed   [][]int
				}
				phases := []phase{
					{n, old, trans, nil}, // the n that stay or the n already there
					{n, trans, nw, nil},
				}
				if ch.name == "join" { // the joiner serves once on the new size
					phases[1].fixed = [][]int{nw}
				}
				for _, ph := range phases {
					for k := 0; k <= ph.serving; k++ {
						states := append([][]int{}, ph.fixed...)
						for i := range ph.serving {
							if i < k {
								states = append(states, ph.a)
							} else {
								states = append(states, ph.b)
							}
						}
						if got := within(total, states); got > total {
							t.Fatalf("quota %d, %s %d→%d, nodes %v: %d > %d", total, ch.name, ch.old, ch.new, states, got, total)
						}
					}
				}
			}
		}
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMembership runs three members on one PostgreSQL store: they see
// each other, a leaving one is gone at the others' next heartbeat, a
// silent one after the TTL, and a member whose heartbeat cannot have
// reached the store in time fences itself off.
func TestMembership(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.OpenPostgres(ctx, testpg.Schema(t, "cluster"), make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	const hb, ttl = 50 * time.Millisecond, 600 * time.Millisecond
	join := func(id string) *cluster.Membership {
		m, err := cluster.Join(ctx, cluster.Config{Store: st, NodeID: id, Heartbeat: hb, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b, c := join("nd_a"), join("nd_b"), join("nd_c")
	t.Cleanup(func() { a.Leave(ctx); b.Leave(ctx) })
	for _, m := range []*cluster.Membership{a, b, c} {
		waitFor(t, m.ID()+" to see three nodes", func() bool { return m.Nodes() == 3 })
	}
	waitFor(t, "the shares to settle", func() bool { l, s := a.Split(62); return l == 20 && s == 2 })

	if err := c.Leave(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see c leave", func() bool { return a.Nodes() == 2 })
	// Just after the change a passes both sizes: 62 on 3 or 2 nodes is
	// at most 20 each (62/3) with the smaller remainder (62%2 = 0).
	if l, s := a.Split(62); l != 20 || s != 0 {
		// The transition may already be over on a slow machine.
		if l != 31 || s != 0 {
			t.Fatalf("split in transition = %d, %d", l, s)
		}
	}
	waitFor(t, "the shares of two nodes", func() bool { l, s := a.Split(62); return l == 31 && s == 0 })

	// A node that dies stops heartbeating without leaving: it counts
	// until its TTL is over.
	last := time.Now()
	if err := st.Heartbeat(ctx, "nd_x", last); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a to see the node that will die", func() bool { return a.Nodes() == 3 })
	waitFor(t, "a to count the dead node gone", func() bool { return a.Nodes() == 2 })
	if gone := time.Since(last); gone < ttl {
		t.Fatalf("the dead node was counted gone %v after its last heartbeat, before its TTL %v", gone, ttl)
	}
}

// TestMembershipFences: a member that cannot refresh its row for the
// TTL minus a heartbeat (the store is gone) takes no share: the others
// may be about to count it gone.
func TestMembershipFences(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := store.OpenSQLite(ctx, t.TempDir()+"/sluice.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	const hb, ttl = 100 * time.Millisecond, 600 * time.Millisecond
	m, err := cluster.Join(ctx, cluster.Config{Store: st, Heartbeat: hb, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	if l, s := m.Split(10); m.Nodes() != 1 || l != 10 || s != 0 {
		t.Fatalf("alone: %d nodes, split %d, %d", m.Nodes(), l, s)
	}
	st.Close()
	closed := time.Now()
	waitFor(t, "the member to fence itself", func() bool { return m.Nodes() == 0 })
	if l, s := m.Split(10); l != 0 || s != 0 {
		t.Fatalf("fenced: split %d, %d", l, s)
	}
	if d := time.Since(closed); d > ttl {
		t.Fatalf("fenced %v after the store went, later than the TTL %v", d, ttl)
	}
	m.Leave(ctx) // fails: the store is closed
}

func TestJoinRefusesATTLShorterThanThreeHeartbeats(t *testing.T) {
	_, err := cluster.Join(context.Background(), cluster.Config{Store: nil})
	if err == nil {
		t.Fatal("joined without a store")
	}
	st, err := store.OpenSQLite(context.Background(), t.TempDir()+"/sluice.db", make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := cluster.Join(context.Background(), cluster.Config{Store: st, Heartbeat: time.Second, TTL: 2 * time.Second}); err == nil {
		t.Fatal("joined with a TTL of two heartbeats")
	}
}
