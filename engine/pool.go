package engine

import (
	"context"
	"errors"
	"runtime/debug"
	"time"
)

// poolKey decides which instances may serve a call: only those of the
// same tenant, connection configuration, module and memory limit.
type poolKey struct {
	tenant, pool, module string
	memLimit             uint64
}

// pool holds the instances of one poolKey. At most max exist at once;
// idle ones are kept most-recently-used last.
type pool struct {
	e   *Engine
	key poolKey
	mod *Module
	env map[string]string

	// guarded by e.mu
	idle    []*instance
	total   int
	closing int // of total: lost, being closed (put)
	max     int
	waiters []chan *instance // a nil send means "a slot is free"
}

func (e *Engine) pool(m *Module, req *Request, limits Limits) (*pool, error) {
	key := poolKey{tenant: req.Tenant, pool: req.Pool, module: m.info.SHA256, memLimit: limits.MemoryBytes}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, ErrClosed
	}
	if m.evicted.Load() {
		return nil, ErrEvicted
	}
	p, ok := e.pools[key]
	if !ok {
		env := make(map[string]string, len(req.Env))
		for k, v := range req.Env {
			env[k] = v
		}
		p = &pool{e: e, key: key, mod: m, env: env}
		e.pools[key] = p
	}
	p.max = limits.MaxInstances
	return p, nil
}

// get returns an idle instance, or waits for one to come back until
// deadline. A nil instance with a nil error is a slot of the pool counted
// for the caller, which makes the instance itself (create): under its CPU
// slot, so that instantiating costs the tenant's share like its code.
func (p *pool) get(ctx context.Context, deadline time.Time) (*instance, error) {
	e := p.e
	e.mu.Lock()
	if n := len(p.idle); n > 0 {
		inst := p.idle[n-1]
		p.idle[n-1] = nil // the backing array must not keep it past its close
		p.idle = p.idle[:n-1]
		e.idle--
		e.mu.Unlock()
		return inst, nil
	}
	if p.total < p.max {
		p.total++
		e.mu.Unlock()
		return nil, nil
	}
	ch := make(chan *instance, 1)
	p.waiters = append(p.waiters, ch)
	e.mu.Unlock()

	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	select {
	case inst := <-ch:
		return inst, nil // nil: a slot to create one in
	case <-ctx.Done():
		e.mu.Lock()
		for i, w := range p.waiters {
			if w == ch {
				p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
				e.mu.Unlock()
				return nil, ctx.Err()
			}
		}
		e.mu.Unlock()
		// Handed something just now: give it back.
		if inst := <-ch; inst != nil {
			p.put(inst, true)
		} else {
			p.release()
		}
		return nil, ctx.Err()
	}
}

// create makes an instance for a slot already counted in total.
func (p *pool) create(ctx context.Context, deadline time.Time) (*instance, error) {
	inst, err := p.e.instantiate(ctx, p.mod, p.env, p.key.memLimit, deadline)
	if err != nil {
		var mem *memoryError
		var ee *Error
		if !errors.As(err, &mem) && !errors.As(err, &ee) {
			err = &ModuleError{Reason: err.Error()}
		}
		var evicted *evictedError
		if ctx.Err() == nil && (!errors.As(err, &ee) || errors.As(err, &evicted)) {
			// The module could not be instantiated on its own account
			// (its memory quota, a module wazero refuses), or the node's
			// memory budget refused it after closing idle instances to
			// make room: work the tenant's next call would repeat at
			// once. Charged before the place is given back, so a call
			// waiting for it sees the loss. A plain refusal by the
			// node's memory budget (an *Error) is not charged: other
			// tenants' instances may hold that memory.
			p.e.instRate.lost(p.key.tenant)
		}
		p.release()
		return nil, err
	}
	return inst, nil
}

// release gives up a slot: a waiter may create an instance in it.
func (p *pool) release() {
	e := p.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		ch <- nil
		return
	}
	p.total--
}

// put returns an instance after a call. Unhealthy instances (trapped,
// timed out, over a limit) are closed, never reused: in the background,
// since unmapping a memory the guest filled takes the kernel about a
// tenth of a second a GiB, which the call's caller need not wait for.
// The instance keeps its place in the pool and its memory in the node
// budget until it is gone.
func (p *pool) put(inst *instance, healthy bool) {
	e := p.e
	if !healthy {
		e.mu.Lock()
		if e.closed { // Close may be waiting for the others already
			e.mu.Unlock()
			inst.close(context.Background())
			p.release()
			return
		}
		e.closingN++
		p.closing++
		e.closing.Add(1) // under e.mu, so before Close's Wait
		e.mu.Unlock()
		go func() {
			defer e.closing.Done()
			inst.close(context.Background())
			e.mu.Lock()
			e.closingN--
			p.closing--
			close(e.closedOne)
			e.closedOne = make(chan struct{})
			e.mu.Unlock()
			p.release()
		}()
		return
	}
	e.mu.Lock()
	if len(p.waiters) > 0 {
		ch := p.waiters[0]
		p.waiters = p.waiters[1:]
		e.mu.Unlock()
		ch <- inst
		return
	}
	if e.closed || p.total > p.max {
		// Over a bound that shrank.
		p.total--
		e.mu.Unlock()
		inst.close(context.Background())
		return
	}
	inst.lastUsed = time.Now()
	p.idle = append(p.idle, inst)
	e.idle++
	over := e.idle > e.cfg.MaxIdleInstances
	e.mu.Unlock()
	if over {
		// Too many idle instances engine-wide: the least recently used goes.
		e.evictOneIdle()
	}
}

