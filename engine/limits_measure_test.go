package engine_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
	g "github.com/sluice-dev/sluice/engine/internal/wasmgen"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// shape is a synthetic module sitting at (or near) some module limits.
type shape struct {
	name string
	wasm func(n int) []byte
	n    []int // sizes to measure
}

// limitShapes are the module shapes of the limits, at the default limits
// (the last size of each) and below, to see how compile cost grows.
func limitShapes() []shape {
	d := engine.DefaultModuleLimits()
	one := func(code []byte, locals ...g.Local) []byte { return g.Connector(g.Fn(code, locals...)).Bytes() }
	fracs := func(max int) []int { return []int{max / 4, max / 2, max} }
	return []shape{
		{"nested blocks (maxNestingDepth)", func(n int) []byte { return one(g.Nested(n)) }, fracs(d.MaxNestingDepth)},
		{"nested blocks, br_if to the outermost", func(n int) []byte { return one(g.NestedBr(n)) }, fracs(d.MaxNestingDepth)},
		{"Go dispatch: loop, blocks, br_table, calls", func(n int) []byte { return one(g.GoDispatch(n-1, 1)) }, fracs(d.MaxNestingDepth)},
		{"nested loops", func(n int) []byte { return one(g.NestedLoops(n)) }, fracs(d.MaxNestingDepth)},
		{"br_table (maxBrTableTargets)", func(n int) []byte { return one(g.BrTable(n)) }, fracs(d.MaxBrTableTargets)},
		{"loops in one function (maxLoopsPerFunction)", func(n int) []byte { return one(g.Loops(n)) }, fracs(d.MaxLoopsPerFunction)},
		{"loops in the module (maxLoops)", func(n int) []byte {
			per := d.MaxLoopsPerFunction
			var fns []g.Func
			for left := n; left > 0; left -= per {
				fns = append(fns, g.Fn(g.Loops(min(per, left))))
			}
			return g.Connector(fns...).Bytes()
		}, fracs(d.MaxLoops)},
		{"live locals (maxLocals)", func(n int) []byte {
			return one(g.Locals(n-1), g.Local{N: uint32(n - 1), Type: g.I32})
		}, fracs(d.MaxLocals - 1)}, // at 50000 the instrumenter gives up (its own limit)
		{"straight-line body (maxFunctionBodyBytes)", func(n int) []byte { return one(g.Straight(n / 6)) }, fracs(d.MaxFunctionBodyBytes)},
		{"functions (maxFunctions)", func(n int) []byte {
			fns := make([]g.Func, n-2)
			for i := range fns {
				fns[i] = g.Fn(nil)
			}
			return g.Connector(fns...).Bytes()
		}, fracs(d.MaxFunctions)},
		{"table and elements (maxTableEntries, maxElementEntries)", func(n int) []byte {
			m := g.Connector()
			m.Tables = []g.Table{{Min: uint64(n), Max: uint64(n), HasMax: true}}
			seg := make([]uint32, n)
			m.Elements = [][]uint32{seg}
			return m.Bytes()
		}, fracs(min(d.MaxTableEntries, d.MaxElementEntries))},
		{"data segments (maxDataSegments)", func(n int) []byte {
			m := g.Connector()
			m.Data = make([][]byte, n)
			for i := range m.Data {
				m.Data[i] = []byte{1}
			}
			return m.Bytes()
		}, fracs(d.MaxDataSegments)},
		{"types (maxTypes)", func(n int) []byte {
			m := g.Connector()
			for len(m.Types) < n {
				m.Types = append(m.Types, g.FuncType{Params: g.Repeat([]byte{g.I64}, len(m.Types)%8), Results: []byte{g.I32}})
			}
			return m.Bytes()
		}, fracs(d.MaxTypes)},
		{"imports (maxImports)", func(n int) []byte {
			m := g.Connector()
			for i := range n {
				m.Imports = append(m.Imports, g.Import{Module: "env", Name: strconv.Itoa(i), Type: g.TypeI32I32})
			}
			m.Exports = nil
			return m.Bytes()
		}, fracs(d.MaxImports)},
		{"globals (maxGlobals)", func(n int) []byte {
			m := g.Connector()
			m.Globals = n
			return m.Bytes()
		}, fracs(d.MaxGlobals)},
		{"exports (maxExports)", func(n int) []byte {
			m := g.Connector()
			for i := len(m.Exports); i < n; i++ {
				m.Exports = append(m.Exports, g.Export{Name: "e" + strconv.Itoa(i), Idx: 1})
			}
			return m.Bytes()
		}, fracs(d.MaxExports)},
		{"operand stack: constants filling maxFunctionBodyBytes, then drops", func(n int) []byte {
			k := n / 3
			return one(append(g.Repeat([]byte{0x41, 0x00}, k), g.Repeat([]byte{0x1A}, k)...))
		}, []int{d.MaxFunctionBodyBytes / 16, d.MaxFunctionBodyBytes / 4, d.MaxFunctionBodyBytes - 16}},
		{"nested loops at maxLoopsPerFunction inside br_if blocks to maxNestingDepth", func(n int) []byte {
			outer := d.MaxNestingDepth - n
			code := g.Repeat([]byte{0x02, 0x40}, outer)
			code = append(code, g.NestedLoops(n)...)
			for i := outer - 1; i >= 0; i-- {
				code = append(code, 0x20, 0x00, 0x0D)
				code = g.U32(code, uint32(i))
				code = append(code, 0x0B)
			}
			return one(code)
		}, []int{d.MaxLoopsPerFunction}},
		{"one function at every per-function limit", func(n int) []byte {
			code := g.NestedBr(d.MaxNestingDepth - d.MaxLoopsPerFunction - 1)
			code = append(code, g.NestedLoops(d.MaxLoopsPerFunction)...)
			code = append(code, g.BrTable(d.MaxBrTableTargets)...)
			code = append(code, g.Locals(d.MaxLocals/8)...)
			return one(code, g.Local{N: uint32(d.MaxLocals - 2), Type: g.I32})
		}, []int{1}},
		{"Go dispatch at maxNestingDepth, in 16 MiB of functions", func(n int) []byte {
			fn := g.Fn(g.GoDispatch(d.MaxNestingDepth-1, 1))
			fns := make([]g.Func, n)
			for i := range fns {
				fns[i] = fn
			}
			return g.Connector(fns...).Bytes()
		}, []int{(16 << 20) / len(g.GoDispatch(d.MaxNestingDepth-1, 1))}},
		{"loops at maxLoopsPerFunction to maxLoops, each function nested to maxNestingDepth", func(n int) []byte {
			code := append(g.Nested(d.MaxNestingDepth-1), g.Loops(d.MaxLoopsPerFunction)...)
			fns := make([]g.Func, n)
			for i := range fns {
				fns[i] = g.Fn(code)
			}
			return g.Connector(fns...).Bytes()
		}, []int{d.MaxLoops / d.MaxLoopsPerFunction}},
	}
}

