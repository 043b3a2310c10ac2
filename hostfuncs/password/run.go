package password

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sync/semaphore"
)

// ErrCanceled: the context ended (the call's deadline passed) before the
// hash finished. The caller got its answer at once; the hash itself, which
// cannot be interrupted, runs on to its end in the background (see run).
var ErrCanceled = errors.New("password: the call ended before the hash finished")

// Budget is a host's hashing budget: at most one hash per core runs at
// once, all of them holding at most its memory together (a hash needing
// a lot of memory, argon2 or scrypt, takes more of the budget, and argon2
// a core's share per lane, each lane a goroutine). Hashes queue for it,
// in order, as long as their context allows. A hash whose caller gave up
// keeps its share until it ends, so abandoned hashes can never pile up:
// there are at most as many as cores, each bounded by Limits (about a
// second of one core). A Budget is safe for concurrent use; make one per
// host (hostfuncs.Manager does) and set it in Limits.Budget.
type Budget struct {
	slots, memory int64
	coreShare     int64 // the weight of one core's worth
	sem           *semaphore.Weighted
}

// NewBudget returns the budget of a host with cores cores (at least one)
// and memory enough for two hashes at DefaultLimits' largest (at least
// 1 GiB).
func NewBudget(cores int) *Budget {
	slots := int64(max(1, cores))
	mem := int64(max(1<<30, 2*DefaultLimits().maxMemory()))
	return &Budget{slots: slots, memory: mem, coreShare: mem / slots, sem: semaphore.NewWeighted(mem)}
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

// canceled is the error of a context that ended.
func canceled(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
}

// run runs f, a hash needing about mem bytes, within the budget b (none
// when b is nil) and returns as soon as f does or ctx ends, whichever
// is first. When ctx ends first it returns ErrCanceled (wrapping the
// context's cause) and f runs on in its goroutine to its end, still
// holding its share of the budget. A panic in f is an error, not a
// crash of the host.
func (b *Budget) run(ctx context.Context, mem int64, f func()) error {
	if ctx.Err() != nil {
		return canceled(ctx)
	}
	release := func() {}
	if b != nil {
		w := b.weight(mem)
		if err := b.sem.Acquire(ctx, w); err != nil {
			return canceled(ctx)
		}
		release = func() { b.sem.Release(w) }
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