// evictOneIdle closes the least recently used idle instance of all
// pools; it reports false when there was none.
func (e *Engine) evictOneIdle() bool {
	e.mu.Lock()
	var lru *pool
	for _, p := range e.pools {
		if len(p.idle) > 0 && (lru == nil || p.idle[0].lastUsed.Before(lru.idle[0].lastUsed)) {
			lru = p
		}
	}
	if lru == nil {
		e.mu.Unlock()
		return false
	}
	inst := lru.idle[0]
	n := copy(lru.idle, lru.idle[1:])
	// Clear the vacated slot: the pool outlives its instances, and a
	// closed instance kept in its backing array kept the whole module
	// instance (over 1 MiB of heap) alive.
	lru.idle[n] = nil
	lru.idle = lru.idle[:n]
	lru.total--
	e.idle--
	e.mu.Unlock()
	inst.close(context.Background())
	return true
}

// drain closes the idle instances of a pool being dropped.
func (p *pool) drain(ctx context.Context) {
	p.e.mu.Lock()
	idle := p.idle
	p.idle = nil
	p.total -= len(idle)
	p.e.idle -= len(idle)
	p.e.mu.Unlock()
	for _, inst := range idle {
		inst.close(ctx)
	}
}

// janitor closes instances idle longer than IdleTimeout and forgets
// empty pools.
func (e *Engine) janitor() {
	defer close(e.done)
	tick := time.NewTicker(e.cfg.IdleTimeout / 4)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-tick.C:
			now := time.Now()
			e.evictIdle(now.Add(-e.cfg.IdleTimeout))
			e.evictModules(now.Add(-e.cfg.ModuleIdleTimeout))
			e.instRate.forget(now)
		}
	}
}

// scavengeAfter is how many instances one eviction must close before it
// returns the freed heap to the OS at once; fewer free too little to pay
// for a forced GC, and the background scavenger returns it.
const scavengeAfter = 16

// evictIdle closes every idle instance last used before cutoff.
func (e *Engine) evictIdle(cutoff time.Time) {
	var stale []*instance
	e.mu.Lock()
	for key, p := range e.pools {
		keep := p.idle[:0]
		for _, inst := range p.idle {
			if inst.lastUsed.Before(cutoff) {
				stale = append(stale, inst)
				p.total--
				e.idle--
			} else {
				keep = append(keep, inst)
			}
		}
		clear(p.idle[len(keep):])
		p.idle = keep
		if p.total == 0 && len(p.waiters) == 0 {
			delete(e.pools, key)
		}
	}
	e.mu.Unlock()
	for _, inst := range stale {
		inst.close(context.Background())
	}
	if len(stale) >= scavengeAfter {
		// Closed instances leave their host-side structures in the Go
		// heap, and what the calls allocated; the runtime's background
		// scavenger would return those pages over minutes. Give them back
		// now: a forced GC at most once per janitor tick (RATIONALE.md).
		debug.FreeOSMemory()
	}
}

// evictModules releases the compiled code of modules that no pool uses
// and no call has used since cutoff. Pools are made and dropped under
// e.mu too, so a module is never released under a pool.
func (e *Engine) evictModules(cutoff time.Time) {
	var drop []*Module
	e.mu.Lock()
	used := make(map[string]bool, len(e.pools))
	for key := range e.pools {
		used[key.module] = true
	}
	for sha, ent := range e.modules {
		select {
		case <-ent.ready:
		default:
			continue // still compiling
		}
		if ent.mod == nil || used[sha] || time.Unix(0, ent.mod.lastUsed.Load()).After(cutoff) {
			continue
		}
		ent.mod.evicted.Store(true)
		delete(e.modules, sha)
		drop = append(drop, ent.mod)
	}
	e.mu.Unlock()
	for _, m := range drop {
		m.release(context.Background())
	}
}

// Evict drops the idle instances of a tenant's pool (all of the tenant's
// pools when pool is empty), for example after its configuration changed.
// Busy instances finish their call and are then discarded.
func (e *Engine) Evict(ctx context.Context, tenant, poolName string) {
	var drop []*pool
	e.mu.Lock()
	for key, p := range e.pools {
		if key.tenant == tenant && (poolName == "" || key.pool == poolName) {
			delete(e.pools, key)
			p.max = 0
			drop = append(drop, p)
		}
	}
	e.mu.Unlock()
	for _, p := range drop {
		p.drain(ctx)
	}
}

// Stats is a snapshot of the engine's pools, guest slots and memory.
type Stats struct {
	Pools, Idle, Busy, Modules int
	// Closing instances were lost by their calls and are being closed;
	// they still hold their memory.
	Closing int
	// SlotsBusy calls run guest code now, of Slots; SlotsWaiting wait
	// for a slot.
	Slots, SlotsBusy, SlotsWaiting int
	// MemoryBytes is the guest memory and tables instances hold, counted
	// against NodeMemoryBytes (0: no budget).
	MemoryBytes, NodeMemoryBytes int64
	// InstanceWaits counts the calls that waited for a new instance
	// under InstanceRate; InstanceTimeouts those that had none before
	// their deadline. Both only grow.
	InstanceWaits, InstanceTimeouts int64
}

// Stats reports pool sizes, slots and memory, for metrics.
func (e *Engine) Stats() Stats {
	e.sched.mu.Lock()
	busy := e.sched.busy
	e.sched.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	s := Stats{Pools: len(e.pools), Idle: e.idle, Closing: e.closingN, Modules: len(e.modules),
		Slots: e.sched.slots, SlotsBusy: busy, SlotsWaiting: int(e.sched.waiters.Load()),
		MemoryBytes: e.memUsed.Load(), NodeMemoryBytes: int64(e.cfg.NodeMemoryBytes),
		InstanceWaits: e.instRate.waited.Load(), InstanceTimeouts: e.instRate.refused.Load()}
	for _, p := range e.pools {
		s.Busy += p.total - len(p.idle) - p.closing
	}
	return s
}
