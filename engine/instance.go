package engine

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// instance is one initialised module instance. It serves one call at a
// time; cur is the call it serves.
type instance struct {
	mod       api.Module
	interrupt api.MutableGlobal // nil when the module runs with wazero's checks
	fns       map[string]api.Function
	memLimit  uint64
	memHit    atomic.Bool
	cur       atomic.Pointer[callState]
	st        callState   // the state of the current call, reused
	timer     *time.Timer // sets the interrupt flag at a call's deadline
	lastUsed  time.Time
}

// initTimeout bounds _initialize, which runs outside any call.
const initTimeout = 10 * time.Second

func (e *Engine) instantiate(ctx context.Context, m *Module, env map[string]string, memLimit uint64) (*instance, error) {
	for _, mem := range m.compiled.ExportedMemories() {
		if uint64(mem.Min())*65536 > memLimit {
			return nil, fmt.Errorf("module needs %d bytes of memory at start, over the limit of %d", uint64(mem.Min())*65536, memLimit)
		}
	}
	inst := &instance{memLimit: memLimit, fns: make(map[string]api.Function, len(m.info.Functions))}
	cfg := wazero.NewModuleConfig().
		WithName("").
		WithStdout(&logWriter{inst: inst, stream: streamStdout}).
		WithStderr(&logWriter{inst: inst, stream: streamStderr}).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(inst.nanosleep).
		WithRandSource(rand.Reader).
		WithStartFunctions()
	keys := make([]string, 0, len(env))
	for k := range env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		cfg = cfg.WithEnv(k, env[k])
	}
	ictx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	ictx = experimental.WithMemoryAllocator(ictx, experimental.MemoryAllocatorFunc(inst.allocate))
	mod, err := m.runtime.InstantiateModule(ictx, m.compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	inst.mod = mod
	if m.interruptible {
		g, ok := mod.ExportedGlobal(wasmbin.InterruptExport).(api.MutableGlobal)
		if !ok {
			mod.Close(ctx)
			return nil, fmt.Errorf("instantiate: the interrupt flag is missing")
		}
		inst.interrupt = g
	}
	if m.hasInit {
		if _, err := inst.call(ictx, mod.ExportedFunction("_initialize")); err != nil {
			mod.Close(ctx)
			if inst.memHit.Load() {
				return nil, fmt.Errorf("_initialize: memory limit of %d bytes reached", memLimit)
			}
			return nil, fmt.Errorf("_initialize: %w", err)
		}
	}
	for _, fn := range m.info.Functions {
		inst.fns[fn] = mod.ExportedFunction(fn)
	}
	return inst, nil
}

// call runs fn and stops it when ctx ends: through the interrupt flag, or
// through wazero's own checks for modules that could not be instrumented.
// interrupted reports that ctx ended while fn ran; the instance must not
// be reused then, as its flag may be set.
func (inst *instance) call(ctx context.Context, fn api.Function, params ...uint64) ([]uint64, error) {
	res, _, err := inst.callInterruptible(ctx, fn, params...)
	return res, err
}

func (inst *instance) callInterruptible(ctx context.Context, fn api.Function, params ...uint64) (res []uint64, interrupted bool, err error) {
	if inst.interrupt == nil {
		res, err = fn.Call(ctx, params...)
		return res, ctx.Err() != nil, err
	}
	stop := context.AfterFunc(ctx, inst.interruptNow)
	res, err = fn.Call(ctx, params...)
	return res, !stop(), err
}

// interruptNow makes the running code trap at its next loop header.
func (inst *instance) interruptNow() {
	if inst.interrupt != nil {
		inst.interrupt.Set(1)
	}
}

func (inst *instance) close(ctx context.Context) {
	if inst.timer != nil {
		inst.timer.Stop()
	}
	if inst.mod != nil {
		inst.mod.Close(ctx)
	}
}

// nanosleep serves WASI's poll_oneoff clock waits: it never sleeps past the
// current call's deadline, so a sleeping guest is stopped on time.
func (inst *instance) nanosleep(ns int64) {
	d := time.Duration(ns)
	if st := inst.cur.Load(); st != nil {
		if left := time.Until(st.deadline); left < d {
			d = left
		}
	} else if d > initTimeout {
		d = initTimeout
	}
	if d > 0 {
		time.Sleep(d)
	}
}

// allocate backs the instance's linear memory with a buffer that refuses
// to grow past the instance's memory limit: memory.grow then fails inside
// the guest, and the call ends as resource_exhausted.
func (inst *instance) allocate(capacity, max uint64) experimental.LinearMemory {
	if max > inst.memLimit {
		max = inst.memLimit
	}
	if capacity > max {
		capacity = max
	}
	return &cappedMemory{inst: inst, max: max, buf: make([]byte, 0, capacity)}
}

type cappedMemory struct {
	inst *instance
	max  uint64
	buf  []byte
}

func (m *cappedMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		m.inst.memHit.Store(true)
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
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
	buf := make([]byte, size, newCap)
	copy(buf, m.buf)
	m.buf = buf
	return buf
}

func (m *cappedMemory) Free() { m.buf = nil }
