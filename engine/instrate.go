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
// budget, eviction) and cold starts are not charged: no other tenant can
// spend this one's bucket.
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

// lost charges one instance lost by a call of tenant's.
func (r *instanceRate) lost(tenant string) {
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	tat := r.tat[tenant]
	if tat.Before(now) {
		tat = now
	}
	r.tat[tenant] = tat.Add(r.every)
}

// wait is called before a new instance is made for tenant: it returns at
// once unless the tenant has lost more instances than its burst and the
// rate allow, and then waits until it has not. It reports false when
// the deadline would come first (it then sleeps until the deadline), or
// when ctx ends or stop is closed meanwhile.
func (r *instanceRate) wait(ctx context.Context, stop <-chan struct{}, tenant string, deadline time.Time) bool {
	r.mu.Lock()
	tat, ok := r.tat[tenant]
	r.mu.Unlock()
	if !ok {
		return true
	}
	at := tat.Add(-r.burst)
	if !at.After(time.Now()) {
		return true
	}
	if at.After(deadline) {
		r.refused.Add(1)
		sleepUntil(ctx, stop, deadline)
		return false
	}
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
