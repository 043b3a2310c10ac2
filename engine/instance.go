package engine

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime/metrics"
	"sort"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// instance is one module instance. It serves one call at a time; cur is
// the call it serves. Its start function and _initialize run in its first
// call, under that call's limits.
type instance struct {
	e           *Engine
	m           *Module
	mod         api.Module
	fns         map[string]api.Function // made at a function's first call: each has a stack
	meter       api.Global              // fuel and the estimate of the call stack (wasmbin.MeterExport)
	flags       api.Global              // limits the code hit (wasmbin.FlagsExport)
	memLimit    uint64                  // the call's memory quota
	linearMax   uint64                  // memLimit less what the tables can take
	memHit      atomic.Bool
	nodeMemHit  atomic.Bool // the node's memory budget refused a grow
	tableBytes  uint64      // reserved in the node budget for the tables
	startBytes  uint64      // reserved for the memory's first pages, handed to allocate
	allocated   bool        // allocate took startBytes over
	initialized bool
	cur         atomic.Pointer[callState]
	st          callState // the state of the current call, reused
	lastUsed    time.Time
	// runnable reads how many goroutines wait for a P (checkpoint).
	runnable [1]metrics.Sample
}

// tableEntryBytes is what wazero keeps per table entry.
const tableEntryBytes = 8

func (e *Engine) instantiate(ctx context.Context, m *Module, env map[string]string, memLimit uint64, deadline time.Time) (*instance, error) {
	tableBytes := m.tableEntries * tableEntryBytes
	if tableBytes >= memLimit {
		return nil, &memoryError{fmt.Sprintf("the module's tables can take %d bytes, over the memory limit of %d MiB", tableBytes, memLimit>>20)}
	}
	linearMax := memLimit - tableBytes
	var minBytes uint64
	for _, mem := range m.compiled.ExportedMemories() {
		minBytes = uint64(mem.Min()) * 65536
		if minBytes > linearMax {
			return nil, &memoryError{fmt.Sprintf("the module needs %d bytes of memory at start, over the limit of %d MiB (less %d bytes its tables can take)", minBytes, memLimit>>20, tableBytes)}
		}
	}
	// The tables and the memory's first pages are reserved before wazero
	// sees the module: it cannot take an allocator's refusal of the first
	// pages (it panics), only of later growth.
	need := int64(tableBytes + minBytes)
	if budget := int64(e.cfg.NodeMemoryBytes); budget > 0 && need > budget {
		return nil, Errorf(CodeResourceExhausted, "the module needs %d bytes at start (memory and tables), over the node's memory budget of %d MiB", need, budget>>20)
	}
	if ok, evicted := e.reserveEvicting(need, deadline); !ok {
		if evicted {
			return nil, &evictedError{e.nodeMemoryError()}
		}
		return nil, e.nodeMemoryError()
	}
	inst := &instance{e: e, m: m, memLimit: memLimit, linearMax: linearMax, tableBytes: tableBytes, startBytes: minBytes,
		fns: make(map[string]api.Function, 2)}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStdout(&logWriter{inst: inst, stream: streamStdout}).
		WithStderr(&logWriter{inst: inst, stream: streamStderr}).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.nanosleep).
		WithRandSource(&randSource{inst: inst}).
		WithStartFunctions() // the instrumented module has none; see start
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cfg = cfg.WithEnv(k, env[k])
	}
	ictx := experimental.WithMemoryAllocator(ctx, experimental.MemoryAllocatorFunc(inst.allocate))
	mod, err := e.runtime.InstantiateModule(ictx, m.compiled, cfg)
	if err != nil {
		e.free(int64(tableBytes))
		if !inst.allocated {
			e.free(int64(minBytes)) // no memory took them over
		}
		if inst.nodeMemHit.Load() {
			return nil, e.nodeMemoryError()
		}
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	inst.meter = mod.ExportedGlobal(wasmbin.MeterExport)
	inst.flags = mod.ExportedGlobal(wasmbin.FlagsExport)
	return inst, nil
}

// function returns the exported function name, made once per instance:
// wazero gives each its own call stack, so only those called are made.
func (inst *instance) function(name string) api.Function {
	f := inst.fns[name]
	if f == nil {
		f = inst.mod.ExportedFunction(name)
		inst.fns[name] = f
	}
	return f
}

// memoryError is an instance that cannot be made within a memory limit.
type memoryError struct{ msg string }

