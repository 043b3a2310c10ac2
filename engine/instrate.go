package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// instanceRate bounds how fast each tenant's instances are made on this
// node: a token bucket per tenant (kept as GCRA's theoretical arrival
// time), refilled at one token every `every`, holding burst. A pooled
// instance serves call after call, so a tenant at ease makes few; a
// tenant whose calls trap, run out of stack or memory, or time out loses
// an instance at each one, and the next call pays for a new one outside
// any quota: instantiating, the megabytes of stack and memory the last
// one grew, the collector's work to take them back, on every core. A
// call that would make an instance past the rate waits for its token, or
// ends as a timeout at its deadline, holding only its own tenant's
// concurrency (RATIONALE.md, "Fair CPU between tenants").
type instanceRate struct {
	every time.Duration
	burst time.Duration // every * burst tokens

	mu  sync.Mutex
	tat map[string]time.Time // when the tenant's bucket is full again

	waited, refused atomic.Int64 // calls that waited for a token, that had none in time
}

func newInstanceRate(perSecond float64, burst int) *instanceRate {
	every := time.Duration(float64(time.Second) / perSecond)
	return &instanceRate{every: every, burst: every * time.Duration(burst), tat: map[string]time.Time{}}
}

// take waits for tenant's next token until deadline. It reports false
// when the deadline (or ctx) came first; the token is then not taken.
func (r *instanceRate) take(ctx context.Context, tenant string, deadline time.Time) bool {
	now := time.Now()
	r.mu.Lock()
	tat := r.tat[tenant]
	if tat.Before(now) {
		tat = now
	}
	tat = tat.Add(r.every)
	at := tat.Add(-r.burst) // the token's time
	if at.After(deadline) {
		r.mu.Unlock()
		r.refused.Add(1)
		sleepUntil(ctx, deadline)
		return false
	}
	r.tat[tenant] = tat
	r.mu.Unlock()
	if !at.After(now) {
		return true
	}
	r.waited.Add(1)
	return sleepUntil(ctx, at)
}

// forget drops the tenants whose buckets are full.
func (r *instanceRate) forget(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for t, tat := range r.tat {
		if tat.Before(now) {
			delete(r.tat, t)
		}
	}
}

// sleepUntil reports false when ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
