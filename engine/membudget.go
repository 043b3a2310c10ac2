package engine

import "time"

// The node memory budget (Config.NodeMemoryBytes) counts what instances
// can hold: the capacity of their linear memories and the most their
// tables can take. Reservations are made before the memory exists, so
// the node never holds more than the budget in guest memory.

// reserve takes n bytes of the budget; it reports false when they do not
// fit. Without a budget it always succeeds.
func (e *Engine) reserve(n int64) bool {
	if e.cfg.NodeMemoryBytes == 0 || n <= 0 {
		if n > 0 {
			e.memUsed.Add(n)
		}
		return true
	}
	limit := int64(e.cfg.NodeMemoryBytes)
	for {
		used := e.memUsed.Load()
		if used+n > limit {
			return false
		}
		if e.memUsed.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// free gives back n bytes of the budget.
func (e *Engine) free(n int64) {
	if n > 0 {
		e.memUsed.Add(-n)
	}
}

// reserveOrEvict is reserve that first closes idle instances, least
// recently used first, when n does not fit.
func (e *Engine) reserveOrEvict(n int64, deadline time.Time) bool {
	ok, _ := e.reserveEvicting(n, deadline)
	return ok
}

// reserveEvicting is reserveOrEvict that also reports whether it closed
// idle instances, when it did not make room all the same.
func (e *Engine) reserveEvicting(n int64, deadline time.Time) (ok, evicted bool) {
	if e.reserve(n) {
		return true, false
	}
	if n > int64(e.cfg.NodeMemoryBytes) {
		return false, false // no eviction can make room
	}
	for e.evictOneIdle() {
		evicted = true
		if e.reserve(n) {
			return true, true
		}
	}
	// Instances lost by their calls are closed in the background
	// (pool.put): the memory they give back is as good as free. Wait for
	// those being closed now, not for any that come after, until the
	// call's deadline.
	for range e.closingNow() {
		if !e.awaitClosing(deadline) {
			break
		}
		if e.reserve(n) {
			return true, evicted
		}
	}
	return false, evicted
}

// closingNow is how many instances are being closed.
func (e *Engine) closingNow() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closingN
}

// awaitClosing waits until an instance being closed is gone; it reports
// false when there was none, or the deadline came first.
func (e *Engine) awaitClosing(deadline time.Time) bool {
	e.mu.Lock()
	if e.closingN == 0 {
		e.mu.Unlock()
		return false
	}
	ch := e.closedOne
	e.mu.Unlock()
	d := time.Until(deadline)
	if d <= 0 {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	}
}

// evictedError is a start the node's memory budget refused after it had
// closed idle instances, other tenants' perhaps, to make room: unlike a
// plain refusal it cost others, and is charged to the tenant's instance
// rate (pool.create).
type evictedError struct{ err *Error }

func (e *evictedError) Error() string { return e.err.Error() }
func (e *evictedError) Unwrap() error { return e.err }

func (e *Engine) nodeMemoryError() *Error {
	return Errorf(CodeResourceExhausted, "the node's memory budget of %d MiB is in use by other calls: try again later", e.cfg.NodeMemoryBytes>>20)
}

// MemoryInUse reports the bytes of guest memory and tables instances
// hold, as counted against NodeMemoryBytes.
func (e *Engine) MemoryInUse() int64 { return e.memUsed.Load() }
