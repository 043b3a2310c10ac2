package invoke

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// limiter enforces the per-tenant concurrency and rate quotas of this
// node, or this node's share of them in a cluster. Quotas are passed on
// every acquire (read with the tenant at authentication), so a change
// applies to the next call. It has no clock of its own and does no I/O.
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
	cpm      int       // the tenant's callsPerMinute the bucket was filled under
	rate     int       // the bucket's size and refill per minute: cpm, or this node's share of it
	tat      time.Time // GCRA's theoretical arrival time
}

// maxLimiterTenants is how many tenants the limiter holds before it drops
// the idle ones whose bucket is full again.
const maxLimiterTenants = 10000

func newLimiter() *limiter { return &limiter{tenants: map[string]*tenantLimit{}} }

// acquire admits one call of tenant under the whole quotas q at now. It
// returns a release func, or a *QuotaError saying which quota refused it
// and when to retry. A call refused by concurrency takes no rate token.
func (l *limiter) acquire(tenant string, q store.Quotas, now time.Time) (release func(), err *QuotaError) {
	n := q.MaxConcurrency
	if n <= 0 {
		n = math.MaxInt // unlimited, but counted
	}
	release, ok := l.slot(tenant, n, now)
	if !ok {
		return nil, &QuotaError{Reason: ReasonConcurrency, Limit: q.MaxConcurrency, RetryAfter: time.Second}
	}
	if q.CallsPerMinute > 0 {
		if ok, retry := l.token(tenant, q.CallsPerMinute, q.CallsPerMinute, now); !ok {
			release()
			return nil, &QuotaError{Reason: ReasonRate, Limit: q.CallsPerMinute, RetryAfter: retry}
		}
	}
	return release, nil
}

// slot takes one of n concurrency slots of tenant at now (n may be 0:
// none), returning its release func, which frees it once however often
// called.
func (l *limiter) slot(tenant string, n int, now time.Time) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tl := l.tenant(tenant, now)
	if tl.inflight >= n {
		return nil, false
	}
	tl.inflight++
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			tl.inflight--
			l.mu.Unlock()
		})
	}, true
}

// token takes one call at now from tenant's bucket of rate calls per
// minute, rate being the tenant's callsPerMinute cpm or this node's
// share of it (0: none), or says how long to wait for one. A changed
// cpm starts with a full bucket; a changed share alone (nodes joined or
// left) keeps the calls taken, so a new share never adds a burst.
func (l *limiter) token(tenant string, cpm, rate int, now time.Time) (ok bool, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	tl := l.tenant(tenant, now)
	if rate <= 0 { // no share (a fenced node): the bucket is kept for later
		return false, time.Second
	}
	switch {
	case tl.cpm != cpm:
		tl.cpm, tl.rate, tl.tat = cpm, rate, time.Time{}
	case tl.rate != rate:
		tl.tat = rescale(tl.tat, now, tl.rate, rate)
		tl.rate = rate
	}
	interval := time.Minute / time.Duration(rate)
	tat := tl.tat
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(interval)
	if over := next.Sub(now) - time.Minute; over > 0 {
		return false, over
	}
	tl.tat = next
	return true, 0
}

// rescale moves a GCRA bucket of from calls per minute to one of to,
// keeping the calls taken in the last minute: tat-now is that many
// intervals of from, and becomes as many intervals of to.
func rescale(tat, now time.Time, from, to int) time.Time {
	if !tat.After(now) {
		return time.Time{}
	}
	debt := tat.Sub(now)
	return now.Add(time.Duration(int64(debt) * int64(from) / int64(to)))
}

// tenant returns tenant's counters, created when missing. l.mu is held.
func (l *limiter) tenant(id string, now time.Time) *tenantLimit {
	tl, ok := l.tenants[id]
	if !ok {
		if len(l.tenants) > maxLimiterTenants {
			l.prune(now)
		}
		tl = &tenantLimit{}
		l.tenants[id] = tl
	}
	return tl
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

// admitShare admits one call of tenant t under this node's share of its
// quotas (c.Split), in memory, falling back to the cluster's shared
// pools when the share is used up. Concurrency is taken first, so a
// call it refuses takes no rate token; a rate refusal frees the slot.
//
// observe, when not nil, is told each use of a shared pool: its reason
// and "taken", "full" or "error".
func admitShare(ctx context.Context, l *limiter, c Cluster, t store.Tenant, now func() time.Time, observe func(pool Reason, outcome string)) (release func(), err error) {
	if observe == nil {
		observe = func(Reason, string) {}
	}
	q := t.Quotas
	release = func() {}
	if q.MaxConcurrency > 0 {
		local, shared := c.Split(q.MaxConcurrency)
		rel, ok := l.slot(t.ID, local, now())
		if !ok && shared > 0 {
			if rel, ok, err = c.AcquireSlot(ctx, t.ID, shared, slotHold(q)); err != nil {
				observe(ReasonConcurrency, "error")
				return nil, fmt.Errorf("invoke: shared concurrency quota: %w", err)
			}
			observe(ReasonConcurrency, outcome(ok))
		}
		if !ok {
			return nil, &QuotaError{Reason: ReasonConcurrency, Limit: q.MaxConcurrency, RetryAfter: time.Second}
		}
		release = rel
	}
	if q.CallsPerMinute > 0 {
		local, shared := c.Split(q.CallsPerMinute)
		ok, retry := l.token(t.ID, q.CallsPerMinute, local, now())
		if !ok && shared > 0 {
			var sretry time.Duration
			if ok, sretry, err = c.TakeToken(ctx, t.ID, shared); err != nil {
				observe(ReasonRate, "error")
				release()
				return nil, fmt.Errorf("invoke: shared rate quota: %w", err)
			}
			observe(ReasonRate, outcome(ok))
			retry = min(retry, sretry)
		}
		if !ok {
			release()
			return nil, &QuotaError{Reason: ReasonRate, Limit: q.CallsPerMinute, RetryAfter: retry}
		}
	}
	return release, nil
}

func outcome(taken bool) string {
	if taken {
		return "taken"
	}
	return "full"
}

// slotHold bounds a shared slot's lease: the call's timeout, with a
// minute's margin for the steps around it; a lease is released when the
// call ends, and outlives it only when its node cannot reach the store.
func slotHold(q store.Quotas) time.Duration {
	d := time.Minute
	if q.TimeoutMs > 0 {
		d += time.Duration(q.TimeoutMs) * time.Millisecond
	}
	return d
}