func (e *memoryError) Error() string { return e.msg }

// start runs the module's start function and _initialize, once, as part
// of the call st: under its deadline, its CPU slot and its fuel checks.
func (inst *instance) start(st *callState) error {
	inst.initialized = true
	for _, name := range []string{wasmbin.StartExport, "_initialize"} {
		if name == wasmbin.StartExport && !inst.m.hasStart || name == "_initialize" && !inst.m.hasInit {
			continue
		}
		if _, err := inst.mod.ExportedFunction(name).Call(st.ctx); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// deadline is the current call's, or now outside a call.
func (inst *instance) deadline() time.Time {
	if st := inst.cur.Load(); st != nil {
		return st.deadline
	}
	return time.Now()
}

func (inst *instance) close(ctx context.Context) {
	if inst.mod != nil {
		inst.mod.Close(ctx)
		inst.mod, inst.fns, inst.meter, inst.flags = nil, nil, nil, nil
		inst.e.free(int64(inst.tableBytes))
	}
}

// nanosleep serves WASI's poll_oneoff clock waits: it never sleeps past the
// current call's deadline, and ends when the call is canceled.
func (inst *instance) nanosleep(ns int64) {
	st := inst.cur.Load()
	if st == nil {
		return // no guest code runs outside a call
	}
	d := time.Duration(ns)
	if left := time.Until(st.deadline); left < d {
		d = left
	}
	if d <= 0 {
		return
	}
	// A sleeping guest runs no code: let another call have the slot.
	st.releaseSlot()
	t := time.NewTimer(d)
	select {
	case <-t.C:
	case <-st.ctx.Done():
		t.Stop()
	}
	if err := st.reacquireSlot(); err != nil && st.abort == nil {
		st.abort = err
	}
}

// randSource serves WASI's random_get, a host function of wazero's that
// the guest may call with its whole memory as the buffer: it hands out
// at most randChunk bytes per read and stops giving any once the call is
// past its deadline, so one random_get cannot outlast the call by more
// than one chunk. A call gets randBytesPerCall bytes in all (keys and
// salts need tens): past them random_get fails and the call ends as
// resource_exhausted at its next checkpoint. Without the bound a guest
// asking for its whole memory in a loop spends its slot in crypto/rand,
// where the scheduler cannot hand the slot on.
type randSource struct{ inst *instance }

const (
	randChunk        = 64 << 10
	randBytesPerCall = 1 << 20
)

var errCallOver = errors.New("the call is over its limits")

func (r *randSource) Read(p []byte) (int, error) {
	st := r.inst.cur.Load()
	if st == nil || st.abort != nil || time.Now().After(st.deadline) {
		return 0, errCallOver
	}
	if st.randBytes >= randBytesPerCall {
		st.abort = Errorf(CodeResourceExhausted, "random_get was asked for more than %d bytes in this call", randBytesPerCall)
		return 0, errCallOver
	}
	p = p[:min(len(p), randChunk, randBytesPerCall-st.randBytes)]
	st.randBytes += len(p)
	return rand.Read(p)
}

// allocate backs the instance's linear memory with a buffer that refuses
// to grow past the instance's memory limit (less its tables) or the node's
// memory budget: memory.grow then fails inside the guest, and the call
// ends as resource_exhausted.
func (inst *instance) allocate(capacity, max uint64) experimental.LinearMemory {
	if max > inst.linearMax {
		max = inst.linearMax
	}
	if capacity > max {
		capacity = max
	}
	m := &cappedMemory{inst: inst, max: max}
	// The first pages were reserved by instantiate; more capacity is only
	// a wish.
	inst.allocated = true
	if capacity < inst.startBytes || !inst.e.reserve(int64(capacity-inst.startBytes)) {
		capacity = inst.startBytes
	}
	m.reserved = capacity
	im := inst.m.image
	if m.region, m.unmap = reserveAddressSpace(max); m.region != nil {
		m.buf = m.region[:0]
		m.populated = lazyBytes
		if im != nil && im.fd >= 0 && mapImage(m.region, im.fd, im.size) {
			im = nil // the memory starts as the image
		}
	} else {
		m.buf = make([]byte, 0, capacity)
	}
	m.pending = im
	return m
}

// cappedMemory is a linear memory that grows up to max, within the
// node's budget. Its bytes are a mapping of max bytes of address space
// where the OS allows (reserveAddressSpace): it then grows in place,
// touching pages only as the guest does. Otherwise it lives in the Go
// heap and is copied as it grows.
type cappedMemory struct {
	inst     *instance
	max      uint64
	buf      []byte
	region   []byte // the mapping, or nil
	unmap    func()
	reserved uint64 // bytes of the node budget this memory holds
	// pending is the module's memory image when it could not be mapped:
	// it is copied in as the memory first reaches its size.
	pending *memImage
	// populated is where populate goes on from: the pages below it are
	// backed, or (under lazyBytes) left to be backed as they are touched.
	populated uint64
}

// lazyBytes is how much of a memory's start is backed as it is touched:
// at most 1 024 first touches, under 15 ms on this project's VMs, the
// whole memory of most guests (a Go guest starts with 3 MiB) and the
// data of nearly all. What lies beyond is populated.
const lazyBytes = 4 << 20

// populateChunk is how much populate backs in one raw syscall, between
// two checkpoints and two chances for the runtime to stop the
// goroutine: 256 KiB, 64 first touches, under a millisecond.
const populateChunk = 256 << 10

func (m *cappedMemory) Reallocate(size uint64) []byte {
	buf := m.reallocate(size)
	if buf != nil && m.region != nil && size > m.populated && !m.populate(size) {
		return nil
	}
	if im := m.pending; im != nil && uint64(len(buf)) >= im.end {
		im.copyInto(buf)
		m.pending = nil
	}
	return buf
}

// populate backs the region's pages up to size, past lazyBytes, before
// the guest can touch them. A fresh page costs a fault at its first
// write (1.7 µs on this project's VMs at best, 15 µs at worst; a page
// of the memory image is copied then), and a guest writing one byte a
// page takes those faults in its own code, between two fuel checks: a
// loop over the 262 144 pages of a 1 GiB memory made some 12 000 faults
// between checks, and the Go runtime's stop-the-world, which waits for every
// goroutine to reach Go code, waited up to 47 ms for it, holding
// /healthz up to 139 ms (memory_touch). Populated 256 KiB at a time
// (populate), with the goroutine stoppable between two, it holds the
// world up for under a millisecond. Between two it checkpoints, as a
// fuel yield does: past the call's deadline the grow fails and the call
// ends as timeout, and goroutines waiting for the P get it. A kernel
// without MADV_POPULATE_WRITE leaves the pages to be backed as they are
// touched.
func (m *cappedMemory) populate(size uint64) bool {
	for m.populated < size {
		end := min(size, m.populated+populateChunk)
		if st := m.inst.cur.Load(); st != nil {
			// As at a fuel yield: the deadline, the slot's fair share,
			// and the goroutines waiting for this P.
			if err := st.checkpoint(); err != nil {
				if st.abort == nil {
					st.abort = err
				}
				return false
			}
		}
		if !populate(m.region[m.populated:end]) {
			m.populated = uint64(len(m.region)) // never again for this memory
			return true
		}
		m.populated = end
	}
	return true
}

func (m *cappedMemory) reallocate(size uint64) []byte {
	if size > m.max {
		m.inst.memHit.Store(true)
		return nil
	}
	if size <= m.reserved {
		m.buf = m.buf[:size]
		return m.buf
	}
	if m.region != nil {
		// In place: only the budget has to grow.
		if !m.inst.e.reserveOrEvict(int64(size-m.reserved), m.inst.deadline()) {
			m.inst.nodeMemHit.Store(true)
			return nil
		}
		m.reserved = size
		m.buf = m.region[:size]
		return m.buf
	}
	// Grow geometrically to keep copies rare, but never past the cap.
	newCap := uint64(cap(m.buf)) * 2
	if newCap < size {
		newCap = size
	}
	if newCap > m.max {
		newCap = m.max
	}
	if !m.inst.e.reserveOrEvict(int64(newCap-m.reserved), m.inst.deadline()) {
		// Try for just what was asked.
		if newCap = size; !m.inst.e.reserveOrEvict(int64(newCap-m.reserved), m.inst.deadline()) {
			m.inst.nodeMemHit.Store(true)
			return nil
		}
	}
	m.reserved = newCap
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *cappedMemory) Free() {
	m.buf = nil
	if m.unmap != nil {
		m.unmap()
		m.region, m.unmap = nil, nil
	}
	m.inst.e.free(int64(m.reserved))
	m.reserved = 0
}
