package store_test

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/store"
)

// TestClusterStoreContract runs the membership and shared-pool contract
// on both dialects.
func TestClusterStoreContract(t *testing.T) {
	t.Parallel()
	for _, b := range []struct {
		name string
		open backend
	}{{"sqlite", sqliteBackend}, {"postgres", postgresBackend}} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			runClusterContract(t, b.open)
		})
	}
}

func runClusterContract(t *testing.T, fresh backend) {
	ctx := context.Background()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		run  func(t *testing.T, s store.Store)
	}{
		{"Membership", func(t *testing.T, s store.Store) {
			if got := must(s.LiveNodes(ctx, t0))(t); len(got) != 0 {
				t.Fatalf("live nodes of an empty store = %v", got)
			}
			for _, hb := range []struct {
				id string
				at time.Duration
			}{{"nd_b", 0}, {"nd_a", time.Second}, {"nd_c", 2 * time.Second}, {"nd_b", 3 * time.Second}} {
				if err := s.Heartbeat(ctx, hb.id, t0.Add(hb.at)); err != nil {
					t.Fatal(err)
				}
			}
			wantNodes := func(since time.Duration, want ...string) {
				t.Helper()
				if got := must(s.LiveNodes(ctx, t0.Add(since)))(t); !reflect.DeepEqual(got, want) {
					t.Fatalf("live since +%v = %v, want %v", since, got, want)
				}
			}
			wantNodes(0, "nd_a", "nd_b", "nd_c")
			wantNodes(time.Second, "nd_a", "nd_b", "nd_c") // seen at the instant counts
			wantNodes(1500*time.Millisecond, "nd_b", "nd_c")
			wantNodes(3*time.Second, "nd_b") // nd_b's second heartbeat moved it on
			noErr(t, s.LeaveNode(ctx, "nd_c"))
			wantNodes(0, "nd_a", "nd_b")
			if n := must(s.PruneNodes(ctx, t0.Add(2*time.Second)))(t); n != 1 {
				t.Fatalf("pruned %d nodes, want 1 (nd_a)", n)
			}
			wantNodes(0, "nd_b")
			wantValidation(t, s.Heartbeat(ctx, "", t0), "nodeID")
		}},
		{"Slots", func(t *testing.T, s store.Store) {
			for _, id := range []string{"nd_a", "nd_b"} {
				noErr(t, s.Heartbeat(ctx, id, t0))
			}
			lease := func(tenant, node, id string, capacity int, at time.Duration) store.SlotLease {
				return store.SlotLease{Tenant: tenant, Capacity: capacity, Node: node, ID: id,
					Now: t0.Add(at), LiveSince: t0.Add(at - 5*time.Second), Expires: t0.Add(at + time.Minute)}
			}
			steps := []struct {
				l    store.SlotLease
				want bool
			}{
				{lease("tn_1", "nd_a", "l1", 2, 0), true},
				{lease("tn_1", "nd_b", "l2", 2, 0), true},
				{lease("tn_1", "nd_b", "l3", 2, 0), false}, // both held
				{lease("tn_2", "nd_b", "l4", 2, 0), true},  // tenants have their own pools
				{lease("tn_1", "nd_b", "l5", 3, 0), true},  // a larger capacity has a free slot
				{lease("tn_1", "nd_a", "l6", 0, 0), false},
			}
			for i, st := range steps {
				if got := must(s.AcquireQuotaSlot(ctx, st.l))(t); got != st.want {
					t.Fatalf("step %d (%s): acquired %v, want %v", i, st.l.ID, got, st.want)
				}
			}
			noErr(t, s.ReleaseQuotaSlot(ctx, "tn_1", "l2"))
			noErr(t, s.ReleaseQuotaSlot(ctx, "tn_1", "l2")) // twice is nothing
			if !must(s.AcquireQuotaSlot(ctx, lease("tn_1", "nd_a", "l7", 2, 0)))(t) {
				t.Fatal("a released slot is not free")
			}
			if must(s.AcquireQuotaSlot(ctx, lease("tn_1", "nd_a", "l8", 2, 0)))(t) {
				t.Fatal("acquired a third slot of two")
			}
			// nd_b stops heartbeating; nd_a goes on. At +10s nd_b's
			// leases (l4, l5) are stale, nd_a's (l1, l7) are not.
			noErr(t, s.Heartbeat(ctx, "nd_a", t0.Add(10*time.Second)))
			if must(s.AcquireQuotaSlot(ctx, lease("tn_1", "nd_a", "l9", 2, 10*time.Second)))(t) {
				t.Fatal("took a slot of a live node")
			}
			if !must(s.AcquireQuotaSlot(ctx, lease("tn_2", "nd_a", "l10", 1, 10*time.Second)))(t) {
				t.Fatal("the slot of a dead node was not taken over")
			}
			// An expired lease is free even when its node lives.
			noErr(t, s.Heartbeat(ctx, "nd_a", t0.Add(2*time.Minute)))
			if !must(s.AcquireQuotaSlot(ctx, lease("tn_1", "nd_a", "l11", 2, 2*time.Minute)))(t) {
				t.Fatal("an expired lease was not taken over")
			}
			// The taken-over lease's release frees nothing of the new one.
			noErr(t, s.ReleaseQuotaSlot(ctx, "tn_2", "l4"))
			if must(s.AcquireQuotaSlot(ctx, lease("tn_2", "nd_a", "l12", 1, 10*time.Second)))(t) {
				t.Fatal("releasing a taken-over lease freed its successor")
			}
			// Leaving frees the node's leases.
			noErr(t, s.LeaveNode(ctx, "nd_a"))
			noErr(t, s.Heartbeat(ctx, "nd_b", t0.Add(10*time.Second)))
			if !must(s.AcquireQuotaSlot(ctx, lease("tn_2", "nd_b", "l13", 1, 10*time.Second)))(t) {
				t.Fatal("a node that left still holds its slot")
			}
		}},
		{"SlotsRace", func(t *testing.T, s store.Store) {
			// Eight goroutines race for three slots: exactly three win.
			noErr(t, s.Heartbeat(ctx, "nd_a", t0))
			var mu sync.Mutex
			won := 0
			var wg sync.WaitGroup
			for i := range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := s.AcquireQuotaSlot(ctx, store.SlotLease{Tenant: "tn_race", Capacity: 3, Node: "nd_a", ID: fmt.Sprint("r", i),
						Now: t0, LiveSince: t0, Expires: t0.Add(time.Minute)})
					if err != nil {
						t.Error(err)
					}
					mu.Lock()
					if ok {
						won++
					}
					mu.Unlock()
				}()
			}
			wg.Wait()
			if won != 3 {
				t.Fatalf("%d of 8 racing acquires won 3 slots", won)
			}
		}},
		{"Rate", func(t *testing.T, s store.Store) {
			// 2 calls per minute: a burst of 2, then one per 30s.
			steps := []struct {
				tenant string
				at     time.Duration
				ok     bool
				retry  time.Duration
			}{
				{"tn_1", 0, true, 0},
				{"tn_1", 0, true, 0},
				{"tn_1", 0, false, 30 * time.Second},
				{"tn_2", 0, true, 0}, // another tenant's bucket
				{"tn_1", 10 * time.Second, false, 20 * time.Second},
				{"tn_1", 30 * time.Second, true, 0},
				{"tn_1", 30 * time.Second, false, 30 * time.Second},
				{"tn_1", 3 * time.Minute, true, 0}, // idle: full again
				{"tn_1", 3 * time.Minute, true, 0},
				{"tn_1", 3 * time.Minute, false, 30 * time.Second},
			}
			for i, st := range steps {
				ok, retry, err := s.TakeQuotaToken(ctx, st.tenant, 2, t0.Add(st.at))
				if err != nil {
					t.Fatal(err)
				}
				if ok != st.ok || retry != st.retry {
					t.Fatalf("step %d: ok %v retry %v, want %v %v", i, ok, retry, st.ok, st.retry)
				}
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.run(t, fresh(t)(t, testKey))
		})
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}
