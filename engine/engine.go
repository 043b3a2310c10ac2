package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// Config is the engine's immutable configuration.
type Config struct {
	// CacheDir keeps compiled modules across restarts; empty keeps them
	// in memory only.
	CacheDir string
	// MaxModuleBytes refuses larger modules. Default 32 MiB.
	MaxModuleBytes int
	// MaxMemoryBytes is the ceiling no call's memory limit can exceed.
	// Default 1 GiB.
	MaxMemoryBytes uint64
	// DefaultLimits fill the zero fields of a call's Limits.
	DefaultLimits Limits
	// IdleTimeout closes instances unused for this long. Default 2 minutes.
	IdleTimeout time.Duration
	// MaxIdleInstances bounds the idle instances kept across all pools.
	// Default 256.
	MaxIdleInstances int
	// ModuleIdleTimeout releases a compiled module that no pool has used
	// for this long (its machine code is megabytes). Calls on it then fail
	// with ErrEvicted: Load the module again (from the disk cache it is
	// quick). Default 10 minutes.
	ModuleIdleTimeout time.Duration

	// GuestSlots is how many calls may run guest code at once, shared
	// fairly between tenants. Default runtime.GOMAXPROCS(0): one per core.
	GuestSlots int
	// MaxQueuedCalls bounds the calls waiting for a guest slot; more are
	// refused as quota_exceeded, and so are a tenant's calls beyond 64
	// waiting. Default 1024 per slot.
	MaxQueuedCalls int
	// TimeSlice is how long a call keeps its slot before handing it to a
	// waiting tenant that holds fewer slots. Default 2ms.
	TimeSlice time.Duration
	// InstanceRate is how many instances one tenant's calls may lose
	// per second on this node (traps, stack or memory exhausted,
	// timeouts, failed starts), after a burst of InstanceBurst; past it
	// its calls that need a new instance wait (timeout at their
	// deadline). Instances the engine closes itself are not counted.
	// Default 20, burst 32; clamped to 0.001..1e6 and 1..1e6.
	InstanceRate  float64
	InstanceBurst int
	// NodeMemoryBytes bounds the linear memory and tables of all
	// instances together; a new instance or a memory.grow that would pass
	// it first closes idle instances, then fails as resource_exhausted.
	// Zero: no node budget.
	NodeMemoryBytes uint64
	// StartTimeout bounds the probe of a module being loaded: its start
	// function, _initialize and ABI version, run once. Default 2s.
	StartTimeout time.Duration
	// Bounded compilation (compile_worker.go, module_limits.go).

	// ModuleLimits bound what a module may declare (functions, body size,
	// nesting, br_table targets, loops, tables, ...): Validate refuses a
	// module over one with a *ModuleError naming it. Zero fields take
	// DefaultModuleLimits.
	ModuleLimits ModuleLimits
	// CompileWorker is the command (argv) of a compile worker, a process
	// that runs RunCompileWorker (`sluice compile-worker`). With it and a
	// CacheDir, every module compiles in a worker first, bounded by
	// CompileTimeout and CompileMemoryBytes, and a module that goes past
	// them is refused. Empty: modules compile in this process, unbounded.
	CompileWorker []string
	// CompileTimeout bounds one worker compile. Default 30 seconds.
	CompileTimeout time.Duration
	// CompileMemoryBytes bounds the address space one worker compile may
	// map beyond what the worker's Go runtime reserved at its start (tens
	// of MiB of which it may still fill). Default 2 GiB.
	CompileMemoryBytes uint64
}

// fuelPerYield is how many instruction units guest code runs between two
// yields to the host (wasmbin.Instrument): at most a few milliseconds
// even for code that misses the cache at every load, and few enough
// yields that they cost under 1% (BENCHMARKS.md).
const fuelPerYield = 100_000

// maxStackBytes bounds a call's stack, as the instrumented code estimates
// it (wasmbin.Options.MaxStackBytes): wazero would grow it to hundreds of
// megabytes, outside the memory limit. Each doubling is a new Go slice,
// and a call that runs out of stack loses its instance: 1 MiB keeps that
// garbage at about 2.6 MiB a call (RATIONALE.md).
const maxStackBytes = 1 << 20