// TestMeasureModuleLimits prints what compiling modules at the module
// limits costs: the figures behind the defaults (BENCHMARKS.md, "Module
// limits"). It runs only with SLUICE_MEASURE_LIMITS=1; each module
// compiles in a compile worker (this test binary) whose peak RSS the
// kernel reports. SLUICE_MEASURE_WASM=a.wasm,... measures those modules
// too. SLUICE_MEASURE_SHAPES=word,... keeps the shapes whose
// name contains a word; SLUICE_MEASURE_N=n,... measures those sizes.
func TestMeasureModuleLimits(t *testing.T) {
	if os.Getenv("SLUICE_MEASURE_LIMITS") != "1" {
		t.Skip("set SLUICE_MEASURE_LIMITS=1 to measure")
	}
	ctx := context.Background()
	// The real guests' own figures (not when only some shapes are asked).
	var all wasmbin.Limits
	guests := []string{"testdata/guests/realistic", "../examples/postgres", "../examples/webservice", "../hostfuncs/testdata/mongoguest"}
	if os.Getenv("SLUICE_MEASURE_SHAPES") != "" {
		guests = nil
	}
	extra := strings.FieldsFunc(os.Getenv("SLUICE_MEASURE_WASM"), func(r rune) bool { return r == ',' })
	for _, dir := range append(guests, extra...) {
		var wasm []byte
		if strings.HasSuffix(dir, ".wasm") {
			var err error
			if wasm, err = os.ReadFile(dir); err != nil {
				t.Fatal(err)
			}
		} else {
			wasm = wasmbuild.Test(t, dir)
		}
		l, err := wasmbin.Measure(wasm)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s (%d bytes): %s", dir, len(wasm), l)
		all = maxLimits(all, l)
		st, err := engine.CompileInWorkerForTest(ctx, engine.Config{CompileWorker: testWorker(), CacheDir: t.TempDir()}, instrumented(t, wasm), false)
		t.Logf("  compiles in %s, %s CPU, peak RSS %d MiB: %v", st.Wall.Round(time.Millisecond), st.CPU.Round(time.Millisecond), st.MaxRSS>>20, err)
	}
	t.Logf("real maxima: %s", all)

	keep := strings.Split(os.Getenv("SLUICE_MEASURE_SHAPES"), ",")
	var rows []string
	for _, s := range limitShapes() {
		if !matchAny(s.name, keep) {
			continue
		}
		sizes := s.n
		if v := os.Getenv("SLUICE_MEASURE_N"); v != "" {
			sizes = nil
			for _, f := range strings.Split(v, ",") {
				n, err := strconv.Atoi(f)
				if err != nil {
					t.Fatalf("SLUICE_MEASURE_N: %v", err)
				}
				sizes = append(sizes, n)
			}
		}
		for _, n := range sizes {
			wasm := s.wasm(n)
			start := time.Now()
			verr := wasmbin.CheckLimits(wasm, wasmbin.Limits{})
			check := time.Since(start)
			code := instrumented(t, wasm)
			dir := t.TempDir()
			cfg := engine.Config{CompileWorker: testWorker(), CacheDir: dir, CompileTimeout: measureTimeout(), CompileMemoryBytes: 16 << 30}
			st, err := engine.CompileInWorkerForTest(ctx, cfg, code, false)
			var hit time.Duration
			if err == nil {
				hit = parentCompile(t, dir, code)
			}
			res := "ok"
			if verr != nil {
				res = "refused: " + verr.Error()
			} else if err != nil {
				res = err.Error()
			}
			row := fmt.Sprintf("| %s | %d | %d KiB | %s | %s | %s | %d MiB | %s | %s |", s.name, n, len(wasm)>>10,
				check.Round(10*time.Microsecond), st.Wall.Round(time.Millisecond), st.CPU.Round(time.Millisecond), st.MaxRSS>>20, hit.Round(100*time.Microsecond), res)
			t.Log(row)
			rows = append(rows, row)
		}
	}
	t.Log("\n| shape | n | module | CheckLimits | worker compile | CPU | peak RSS | parent compile (cache hit) | result |\n|---|---|---|---|---|---|---|---|---|\n" + strings.Join(rows, "\n"))
}

