package password

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrCanceled: the context ended (the call's deadline passed) before the
// hash finished. The caller got its answer at once; the hash itself, which
// cannot be interrupted, runs on to its end in the background (see run).
var ErrCanceled = errors.New("password: the call ended before the hash finished")

// Budget is a host's hashing budget: at most one hash per core runs at
// once, all of them holding at most its memory together (a hash needing
// a lot of memory, argon2 or scrypt, takes more of the budget, and argon2
// a core's share per lane, each lane a goroutine). Hashes queue for it as
// long as their context allows, fairly between tenants (Limits.Tenant):
// a free share goes to the waiting hash of the tenant that holds the
// least of the budget, between equals to the tenant served least
// recently, then in order of arrival; so a tenant that keeps many hashes
// queued waits behind its own. A hash whose caller gave up keeps its
// share, counted as its tenant's, until it ends, so abandoned hashes can
// never pile up: there are at most as many as cores, each bounded by
// Limits (about a second of one core). A Budget is safe for concurrent
// use; make one per host (hostfuncs.Manager does) and set it in
// Limits.Budget.
type Budget struct {
	slots, memory int64
	coreShare     int64 // the weight of one core's worth

	mu      sync.Mutex
	used    int64
	tenants map[string]*budgetTenant // tenants holding or waiting
	queue   []*budgetWaiter          // in order of arrival
	served  uint64                   // 2 per grant so far
}

type budgetTenant struct {
	held    int64 // weight of its running hashes
	waiting int   // its hashes in the queue
	// served is Budget.served at its last grant. A tenant met anew
	// (none of its hashes held or waiting) ranks just before the last
	// served, not first: a tenant hashing one at a time is met anew at
	// every hash, and would otherwise pass for ever a tenant that waits.
	served uint64
}

type budgetWaiter struct {
	t       *budgetTenant
	weight  int64
	ready   chan struct{} // closed when granted
	granted bool
}

// NewBudget returns the budget of a host with cores cores (at least one)
// and memory enough for two hashes at DefaultLimits' largest (at least
// 1 GiB).
func NewBudget(cores int) *Budget {
	slots := int64(max(1, cores))
	mem := int64(max(1<<30, 2*DefaultLimits().maxMemory()))
	return &Budget{slots: slots, memory: mem, coreShare: mem / slots, tenants: map[string]*budgetTenant{}}
}

// weight is the budget share of a hash needing mem bytes.
func (b *Budget) weight(mem int64) int64 {
	return min(max(mem, b.coreShare), b.memory)
}

// share is the weight of n cores (argon2's lanes); 0 without a budget.
func (b *Budget) share(n int64) int64 {
	if b == nil {
		return 0
	}
	return n * b.coreShare
}

// acquire takes weight w of the budget for tenant, waiting its turn
// until ctx ends.
func (b *Budget) acquire(ctx context.Context, tenant string, w int64) error {
	b.mu.Lock()
	t := b.tenants[tenant]
	if t == nil {
		t = &budgetTenant{served: max(b.served, 1) - 1}
		b.tenants[tenant] = t
	}
	if len(b.queue) == 0 && b.used+w <= b.memory {
		b.grant(t, w)
		b.mu.Unlock()
		return nil
	}
	bw := &budgetWaiter{t: t, weight: w, ready: make(chan struct{})}
	t.waiting++
	b.queue = append(b.queue, bw)
	b.dispatch() // it may be next, and fit beside a larger hash that waits
	b.mu.Unlock()
	select {
	case <-bw.ready:
		return nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if bw.granted { // granted as ctx ended: give it back
		b.releaseLocked(tenant, w)
		return ctx.Err()
	}
	for i, q := range b.queue {
		if q == bw {
			b.queue = append(b.queue[:i], b.queue[i+1:]...)
			break
		}
	}
	t.waiting--
	b.forget(tenant, t)
	b.dispatch() // the head of the queue may have left
	return ctx.Err()
}

func (b *Budget) grant(t *budgetTenant, w int64) {
	b.used += w
	t.held += w
	b.served += 2
	t.served = b.served
}

func (b *Budget) release(tenant string, w int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.releaseLocked(tenant, w)
}

func (b *Budget) releaseLocked(tenant string, w int64) {
	t := b.tenants[tenant]
	b.used -= w
	t.held -= w
	b.forget(tenant, t)
	b.dispatch()
}

// forget drops a tenant that holds and waits for nothing.
func (b *Budget) forget(tenant string, t *budgetTenant) {
	if t.held == 0 && t.waiting == 0 {
		delete(b.tenants, tenant)
	}
}

// dispatch grants waiting hashes while the next one's share is free. The
// next one is the first in the queue of the tenant holding least, then
// served least recently; when its share is not free, no other hash
// passes it (a large hash would otherwise wait for ever).
func (b *Budget) dispatch() {
	for len(b.queue) > 0 {
		next := 0
		for i, q := range b.queue {
			n := b.queue[next].t
			if q.t.held < n.held || q.t.held == n.held && q.t.served < n.served {
				next = i
			}
		}
		bw := b.queue[next]
		if b.used+bw.weight > b.memory {
			return
		}
		b.queue = append(b.queue[:next], b.queue[next+1:]...)
		bw.t.waiting--
		b.grant(bw.t, bw.weight)
		bw.granted = true
		close(bw.ready)
	}
}

// queued is the number of hashes waiting (for tests).
func (b *Budget) queued() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queue)
}

// canceled is the error of a context that ended.
func canceled(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
}

// run runs f, tenant's hash needing about mem bytes, within the budget
// b (none when b is nil) and returns as soon as f does or ctx ends,
// whichever is first. When ctx ends first it returns ErrCanceled
// (wrapping the context's cause) and f runs on in its goroutine to its
// end, still holding its share of the budget. A panic in f is an error,
// not a crash of the host. When f ends, onWork (if set) is told its CPU
// time: how long it ran times the cores its share stands for.
func (b *Budget) run(ctx context.Context, tenant string, mem int64, onWork func(time.Duration), f func()) error {
	if ctx.Err() != nil {
		return canceled(ctx)
	}
	release := func() {}
	cores := int64(1)
	if b != nil {
		w := b.weight(mem)
		if err := b.acquire(ctx, tenant, w); err != nil {
			return canceled(ctx)
		}
		release = func() { b.release(tenant, w) }
		cores = max(1, w/b.coreShare)
	}
	if onWork != nil {
		hash := f
		f = func() {
			start := time.Now()
			defer func() { onWork(time.Since(start) * time.Duration(cores)) }()
			hash()
		}
	}
	if ctx.Err() != nil { // both were ready: do not start a hash nobody waits for
		release()
		return canceled(ctx)
	}
	done := make(chan error, 1)
	go func() {
		defer release()
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%w: the hash failed: %v", ErrMalformed, p)
			}
		}()
		f()
		done <- nil
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		select {
		case err := <-done: // finished just in time
			return err
		default:
			return canceled(ctx)
		}
	}
}
