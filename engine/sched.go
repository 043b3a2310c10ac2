package engine

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// scheduler shares the node's guest slots between calls: at most slots
// calls run guest code at once (one per core by default), and a tenant
// gets at most its fair share of them while other tenants want some.
// A call holds a slot only while its guest code runs: it gives it up for
// the host calls that wait on the network (SQL, MongoDB, HTTP), and hands
// it over at a yield when another tenant has fewer slots. See RATIONALE.md
// ("Fair CPU between tenants").
type scheduler struct {
	slots      int
	maxWaiting int
	slice      time.Duration // a call keeps its slot this long against equals
	recent     time.Duration // a tenant that ran this recently keeps its share

	waiters atomic.Int32 // len of all queues, readable without mu

	mu      sync.Mutex
	busy    int
	tenants map[string]*tenantSched
	// active caches the number of tenants running, waiting or recently
	// run, recounted at most every activeEvery.
	active   int
	activeAt time.Time
}

const activeEvery = time.Millisecond

// maxQueuedPerTenant bounds one tenant's waiting calls, so that no tenant
// alone can fill the node's queue (MaxQueuedCalls) and have its
// neighbours refused.
const maxQueuedPerTenant = 64

type tenantSched struct {
	name    string
	running int
	queue   []*ticket
	lastRun time.Time

	// CPU budget: a token bucket of guest nanoseconds refilled at
	// budget per minute. budget 0 means none.
	budget  time.Duration
	tokens  time.Duration
	refill  time.Time
	cpuUsed atomic.Int64 // nanoseconds charged, not yet taken from tokens
}

// ticket is one call's claim on a slot.
type ticket struct {
	ts      *tenantSched
	budget  time.Duration // the call's CPU budget (ts.budget is the mu's)
	granted chan struct{}
	holding bool      // guarded by the scheduler's mu
	since   time.Time // when the slot was granted
	charged time.Time // guest time before this is charged
}

func newScheduler(slots, maxWaiting int, slice time.Duration) *scheduler {
	return &scheduler{slots: slots, maxWaiting: maxWaiting, slice: slice, recent: 50 * time.Millisecond,
		tenants: map[string]*tenantSched{}}
}

// errSlotTimeout and errNodeBusy are turned into the call's *Error.
var (
	errSlotTimeout = Errorf(CodeTimeout, "the call waited for a CPU slot past its time limit")
)

func errNodeBusy(n int) *Error {
	return Errorf(CodeQuotaExceeded, "the node is at capacity: %d calls are already waiting for a CPU slot", n)
}

func errCPUBudget(budget time.Duration) *Error {
	return Errorf(CodeQuotaExceeded, "the tenant's CPU budget of %s per minute is used up", budget)
}

func (s *scheduler) tenant(name string, budget time.Duration, now time.Time) *tenantSched {
	ts, ok := s.tenants[name]
	if !ok {
		ts = &tenantSched{name: name, budget: budget, tokens: budget, refill: now}
		s.tenants[name] = ts
	}
	// Asking for a slot makes a tenant active (and keeps share from
	// forgetting it before it holds or waits for one); a tenant that was
	// not counted active makes share count again.
	if ts.running == 0 && len(ts.queue) == 0 && now.Sub(ts.lastRun) >= s.recent {
		s.activeAt = time.Time{}
	}
	ts.lastRun = now
	if ts.budget != budget {
		ts.budget = budget
		if ts.tokens > budget {
			ts.tokens = budget
		}
	}
	return ts
}

// settle moves charged CPU time into the bucket and refills it; it
// reports whether the budget is used up. Call with mu held.
func (ts *tenantSched) settle(now time.Time) bool {
	used := time.Duration(ts.cpuUsed.Swap(0))
	if ts.budget <= 0 {
		return false
	}
	ts.tokens -= used
	if el := now.Sub(ts.refill); el > 0 {
		ts.tokens += time.Duration(float64(ts.budget) * el.Seconds() / 60)
		if ts.tokens > ts.budget {
			ts.tokens = ts.budget
		}
		ts.refill = now
	}
	return ts.tokens <= 0
}

// share is the most slots one tenant may hold while others want some.
// Call with mu held.
func (s *scheduler) share(now time.Time) int {
	if now.Sub(s.activeAt) >= activeEvery {
		n := 0
		for name, ts := range s.tenants {
			switch {
			case ts.running > 0 || len(ts.queue) > 0 || now.Sub(ts.lastRun) < s.recent:
				n++
			case ts.budget == 0 || (!ts.settle(now) && ts.tokens >= ts.budget):
				// Nothing to remember (settle refills a quiet tenant's
				// bucket: nothing else would until it calls again).
				delete(s.tenants, name)
			}
		}
		s.active, s.activeAt = n, now
	}
	if s.active <= 1 {
		return s.slots
	}
	return max(1, s.slots/s.active)
}

// acquire waits for a slot for tenant until deadline or ctx ends.
func (s *scheduler) acquire(ctx context.Context, tenant string, budget time.Duration, deadline time.Time) (*ticket, *Error) {
	return s.enter(ctx, tenant, budget, deadline, false)
}