func matchAny(name string, words []string) bool {
	for _, w := range words {
		if strings.Contains(name, strings.TrimSpace(w)) {
			return true
		}
	}
	return false
}

func maxLimits(a, b wasmbin.Limits) wasmbin.Limits {
	pa, pb := strings.Split(a.String(), ","), strings.Split(b.String(), ",")
	s := make([]string, len(pa))
	for i := range pa {
		name, va, _ := strings.Cut(pa[i], "=")
		_, vb, _ := strings.Cut(pb[i], "=")
		x, _ := strconv.Atoi(va)
		y, _ := strconv.Atoi(vb)
		s[i] = name + "=" + strconv.Itoa(max(x, y, 1))
	}
	l, err := wasmbin.ParseLimits(strings.Join(s, ","), wasmbin.Limits{})
	if err != nil {
		panic(err)
	}
	return l
}

// instrumented is the code the engine compiles for wasm.
func instrumented(t testing.TB, wasm []byte) []byte {
	p, err := wasmbin.Instrument(wasm, wasmbin.Options{})
	if err != nil {
		t.Fatalf("instrument: %v", err)
	}
	// The engine compiles the module without the data its memory image
	// holds (image.go).
	if stripped, _, ok := wasmbin.SplitData(p.Code); ok {
		return stripped
	}
	return p.Code
}

// parentCompile compiles code in this process with the engine's runtime
// configuration and the cache in dir, and returns how long it took.
func parentCompile(t testing.TB, dir string, code []byte) time.Duration {
	ctx := context.Background()
	cache, err := wazero.NewCompilationCacheWithDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer cache.Close(ctx)
	r := wazero.NewRuntimeWithConfig(ctx, engine.CompileRuntimeConfigForTest(engine.DefaultMemoryLimitPagesForTest(), false).WithCompilationCache(cache))
	defer r.Close(ctx)
	start := time.Now()
	if _, err := r.CompileModule(ctx, code); err != nil {
		t.Errorf("parent compile: %v", err)
		return 0
	}
	return time.Since(start)
}

func measureTimeout() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("SLUICE_MEASURE_TIMEOUT")); err == nil {
		return d
	}
	return 5 * time.Minute
}
