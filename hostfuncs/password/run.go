package password

import (
	"context"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sync/semaphore"
)

// ErrCanceled: the context ended (the call's deadline passed) before the
// hash finished. The caller got its answer at once; the hash itself, which
// cannot be interrupted, runs on to its end in the background (see run).
var ErrCanceled = errors.New("password: the call ended before the hash finished")

// The hashing budget of the whole process: at most workSlots hashes run
// at once, one per core, holding at most workMemory bytes together (a
// hash needing a lot of memory, argon2 or scrypt, takes more of the
// budget, and argon2 a share per lane, each lane a goroutine). Hashes
// queue for it, in order, as long as their context allows. A hash whose
// caller gave up keeps its share until it ends, so abandoned hashes can
// never pile up: there are at most workSlots of them, each bounded by
// Limits (about a second of one core).
var (
	workSlots  = int64(max(1, runtime.GOMAXPROCS(0)))
	workMemory = int64(max(1<<30, 2*DefaultLimits().maxMemory()))
	work       = semaphore.NewWeighted(workMemory)
	coreShare  = workMemory / workSlots // the weight of one core's worth
)

// weight is the budget share of a hash needing mem bytes.
func weight(mem int64) int64 {
	return min(max(mem, coreShare), workMemory)
}

// canceled is the error of a context that ended.
func canceled(ctx context.Context) error {
	return fmt.Errorf("%w: %w", ErrCanceled, context.Cause(ctx))
}

// run runs f, a hash needing about mem bytes, within the process's
// hashing budget and returns as soon as f does or ctx ends, whichever
// is first. When ctx ends first it returns ErrCanceled (wrapping the
// context's cause) and f runs on in its goroutine to its end, still
// holding its share of the budget. A panic in f is an error, not a
// crash of the host.
func run(ctx context.Context, mem int64, f func()) error {
	if ctx.Err() != nil {
		return canceled(ctx)
	}
	w := weight(mem)
	if err := work.Acquire(ctx, w); err != nil {
		return canceled(ctx)
	}
	if ctx.Err() != nil { // both were ready: do not start a hash nobody waits for
		work.Release(w)
		return canceled(ctx)
	}
	done := make(chan error, 1)
	go func() {
		defer work.Release(w)
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
