package api

import (
	"sync"
	"time"

	"github.com/sluice-dev/sluice/store"
)

// Reasons of a quota rejection (metric label).
const (
	reasonConcurrency = "concurrency"
	reasonRate        = "rate"
)

// limiter enforces the per-tenant concurrency and rate quotas of this
// node. Quotas are passed on every acquire (read with the tenant at
// authentication), so a change applies to the next call.
//
// Concurrency is a non-blocking counting semaphore. The rate is GCRA
// (a token bucket of callsPerMinute tokens refilled evenly over a
// minute): a burst of callsPerMinute calls passes, then one call every
// minute/callsPerMinute.
type limiter struct {
	mu      sync.Mutex
	tenants map[string]*tenantLimit
}

type tenantLimit struct {
	inflight int
	cpm      int       // the callsPerMinute tat was computed under
	tat      time.Time // GCRA's theoretical arrival time
}

func newLimiter() *limiter { return &limiter{tenants: map[string]*tenantLimit{}} }

// acquire admits one call of tenant under q at now. It returns a release
// func, or nil with the reason and how long to wait before retrying.
func (l *limiter) acquire(tenant string, q store.Quotas, now time.Time) (release func(), reason string, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tl, ok := l.tenants[tenant]
	if !ok {
		if len(l.tenants) > 10000 {
			l.prune(now)
		}
		tl = &tenantLimit{}
		l.tenants[tenant] = tl
	}
	if q.MaxConcurrency > 0 && tl.inflight >= q.MaxConcurrency {
		return nil, reasonConcurrency, time.Second
	}
	if q.CallsPerMinute > 0 {
		if tl.cpm != q.CallsPerMinute { // a changed quota starts with a full bucket
			tl.cpm, tl.tat = q.CallsPerMinute, time.Time{}
		}
		interval := time.Minute / time.Duration(q.CallsPerMinute)
		tat := tl.tat
		if tat.Before(now) {
			tat = now
		}
		next := tat.Add(interval)
		if over := next.Sub(now) - time.Minute; over > 0 {
			return nil, reasonRate, over
		}
		tl.tat = next
	}
	tl.inflight++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			tl.inflight--
			l.mu.Unlock()
		})
	}, "", 0
}

// prune drops idle tenants whose bucket is full again. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for id, tl := range l.tenants {
		if tl.inflight == 0 && tl.tat.Before(now) {
			delete(l.tenants, id)
		}
	}
}
