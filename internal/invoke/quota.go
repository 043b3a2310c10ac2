package invoke

import (
	"sync"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
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

// maxLimiterTenants is how many tenants the limiter holds before it drops
// the idle ones whose bucket is full again.
const maxLimiterTenants = 10000

func newLimiter() *limiter { return &limiter{tenants: map[string]*tenantLimit{}} }

// acquire admits one call of tenant under q at now. It returns a release
// func, or a *QuotaError saying which quota refused it and when to retry.
func (l *limiter) acquire(tenant string, q store.Quotas, now time.Time) (release func(), err *QuotaError) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tl, ok := l.tenants[tenant]
	if !ok {
		if len(l.tenants) > maxLimiterTenants {
			l.prune(now)
		}
		tl = &tenantLimit{}
		l.tenants[tenant] = tl
	}
	if q.MaxConcurrency > 0 && tl.inflight >= q.MaxConcurrency {
		return nil, &QuotaError{Reason: ReasonConcurrency, Limit: q.MaxConcurrency, RetryAfter: time.Second}
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
			return nil, &QuotaError{Reason: ReasonRate, Limit: q.CallsPerMinute, RetryAfter: over}
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
	}, nil
}

// prune drops idle tenants whose bucket is full again. l.mu is held.
func (l *limiter) prune(now time.Time) {
	for id, tl := range l.tenants {
		if tl.inflight == 0 && tl.tat.Before(now) {
			delete(l.tenants, id)
		}
	}
}

// quotaLimits returns the engine limits of a call under quotas q: base
// with the memory, timeout, instance, host-call and CPU fields taken from
// q (cpuMsPerMinute 0 is unlimited, whatever base says).
func quotaLimits(base engine.Limits, q store.Quotas) engine.Limits {
	l := base
	if q.MemoryMB > 0 {
		l.MemoryBytes = uint64(q.MemoryMB) << 20
	}
	if q.TimeoutMs > 0 {
		l.Timeout = time.Duration(q.TimeoutMs) * time.Millisecond
	}
	if q.MaxConcurrency > 0 {
		l.MaxInstances = q.MaxConcurrency
	}
	if q.MaxHostCalls > 0 {
		l.MaxHostCalls = q.MaxHostCalls
	}
	l.CPUPerMinute = time.Duration(q.CPUMsPerMinute) * time.Millisecond // 0: unlimited
	return l
}