// DefaultLimits are used for every zero field of Config.DefaultLimits.
func DefaultLimits() Limits {
	return Limits{
		Timeout:        5 * time.Second,
		MemoryBytes:    64 << 20,
		MaxInputBytes:  1 << 20,
		MaxOutputBytes: 1 << 20,
		MaxLogBytes:    64 << 10,
		MaxHostCalls:   100,
		MaxHostBytes:   16 << 20,
		MaxInstances:   8,
	}
}

func (c Config) withDefaults() Config {
	if c.MaxModuleBytes <= 0 {
		c.MaxModuleBytes = 32 << 20
	}
	if c.MaxMemoryBytes == 0 {
		c.MaxMemoryBytes = 1 << 30
	}
	if c.MaxMemoryBytes > 4<<30 {
		c.MaxMemoryBytes = 4 << 30
	}
	c.DefaultLimits = c.DefaultLimits.orDefaults(DefaultLimits())
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 2 * time.Minute
	}
	if c.MaxIdleInstances <= 0 {
		c.MaxIdleInstances = 256
	}
	if c.ModuleIdleTimeout <= 0 {
		c.ModuleIdleTimeout = 10 * time.Minute
	}
	if c.GuestSlots <= 0 {
		c.GuestSlots = runtime.GOMAXPROCS(0)
	}
	if c.MaxQueuedCalls <= 0 {
		c.MaxQueuedCalls = 1024 * c.GuestSlots
	}
	if c.TimeSlice <= 0 {
		c.TimeSlice = 2 * time.Millisecond
	}
	if c.InstanceRate <= 0 {
		c.InstanceRate = 20
	}
	if c.InstanceBurst <= 0 {
		c.InstanceBurst = 32
	}
	if c.StartTimeout <= 0 {
		c.StartTimeout = 2 * time.Second
	}
	return c.withCompileDefaults()
}

func (l Limits) orDefaults(d Limits) Limits {
	if l.Timeout <= 0 {
		l.Timeout = d.Timeout
	}
	if l.MemoryBytes == 0 {
		l.MemoryBytes = d.MemoryBytes
	}
	if l.MaxInputBytes <= 0 {
		l.MaxInputBytes = d.MaxInputBytes
	}
	if l.MaxOutputBytes <= 0 {
		l.MaxOutputBytes = d.MaxOutputBytes
	}
	if l.MaxLogBytes <= 0 {
		l.MaxLogBytes = d.MaxLogBytes
	}
	if l.MaxHostCalls <= 0 {
		l.MaxHostCalls = d.MaxHostCalls
	}
	if l.MaxHostBytes <= 0 {
		l.MaxHostBytes = d.MaxHostBytes
	}
	if l.MaxInstances <= 0 {
		l.MaxInstances = d.MaxInstances
	}
	return l
}

// Engine compiles and runs connector modules. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	runtime  wazero.Runtime
	cache    wazero.CompilationCache
	allowed  map[string]bool // "module.name" of importable host functions
	sched    *scheduler
	instRate *instanceRate
	memUsed  atomic.Int64 // bytes of NodeMemoryBytes reserved

	mu      sync.Mutex
	modules map[string]*moduleEntry // by sha256
	pools   map[poolKey]*pool
	idle    int // idle instances across pools
	// closingN counts the instances being closed in closing; closedOne
	// is closed (and replaced) whenever one of them is gone.
	closingN  int
	closedOne chan struct{}
	closed    bool

	stop chan struct{}
	done chan struct{}
	// closing counts the lost instances being closed in the background
	// (pool.put); Close waits for them.
	closing sync.WaitGroup
}

type moduleEntry struct {
	ready chan struct{} // closed when mod or err is set
	mod   *Module
	err   error
}

