package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The benchmarks compare the engine with the same export called on a bare
// wazero instance, in the same run (see BENCHMARKS.md).

const loginInput = `{"query":{"email":"ada@example.com"},"password":"pw","context":{"tenant":"t1","connection":"c","requestId":"r1"}}`

var userRow = json.RawMessage(`{"columns":["id","email","username","nickname","phone","photo","password_hash"],"rows":[["42","ada@example.com","ada","Ada","+15550100","https://example.com/a.png","pw"]]}`)

type rowHost struct{}

func (rowHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	tr.Target = "bench"
	return userRow, nil
}

// rawInstance is a bare wazero instance with a minimal host module: the
// floor any engine call stands on.
type rawInstance struct {
	r    wazero.Runtime
	mod  api.Module
	in   []byte
	out  []byte
	resp []byte
}

// raw modes: the module as built, without and with wazero's termination
// checks, and as the engine instruments it, without wazero's checks.
const (
	rawPlain = iota
	rawWazeroChecks
	rawInstrumented
)

func newRaw(b *testing.B, wasm []byte, mode int) *rawInstance {
	b.Helper()
	terminate := mode == rawWazeroChecks
	if mode == rawInstrumented {
		p, err := wasmbin.Instrument(wasm, wasmbin.Options{})
		if err != nil {
			b.Fatal(err)
		}
		wasm = p.Code
	}
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(terminate).WithCompilationCache(sharedCache(b))
	ri := &rawInstance{r: wazero.NewRuntimeWithConfig(ctx, cfg)}
	b.Cleanup(func() { ri.r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, ri.r)
	if mode == rawInstrumented {
		// The engine's yield without its checks: what fuel counting costs.
		if _, err := ri.r.NewHostModuleBuilder(wasmbin.YieldModule).NewFunctionBuilder().
			WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) { s[0] = 100_000 }),
				nil, []api.ValueType{api.ValueTypeI64}).Export(wasmbin.YieldName).Instantiate(ctx); err != nil {
			b.Fatal(err)
		}
	}
	i32 := api.ValueTypeI32
	hb := ri.r.NewHostModuleBuilder("sluice")
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		m.Memory().Write(uint32(s[0]), ri.in)
	}), []api.ValueType{i32}, nil).Export("input_read")
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		b, _ := m.Memory().Read(uint32(s[0]), uint32(s[1]))
		ri.out = append(ri.out[:0], b...)
	}), []api.ValueType{i32, i32}, nil).Export("output_write")
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
	}), []api.ValueType{i32, i32, i32}, nil).Export("log")
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		ri.resp, _ = json.Marshal(map[string]json.RawMessage{"result": userRow})
		s[0] = uint64(len(ri.resp))
	}), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export("host_call")
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		m.Memory().Write(uint32(s[0]), ri.resp)
	}), []api.ValueType{i32}, nil).Export("host_response_read")
	if _, err := hb.Instantiate(ctx); err != nil {
		b.Fatal(err)
	}
	mod, err := ri.r.InstantiateWithConfig(ctx, wasm, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	ri.mod = mod
	return ri
}

func (ri *rawInstance) call(b *testing.B, fn string, input []byte) {
	f := ri.mod.ExportedFunction(fn)
	ri.in = input
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := f.Call(ctx, uint64(len(input))); err != nil {
			b.Fatal(err)
		}
	}
}

var benchCache wazero.CompilationCache

func sharedCache(b *testing.B) wazero.CompilationCache {
	if benchCache == nil {
		c, err := wazero.NewCompilationCacheWithDir(cacheDir)
		if err != nil {
			b.Fatal(err)
		}
		benchCache = c
	}
	return benchCache
}

func benchEngine(b *testing.B, guest, fn, input string, host engine.Host) {
	e := newEngine(b, engine.Config{})
	m := load(b, e, guest)
	req := engine.Request{Tenant: "t1", Pool: "c", Function: fn, Input: []byte(input), Host: host}
	ctx := context.Background()
	if _, err := e.Call(ctx, m, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Call(ctx, m, req); err != nil {
			b.Fatal(err)
		}
	}
}

func rawModes(b *testing.B, wasm []byte, fn string) {
	b.Run("raw", func(b *testing.B) { newRaw(b, wasm, rawPlain).call(b, fn, []byte(loginInput)) })
	b.Run("raw-wazero-checks", func(b *testing.B) { newRaw(b, wasm, rawWazeroChecks).call(b, fn, []byte(loginInput)) })
	b.Run("raw-instrumented", func(b *testing.B) { newRaw(b, wasm, rawInstrumented).call(b, fn, []byte(loginInput)) })
}

// BenchmarkWarmCall: a no-op export (login echoes its input) through the
// engine, and on bare instances with and without loop checks.
func BenchmarkWarmCall(b *testing.B) {
	wasm := wasmbuild.Test(b, "testdata/guests/basic")
	rawModes(b, wasm, "login")
	b.Run("engine", func(b *testing.B) { benchEngine(b, "basic", "login", loginInput, nil) })
}

// BenchmarkRealisticCall: a login-shaped call (JSON in, one host call, JSON
// out) — where timeout enforcement must stay cheap.
func BenchmarkRealisticCall(b *testing.B) {
	wasm := wasmbuild.Test(b, "testdata/guests/realistic")
	rawModes(b, wasm, "login")
	b.Run("engine", func(b *testing.B) { benchEngine(b, "realistic", "login", loginInput, rowHost{}) })
}