// enter is acquire; a call resuming after a host call (resume) is not
// refused for a full queue: it was admitted, and has done work a refusal
// would waste (a hash, a query).
func (s *scheduler) enter(ctx context.Context, tenant string, budget time.Duration, deadline time.Time, resume bool) (*ticket, *Error) {
	now := time.Now()
	s.mu.Lock()
	ts := s.tenant(tenant, budget, now)
	if ts.settle(now) {
		s.mu.Unlock()
		return nil, errCPUBudget(budget)
	}
	tk := &ticket{ts: ts, budget: budget}
	if s.busy < s.slots && ts.running < s.share(now) {
		s.grant(tk, now)
		s.mu.Unlock()
		return tk, nil
	}
	if !resume && len(ts.queue) >= maxQueuedPerTenant {
		s.mu.Unlock()
		return nil, Errorf(CodeQuotaExceeded, "the tenant already has %d calls waiting for a CPU slot", maxQueuedPerTenant)
	}
	if !resume && int(s.waiters.Load()) >= s.maxWaiting {
		s.mu.Unlock()
		return nil, errNodeBusy(s.maxWaiting)
	}
	tk.granted = make(chan struct{})
	tk.since = now // queued since; dispatch serves the oldest first among equals
	ts.queue = append(ts.queue, tk)
	s.waiters.Add(1)
	s.mu.Unlock()
	return tk, s.wait(ctx, tk, deadline)
}

// wait blocks until tk is granted. While slots stay free because
// recently active tenants keep their share, it looks again every
// s.recent, so a share left unused is not kept forever.
func (s *scheduler) wait(ctx context.Context, tk *ticket, deadline time.Time) *Error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	recheck := time.NewTicker(s.recent)
	defer recheck.Stop()
	for {
		select {
		case <-tk.granted:
			return nil
		case <-recheck.C:
			s.mu.Lock()
			s.activeAt = time.Time{}
			s.dispatch(time.Now())
			s.mu.Unlock()
			continue
		case <-timer.C:
		case <-ctx.Done():
		}
		break
	}
	s.mu.Lock()
	if tk.holding { // granted just now
		s.mu.Unlock()
		s.release(tk)
	} else {
		q := tk.ts.queue
		for i, w := range q {
			if w == tk {
				tk.ts.queue = append(q[:i:i], q[i+1:]...)
				s.waiters.Add(-1)
				break
			}
		}
		s.mu.Unlock()
	}
	if ctx.Err() != nil {
		return Errorf(CodeConnectorError, "the call was canceled: %v", context.Cause(ctx))
	}
	return errSlotTimeout
}

// grant gives tk a slot. Call with mu held.
func (s *scheduler) grant(tk *ticket, now time.Time) {
	s.busy++
	tk.ts.running++
	tk.ts.lastRun = now
	tk.holding = true
	tk.since, tk.charged = now, now
}

// dispatch hands free slots to waiters: the waiting tenant holding the
// fewest slots first, within its share. Call with mu held.
func (s *scheduler) dispatch(now time.Time) {
	for s.busy < s.slots && s.waiters.Load() > 0 {
		share := s.share(now)
		var best *tenantSched
		for _, ts := range s.tenants {
			if len(ts.queue) == 0 || ts.running >= share {
				continue
			}
			if best == nil || ts.running < best.running || (ts.running == best.running && ts.queue[0].since.Before(best.queue[0].since)) {
				best = ts
			}
		}
		if best == nil {
			return
		}
		tk := best.queue[0]
		best.queue = best.queue[1:]
		s.waiters.Add(-1)
		s.grant(tk, now)
		close(tk.granted)
	}
}

// release gives up tk's slot.
func (s *scheduler) release(tk *ticket) {
	now := time.Now()
	s.mu.Lock()
	if tk.holding {
		tk.ts.cpuUsed.Add(int64(now.Sub(tk.charged)))
		tk.ts.settle(now)
		tk.holding = false
		s.busy--
		tk.ts.running--
		tk.ts.lastRun = now
		s.dispatch(now)
	}
	s.mu.Unlock()
}

// charge counts d of CPU time done for tenant outside its guest code (a
// password hash) against its CPU budget, at once: the record may be
// forgotten by share unless its tokens show the charge.
func (s *scheduler) charge(tenant string, budget, d time.Duration) {
	if budget <= 0 || d <= 0 {
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ts, ok := s.tenants[tenant]
	if !ok {
		ts = &tenantSched{name: tenant, budget: budget, tokens: budget, refill: now}
		s.tenants[tenant] = ts
	}
	ts.cpuUsed.Add(int64(d))
	ts.settle(now)
}

// reacquire takes a slot again after release, for the same tenant.
func (s *scheduler) reacquire(ctx context.Context, tk *ticket, deadline time.Time) *Error {
	nt, err := s.enter(ctx, tk.ts.name, tk.budget, deadline, true)
	if err != nil {
		return err
	}
	*tk = *nt
	return nil
}

// yield is called while tk's guest runs, at every fuel yield and host
// function. It charges the guest time since the last call, and gives the
// slot to a waiting tenant that holds fewer slots (at once when this
// tenant holds several and that one none; otherwise after s.slice). It
// returns a non-nil *Error when the call must end.
func (s *scheduler) yield(ctx context.Context, tk *ticket, deadline time.Time, now time.Time) *Error {
	tk.ts.cpuUsed.Add(int64(now.Sub(tk.charged)))
	tk.charged = now
	if s.waiters.Load() == 0 && tk.budget == 0 {
		return nil
	}
	s.mu.Lock()
	if tk.ts.settle(now) {
		s.mu.Unlock()
		return errCPUBudget(tk.budget)
	}
	handOver := false
	if s.waiters.Load() > 0 {
		mine := tk.ts.running
		held := now.Sub(tk.since)
		for _, ts := range s.tenants {
			if ts == tk.ts || len(ts.queue) == 0 {
				continue
			}
			if (ts.running == 0 && mine >= 2) || (ts.running < mine && held >= s.slice) {
				handOver = true
				break
			}
		}
	}
	s.mu.Unlock()
	if !handOver {
		return nil
	}
	s.release(tk)
	return s.reacquire(ctx, tk, deadline)
}

func (s *scheduler) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return fmt.Sprintf("slots %d busy %d waiting %d tenants %d", s.slots, s.busy, s.waiters.Load(), len(s.tenants))
}