// New starts an engine. Close it to release its instances and runtime.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	cfg = cfg.withDefaults()
	// Instrumented code stops itself at its yields: wazero's own
	// termination checks would cost 5-20x (RATIONALE.md). The compile
	// worker compiles with the same configuration, so its result is the
	// cache entry this runtime looks for.
	rc := compileRuntimeConfig(uint32(cfg.MaxMemoryBytes/65536), false)
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		var err error
		if cache, err = wazero.NewCompilationCacheWithDir(cfg.CacheDir); err != nil {
			return nil, fmt.Errorf("engine: compilation cache: %w", err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	e := &Engine{
		cfg:      cfg,
		runtime:  wazero.NewRuntimeWithConfig(ctx, rc),
		cache:    cache,
		allowed:  map[string]bool{},
		sched:    newScheduler(cfg.GuestSlots, cfg.MaxQueuedCalls, cfg.TimeSlice),
		instRate: newInstanceRate(cfg.InstanceRate, cfg.InstanceBurst),
		modules:  map[string]*moduleEntry{},
		pools:    map[poolKey]*pool{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),

		closedOne: make(chan struct{}),
	}
	r := e.runtime
	if err := instantiateWASI(ctx, r); err != nil {
		e.closeRuntimes(ctx)
		return nil, fmt.Errorf("engine: wasi: %w", err)
	}
	host, err := instantiateHostModule(ctx, r)
	if err != nil {
		e.closeRuntimes(ctx)
		return nil, fmt.Errorf("engine: host module: %w", err)
	}
	for _, m := range []api.Module{r.Module(wasi_snapshot_preview1.ModuleName), host} {
		for name := range m.ExportedFunctionDefinitions() {
			e.allowed[m.Name()+"."+name] = true
		}
	}
	if _, err := instantiateYieldModule(ctx, r, fuelPerYield); err != nil {
		e.closeRuntimes(ctx)
		return nil, fmt.Errorf("engine: yield module: %w", err)
	}
	go e.janitor()
	return e, nil
}

// Config returns the engine's configuration with defaults applied.
func (e *Engine) Config() Config { return e.cfg }

// Close stops the engine: every instance and compiled module is released.
// Calls in flight fail.
func (e *Engine) Close(ctx context.Context) error {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil
	}
	e.closed = true
	pools := e.pools
	e.pools = map[poolKey]*pool{}
	e.mu.Unlock()
	close(e.stop)
	<-e.done
	for _, p := range pools {
		p.drain(ctx)
	}
	e.closing.Wait()
	e.mu.Lock()
	for _, ent := range e.modules {
		select {
		case <-ent.ready:
			if ent.mod != nil {
				ent.mod.image.close()
			}
		default: // still compiling: its image file stays open until the process ends
		}
	}
	e.mu.Unlock()
	return e.closeRuntimes(ctx)
}

func (e *Engine) closeRuntimes(ctx context.Context) error {
	err := e.runtime.Close(ctx)
	if e.cache != nil {
		err = errors.Join(err, e.cache.Close(ctx))
	}
	return err
}

// Module is a validated, compiled connector module. It is shared by every
// tenant that uploaded the same bytes; instances are not.
type Module struct {
	info         ModuleInfo
	compiled     wazero.CompiledModule
	hasInit      bool   // exports _initialize
	hasStart     bool   // had a start function, now exported (wasmbin.StartExport)
	tableEntries uint64 // the most entries its tables can hold
	// image is the memory its data segments lay out, which wazero does
	// not see (image.go); nil: wazero writes the data itself.
	image *memImage

	lastUsed atomic.Int64 // unix nanoseconds of the last call
	evicted  atomic.Bool  // its compiled code was released
}

// Info describes the module.
func (m *Module) Info() *ModuleInfo { return &m.info }

