package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// instanceRate bounds how fast each tenant may lose instances on this
// node: a pooled instance serves call after call, but a call that traps,
// runs out of stack or memory, times out or is canceled takes its
// instance with it, and the next call pays for a new one outside any
// quota: instantiating, the megabytes of stack and memory the last one
// grew, the collector's work to take them back, on every core. Each lost
// instance is charged to its tenant's bucket (kept as GCRA's theoretical
// arrival time), which drains at one every `every` and holds burst; a
// call that needs a new instance while its tenant's bucket is over full
// waits until it is not, or ends as a timeout at its deadline, holding
// only its own tenant's concurrency (RATIONALE.md, "Fair CPU between
// tenants"). Instances the engine closes itself (idle, the node's memory
// budget, eviction), starts the node's memory budget refuses without
// having closed idle instances to try, and cold starts are not charged:
// no other tenant can spend this one's bucket.
type instanceRate struct {
	every time.Duration
	burst time.Duration // every * burst

	mu  sync.Mutex
	tat map[string]time.Time // when the tenant's bucket is empty again

	waited, refused atomic.Int64 // calls that waited, that could not wait long enough
}

// Bounds of Config.InstanceRate and InstanceBurst, so the bucket's
// durations cannot overflow.
const (
	minInstanceRate  = 0.001
	maxInstanceRate  = 1e6
	maxInstanceBurst = 1_000_000
)

func newInstanceRate(perSecond float64, burst int) *instanceRate {
	perSecond = min(max(perSecond, minInstanceRate), maxInstanceRate)
	burst = min(max(burst, 1), maxInstanceBurst)
	every := time.Duration(float64(time.Second) / perSecond)
	return &instanceRate{every: every, burst: every * time.Duration(burst), tat: map[string]time.Time{}}
}

// lost charges one instance lost by a call of tenant's. A loss adds
// debt up to twice the burst, so one wave of failures (at a concurrency
// of hundreds) cannot shut the tenant out for long once its connector is
// fixed; it never takes back places that waiting calls took (see wait),
// or the losses of many waiters would let them all start early.
func (r *instanceRate) lost(tenant string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	tat := r.next(tenant, now)
	if limit := now.Add(2 * r.burst); tat.After(limit) {
		tat = limit
	}
	if old := r.tat[tenant]; tat.After(old) {
		r.tat[tenant] = tat
	}
}

// next is tenant's bucket after one more instance. Call with mu held.
func (r *instanceRate) next(tenant string, now time.Time) time.Time {
	tat := r.tat[tenant]
	if tat.Before(now) {
		tat = now
	}
	return tat.Add(r.every)
}

// wait is called before a new instance is made for tenant: it returns at
// once unless the tenant has lost more instances than its burst and the
// rate allow. Then the call takes the next place in the bucket (so calls
// that wait together go one every `every`, not all at once when the
// debt clears) and waits for it. It reports false when its place would
// come after the deadline (it then sleeps until the deadline, taking no
// place), or when ctx ends or stop is closed meanwhile.
func (r *instanceRate) wait(ctx context.Context, stop <-chan struct{}, tenant string, deadline time.Time) bool {
	now := time.Now()
	r.mu.Lock()
	tat, ok := r.tat[tenant]
	at := tat.Add(-r.burst) // when the bucket has room again
	if !ok || !at.After(now) {
		r.mu.Unlock()
		return true
	}
	if at.After(deadline) {
		r.mu.Unlock()
		r.refused.Add(1)
		sleepUntil(ctx, stop, deadline)
		return false
	}
	r.tat[tenant] = r.next(tenant, now) // this call's place
	r.mu.Unlock()
	r.waited.Add(1)
	return sleepUntil(ctx, stop, at)
}

// forget drops the tenants whose buckets are empty.
func (r *instanceRate) forget(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for t, tat := range r.tat {
		if tat.Before(now) {
			delete(r.tat, t)
		}
	}
}

// sleepUntil reports false when ctx ended or stop was closed first.
func sleepUntil(ctx context.Context, stop <-chan struct{}, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-stop:
		return false
	}
}