// BenchmarkLoopHeavy: a tight loop, the worst case for loop checks.
func BenchmarkLoopHeavy(b *testing.B) {
	wasm := wasmbuild.Test(b, "testdata/guests/realistic")
	rawModes(b, wasm, "getUser")
	b.Run("engine", func(b *testing.B) { benchEngine(b, "realistic", "getUser", loginInput, nil) })
}

// BenchmarkInstantiate: a new instance from a compiled module, including
// its start function and _initialize, as a pool miss pays it, and the
// call that follows, of a Go test guest, a shipped template and a
// hand-written WAT guest. cpu-µs/op is the process's CPU time (user and
// system, all threads) per instance: on a shared machine it moves less
// than the wall-clock time.
func BenchmarkInstantiate(b *testing.B) {
	guests := []struct {
		name, fn, input string
		wasm            func(b *testing.B) []byte
		host            engine.Host
	}{
		{"basic", "login", `{}`, func(b *testing.B) []byte { return wasmbuild.Test(b, "testdata/guests/basic") }, nil},
		{"static", "getUser", `{"query":{"id":"3"}}`, func(b *testing.B) []byte { return wasmbuild.Test(b, "../examples/static") }, nil},
		{"wat", "getUser", `{}`, func(b *testing.B) []byte { return watGuest(b, "image") }, nil},
	}
	for _, g := range guests {
		b.Run(g.name, func(b *testing.B) {
			e := newEngine(b, engine.Config{})
			m, err := e.Load(context.Background(), g.wasm(b))
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				// MaxInstances 1 and a fresh pool name: every call instantiates.
				req := engine.Request{Tenant: "t", Pool: fmt.Sprint(i), Function: g.fn, Input: []byte(g.input), Host: g.host, Limits: engine.Limits{MaxInstances: 1}}
				if _, err := e.Call(ctx, m, req); err != nil {
					b.Fatal(err)
				}
				e.Evict(ctx, "t", req.Pool)
			}
			b.StopTimer()
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watGuest assembles testdata/wat/NAME.wat with wabt's wat2wasm.
func watGuest(tb testing.TB, name string) []byte {
	tb.Helper()
	return assembleWAT(tb, filepath.Join("testdata", "wat", name+".wat"))
}

// assembleWAT assembles the WAT file at path with wabt's wat2wasm.
func assembleWAT(tb testing.TB, path string) []byte {
	tb.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return wasmbuild.WAT(tb, string(src))
}

// BenchmarkCompile: a cold compile against one served from the on-disk
// cache, as after a restart.
func BenchmarkCompile(b *testing.B) {
	wasm := wasmbuild.Test(b, "testdata/guests/basic")
	ctx := context.Background()
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(true))
			if _, err := r.CompileModule(ctx, wasm); err != nil {
				b.Fatal(err)
			}
			r.Close(ctx)
		}
	})
	b.Run("disk-cache", func(b *testing.B) {
		dir := b.TempDir()
		warm, _ := wazero.NewCompilationCacheWithDir(dir)
		r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(true).WithCompilationCache(warm))
		r.CompileModule(ctx, wasm)
		r.Close(ctx)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			cache, _ := wazero.NewCompilationCacheWithDir(dir) // a new process: empty memory, warm disk
			r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCloseOnContextDone(true).WithCompilationCache(cache))
			if _, err := r.CompileModule(ctx, wasm); err != nil {
				b.Fatal(err)
			}
			r.Close(ctx)
			cache.Close(ctx)
		}
	})
}

// BenchmarkLoad: what a restart pays per module in Engine.Load (validate,
// instrument, compile, probe one instance): a cold compile against the
// on-disk cache a previous process left.
func BenchmarkLoad(b *testing.B) {
	wasm := wasmbuild.Test(b, "testdata/guests/basic")
	ctx := context.Background()
	load := func(b *testing.B, dir string) {
		e, err := engine.New(ctx, engine.Config{CacheDir: dir})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := e.Load(ctx, wasm); err != nil {
			b.Fatal(err)
		}
		e.Close(ctx)
	}
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			load(b, b.TempDir())
		}
	})
	b.Run("disk-cache", func(b *testing.B) {
		dir := b.TempDir()
		load(b, dir)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			load(b, dir)
		}
	})
}

// BenchmarkIdleInstanceMemory reports what one idle instance holds: its
// linear memory and the host heap it costs.
func BenchmarkIdleInstanceMemory(b *testing.B) {
	const n = 32
	for i := 0; i < b.N; i++ {
		e := newEngine(b, engine.Config{})
		m := load(b, e, "basic")
		ctx := context.Background()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var guest uint64
		for j := 0; j < n; j++ {
			res, err := e.Call(ctx, m, engine.Request{Tenant: "t", Pool: string(rune(j)), Function: "login", Input: []byte(`{}`)})
			if err != nil {
				b.Fatal(err)
			}
			guest = res.MemoryBytes
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(guest), "guest-bytes/instance")
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/n, "heap-bytes/instance")
		e.Close(ctx)
	}
}

func init() {
	// The benchmarks use the package's shared compilation cache; make
	// sure it exists when only benchmarks run.
	if cacheDir == "" {
		cacheDir, _ = os.MkdirTemp("", "sluice-engine-bench-")
	}
}