// Validate checks a module's bytes without compiling it: size, header,
// ModuleLimits, imports and exports. It returns a *ModuleError naming the problem.
func (e *Engine) Validate(wasm []byte) (*ModuleInfo, error) {
	if len(wasm) == 0 {
		return nil, &ModuleError{Reason: "empty module"}
	}
	if len(wasm) > e.cfg.MaxModuleBytes {
		return nil, &ModuleError{Reason: fmt.Sprintf("module is %d bytes, over the limit of %d", len(wasm), e.cfg.MaxModuleBytes), TooLarge: true}
	}
	bin, err := wasmbin.Parse(wasm)
	if err != nil {
		return nil, &ModuleError{Reason: err.Error()}
	}
	if err := e.checkModuleLimits(wasm); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(wasm)
	info := &ModuleInfo{SHA256: hex.EncodeToString(sum[:]), Size: len(wasm), Imports: []string{}, Functions: []string{}}
	for _, imp := range bin.Imports {
		name := imp.Module + "." + imp.Name
		if imp.Kind != wasmbin.KindFunc || !e.allowed[name] {
			return nil, &ModuleError{Reason: fmt.Sprintf("imports unknown %s %s", wasmbin.KindName(imp.Kind), name)}
		}
		info.Imports = append(info.Imports, name)
	}
	exported := map[string]byte{}
	for _, exp := range bin.Exports {
		if strings.HasPrefix(exp.Name, "__sluice") {
			return nil, &ModuleError{Reason: fmt.Sprintf("exports %q: names starting with __sluice are reserved", exp.Name)}
		}
		exported[exp.Name] = exp.Kind
	}
	if k, ok := exported["memory"]; !ok || k != wasmbin.KindMemory {
		return nil, &ModuleError{Reason: "does not export its memory as \"memory\""}
	}
	if k, ok := exported[abiVersionExport]; !ok || k != wasmbin.KindFunc {
		return nil, &ModuleError{Reason: "does not export " + abiVersionExport + " (see guest-sdk/ABI.md)"}
	}
	for _, fn := range functions {
		if k, ok := exported[fn]; ok && k == wasmbin.KindFunc {
			info.Functions = append(info.Functions, fn)
		}
	}
	if len(info.Functions) == 0 {
		return nil, &ModuleError{Reason: "exports none of the connector functions (login, getUser, searchUser, createUser, updateUser, deleteUser, listUsers, validatePassword)"}
	}
	return info, nil
}

// Load validates and compiles a module, once per distinct content even
// under concurrent first calls, and checks its ABI version by
// instantiating it once.
func (e *Engine) Load(ctx context.Context, wasm []byte) (*Module, error) {
	return e.LoadFor(ctx, "", wasm)
}

