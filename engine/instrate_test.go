package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestInstanceRateHoldsUnderConcurrency: many calls of one tenant, each
// losing the instance it waited for, get new instances at the rate, not
// faster: a loss never gives back places other waiting calls took. Each
// pass takes a place (or, out of debt, its loss adds one), and timers
// never fire early, so the count is bounded whatever the machine's load:
// the window's places, the burst, and one start per caller at first.
func TestInstanceRateHoldsUnderConcurrency(t *testing.T) {
	const callers = 32
	r := newInstanceRate(100, 1) // one every 10ms
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	deadline := time.Now().Add(time.Hour)
	start := time.Now()
	var passes atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r.wait(ctx, nil, "t", deadline) {
				passes.Add(1)
				r.lost("t")
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	if bound := int64(elapsed/r.every) + 1 + callers + 2; passes.Load() > bound {
		t.Errorf("%d new instances in %v at 100 a second (burst 1, %d callers), want at most %d", passes.Load(), elapsed.Round(time.Millisecond), callers, bound)
	}
}
