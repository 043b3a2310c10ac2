package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

// BenchmarkQuotaPool measures the store round trips of the cluster's
// shared quota pools, the cost a call pays when its node's own share is
// used up: a slot acquired and released (two statements) and a rate
// token taken (one). BENCHMARKS.md, "Cluster quotas", has the numbers.
func BenchmarkQuotaPool(b *testing.B) {
	ctx := context.Background()
	for _, be := range []struct {
		name string
		open func(b *testing.B) (store.Store, error)
	}{
		{"sqlite", func(b *testing.B) (store.Store, error) {
			return store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "sluice.db"), testKey)
		}},
		{"postgres", func(b *testing.B) (store.Store, error) {
			return store.OpenPostgres(ctx, testpg.Schema(b, "store_bench"), testKey)
		}},
	} {
		b.Run(be.name, func(b *testing.B) {
			s, err := be.open(b)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			if err := s.Heartbeat(ctx, "nd_a", time.Now()); err != nil {
				b.Fatal(err)
			}
			b.Run("slot", func(b *testing.B) {
				for i := range b.N {
					now := time.Now()
					id := fmt.Sprint("l", i)
					ok, err := s.AcquireQuotaSlot(ctx, store.SlotLease{Tenant: "tn_bench", Capacity: 2, Node: "nd_a", ID: id,
						Now: now, LiveSince: now.Add(-time.Hour), Expires: now.Add(time.Minute)})
					if err != nil || !ok {
						b.Fatalf("acquire: %v %v", ok, err)
					}
					if err := s.ReleaseQuotaSlot(ctx, "tn_bench", id); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("token", func(b *testing.B) {
				for range b.N {
					if _, _, err := s.TakeQuotaToken(ctx, "tn_bench", store.MaxCallsPerMinute, time.Now()); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