// LoadFor is Load on behalf of tenant: validating the bytes and probing
// the module take the tenant's CPU slot, so a tenant uploading in a loop
// spends its own share of the node, not its neighbours'. (Compiling runs
// in the compile worker, a process of its own, when one is configured.)
func (e *Engine) LoadFor(ctx context.Context, tenant string, wasm []byte) (*Module, error) {
	tk, serr := e.sched.acquire(ctx, tenant, 0, time.Now().Add(e.cfg.StartTimeout))
	if serr != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, serr
	}
	info, err := e.Validate(wasm)
	e.sched.release(tk)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return nil, ErrClosed
	}
	if ent, ok := e.modules[info.SHA256]; ok {
		e.mu.Unlock()
		select {
		case <-ent.ready:
			return ent.mod, ent.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	ent := &moduleEntry{ready: make(chan struct{})}
	e.modules[info.SHA256] = ent
	e.mu.Unlock()

	ent.mod, ent.err = e.compile(context.WithoutCancel(ctx), tenant, wasm, info)
	if ent.err == nil {
		ent.mod.lastUsed.Store(time.Now().UnixNano())
	}
	if ent.err != nil {
		e.mu.Lock()
		delete(e.modules, info.SHA256)
		e.mu.Unlock()
	}
	close(ent.ready)
	return ent.mod, ent.err
}

// ErrClosed is returned by an engine after Close.
var ErrClosed = errors.New("engine: closed")

// ErrEvicted is returned by Call for a module whose compiled code was
// released after ModuleIdleTimeout: Load it again.
var ErrEvicted = errors.New("engine: module evicted; load it again")

func (e *Engine) compile(ctx context.Context, tenant string, wasm []byte, info *ModuleInfo) (*Module, error) {
	m := &Module{info: *info}
	prep, cached := e.readPrepared(info.SHA256)
	if !cached {
		p, err := wasmbin.Instrument(wasm, wasmbin.Options{MaxTableEntries: uint32(e.cfg.ModuleLimits.MaxTableEntries), Fuel: fuelPerYield, MaxStackBytes: maxStackBytes})
		if err != nil {
			return nil, &ModuleError{Reason: err.Error()}
		}
		prep = prepared{code: p.Code, tableEntries: p.TableEntries, hasStart: p.HasStart}
	}
	m.info.ABIVersion, m.tableEntries, m.hasStart = prep.abiVersion, prep.tableEntries, prep.hasStart
	code := prep.code
	if stripped, segs, ok := wasmbin.SplitData(prep.code); ok {
		code, m.image = stripped, newMemImage(segs)
	}
	// Compile in a bounded child process first (compile_worker.go); the
	// compile below then finds its result in the cache.
	if err := e.compileInWorker(ctx, code, false, cached); err != nil {
		m.image.close()
		return nil, err
	}
	compiled, err := e.runtime.CompileModule(ctx, code)
	if err != nil {
		m.image.close()
		return nil, &ModuleError{Reason: err.Error()}
	}
	m.compiled = compiled
	_, m.hasInit = compiled.ExportedFunctions()["_initialize"]
	for _, fn := range append([]string{abiVersionExport}, info.Functions...) {
		def := compiled.ExportedFunctions()[fn]
		want := []api.ValueType{api.ValueTypeI32}
		if fn == abiVersionExport {
			want = nil
		}
		if !sameTypes(def.ParamTypes(), want) || !sameTypes(def.ResultTypes(), []api.ValueType{api.ValueTypeI32}) {
			m.release(ctx)
			return nil, &ModuleError{Reason: fmt.Sprintf("export %s has the wrong signature (see guest-sdk/ABI.md)", fn)}
		}
	}
	if cached {
		return m, nil // probed when it was first prepared
	}
	version, err := e.probe(ctx, tenant, m)
	if err != nil {
		m.release(ctx)
		return nil, err
	}
	m.info.ABIVersion = version
	if version != ABIVersion {
		m.release(ctx)
		return nil, &ModuleError{Reason: fmt.Sprintf("speaks ABI version %d; this Sluice speaks version %d", version, ABIVersion)}
	}
	prep.abiVersion = version
	e.writePrepared(info.SHA256, prep)
	return m, nil
}

// release frees the module's compiled code and memory image.
func (m *Module) release(ctx context.Context) {
	m.compiled.Close(ctx)
	m.image.close()
}

// probe proves that a module links, starts and speaks an ABI version, in
// one instance run as a call under the default limits.
func (e *Engine) probe(ctx context.Context, tenant string, m *Module) (int, error) {
	limits := e.cfg.DefaultLimits
	limits.Timeout = e.cfg.StartTimeout
	inst, err := e.instantiate(ctx, m, nil, limits.MemoryBytes, time.Now().Add(limits.Timeout))
	if err != nil {
		var ee *Error
		if errors.As(err, &ee) {
			return 0, ee // the node's memory is busy: nothing wrong with the module
		}
		return 0, &ModuleError{Reason: err.Error()}
	}
	defer inst.close(ctx)
	deadline := time.Now().Add(limits.Timeout)
	tk, serr := e.sched.acquire(ctx, tenant, 0, deadline)
	if serr != nil {
		return 0, &ModuleError{Reason: "could not be started: " + serr.Message}
	}
	st := &inst.st
	*st = callState{inst: inst, req: &Request{}, limits: limits, deadline: deadline, ticket: tk}
	st.ctx = context.WithValue(ctx, callKey{}, st)
	inst.cur.Store(st)
	err = inst.start(st)
	var res []uint64
	if err == nil {
		res, err = inst.mod.ExportedFunction(abiVersionExport).Call(st.ctx)
	}
	inst.cur.Store(nil)
	if st.ticket != nil {
		e.sched.release(st.ticket)
	}
	switch {
	case st.abort != nil:
		return 0, &ModuleError{Reason: "failed to start: " + st.abort.Message}
	case err != nil:
		return 0, &ModuleError{Reason: "failed to start: " + classify(err, inst, limits, ctx).Message}
	}
	return int(int32(res[0])), nil
}

func sameTypes(a, b []api.ValueType) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

const abiVersionExport = "sluice_abi_version"
