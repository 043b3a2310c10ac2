package engine_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
	g "github.com/sluice-dev/sluice/engine/internal/wasmgen"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

func connector(code []byte, locals ...g.Local) []byte {
	return g.Connector(g.Fn(code, locals...)).Bytes()
}

func TestValidateRefusesModulesOverTheirLimits(t *testing.T) {
	e := newEngine(t, engine.Config{ModuleLimits: engine.ModuleLimits{
		MaxNestingDepth: 8, MaxBrTableTargets: 16, MaxLoopsPerFunction: 4, MaxLoops: 6, MaxTableEntries: 100, MaxLocals: 10,
	}})
	table := func(n uint64) []byte {
		m := g.Connector()
		m.Tables = []g.Table{{Min: n}}
		return m.Bytes()
	}
	tests := []struct {
		name  string
		wasm  []byte
		limit string // "": accepted
		want  string
	}{
		{"nesting at the limit", connector(g.Nested(8)), "", ""},
		{"nesting over", connector(g.Nested(9)), "maxNestingDepth", "function 2 nests blocks 9 deep, over the limit of 8 (maxNestingDepth)"},
		{"br_table at the limit", connector(g.BrTable(16)), "", ""},
		{"br_table over", connector(g.BrTable(17)), "maxBrTableTargets", "function 2 has a br_table with 17 targets, over the limit of 16 (maxBrTableTargets)"},
		{"loops at the limit", connector(g.Loops(4)), "", ""},
		{"loops over", connector(g.Loops(5)), "maxLoopsPerFunction", "function 2 has 5 loops, over the limit of 4 (maxLoopsPerFunction)"},
		{"loops in the module over", g.Connector(g.Fn(g.Loops(4)), g.Fn(g.Loops(3))).Bytes(), "maxLoops", "the module has 7 loops in all, over the limit of 6 (maxLoops)"},
		{"locals at the limit", connector(nil, g.Local{N: 9, Type: g.I64}), "", ""},
		{"locals over", connector(nil, g.Local{N: 10, Type: g.I64}), "maxLocals", "function 2 has 11 parameters and locals, over the limit of 10 (maxLocals)"},
		{"table at the limit", table(100), "", ""},
		{"table over", table(101), "maxTableEntries", "table 0 starts with 101 entries, over the limit of 100 (maxTableEntries)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Load(context.Background(), tt.wasm)
			if tt.limit == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var me *engine.ModuleError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *ModuleError", err)
			}
			if me.Limit != tt.limit || me.Reason != tt.want {
				t.Errorf("got limit %q, reason %q; want %q, %q", me.Limit, me.Reason, tt.limit, tt.want)
			}
		})
	}
}

func TestModulesAtTheDefaultLimitsLoad(t *testing.T) {
	e := newEngine(t, engine.Config{CacheDir: t.TempDir()})
	d := engine.DefaultModuleLimits()
	for name, wasm := range map[string][]byte{
		"maxNestingDepth":     connector(g.Nested(d.MaxNestingDepth)),
		"maxBrTableTargets":   connector(g.BrTable(d.MaxBrTableTargets)),
		"maxLoopsPerFunction": connector(g.Loops(d.MaxLoopsPerFunction)),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := e.Load(context.Background(), wasm); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestDefaultModuleLimitsLeaveRoomForRealModules: the defaults are well
// above what real connectors declare (BENCHMARKS.md, "Module limits").
func TestDefaultModuleLimitsLeaveRoomForRealModules(t *testing.T) {
	defaults := figures(wasmbin.Limits(engine.DefaultModuleLimits()))
	// Go's linker writes at most 100000 data segments, whatever the
	// program; one memory and one table are all a module needs.
	exact := map[string]bool{"maxDataSegments": true, "maxMemories": true}
	for _, guest := range []string{"testdata/guests/realistic", "testdata/guests/hostile", "../examples/static"} {
		m, err := wasmbin.Measure(wasmbuild.Test(t, guest))
		if err != nil {
			t.Fatal(err)
		}
		for name, got := range figures(m) {
			room := 4
			if exact[name] {
				room = 1
			}
			if got*room > defaults[name] {
				t.Errorf("%s: %s is %d, the default %d leaves less than %dx room", guest, name, got, defaults[name], room)
			}
		}
	}
}

func figures(l wasmbin.Limits) map[string]int {
	out := map[string]int{}
	for _, kv := range strings.Split(l.String(), ",") {
		name, v, _ := strings.Cut(kv, "=")
		out[name], _ = strconv.Atoi(v)
	}
	return out
}

func TestParseModuleLimits(t *testing.T) {
	l, err := engine.ParseModuleLimits("maxNestingDepth=2048,maxFunctions=50000", engine.ModuleLimits{MaxTypes: 7})
	if err != nil {
		t.Fatal(err)
	}
	d := engine.DefaultModuleLimits()
	if l.MaxNestingDepth != 2048 || l.MaxFunctions != 50000 || l.MaxTypes != 7 || l.MaxLoops != d.MaxLoops {
		t.Errorf("got %+v", l)
	}
	if _, err := engine.ParseModuleLimits("maxDepth=3", engine.ModuleLimits{}); err == nil || !strings.Contains(err.Error(), `unknown module limit "maxDepth"`) {
		t.Errorf("got %v", err)
	}
	if n := len(engine.ModuleLimitNames()); n != len(figures(wasmbin.DefaultLimits())) {
		t.Errorf("%d names", n)
	}
}

// wazeroCache lists the files of wazero's cache in dir, with their inodes.
func wazeroCache(t *testing.T, dir string) map[string]uint64 {
	t.Helper()
	files := map[string]uint64{}
	subs, _ := filepath.Glob(filepath.Join(dir, "wazero-*"))
	for _, sub := range subs {
		ents, err := os.ReadDir(sub)
		if err != nil {
			t.Fatal(err)
		}
		for _, ent := range ents {
			info, err := ent.Info()
			if err != nil {
				t.Fatal(err)
			}
			files[ent.Name()] = info.Sys().(*syscall.Stat_t).Ino
		}
	}
	return files
}

// TestCompileWorkerFillsTheCache: the worker compiles exactly what the
// engine's own runtime then compiles, so the engine's compile is a cache
// hit and writes nothing.
func TestCompileWorkerFillsTheCache(t *testing.T) {
	ctx := context.Background()
	basic := wasmbuild.Test(t, "testdata/guests/basic")
	tests := []struct {
		name              string
		wasm, code        []byte
		ensureTermination bool
	}{
		{"instrumented", basic, instrumented(t, basic), false},
		{"start function", handmade(true), instrumented(t, handmade(true)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := engine.CompileInWorkerForTest(ctx, engine.Config{CompileWorker: testWorker(), CacheDir: dir}, tt.code, tt.ensureTermination); err != nil {
				t.Fatal(err)
			}
			before := wazeroCache(t, dir)
			if len(before) != 1 {
				t.Fatalf("the worker left %d cache files", len(before))
			}
			e := newEngine(t, engine.Config{CacheDir: dir}) // no worker: compiles in-process
			if _, err := e.Load(ctx, tt.wasm); err != nil {
				t.Fatal(err)
			}
			if after := wazeroCache(t, dir); !maps.Equal(before, after) {
				t.Errorf("the engine's compile missed the worker's cache entry: %v, then %v", before, after)
			}

			// Through Load with a worker: one compile, one cache entry.
			dir = t.TempDir()
			e = newEngine(t, engine.Config{CacheDir: dir, CompileWorker: testWorker()})
			if _, err := e.Load(ctx, tt.wasm); err != nil {
				t.Fatal(err)
			}
			if files := wazeroCache(t, dir); len(files) != 1 {
				t.Errorf("%d cache files after one Load", len(files))
			}
		})
	}
}

// TestCompileWorkerBounds: a module inside the module limits whose
// compile needs more time or memory than the worker may take is refused
// as an invalid module, quickly, and the engine goes on.
func TestCompileWorkerBounds(t *testing.T) {
	ctx := context.Background()
	realistic := wasmbuild.Test(t, "testdata/guests/realistic")
	// The memory bound is on what the worker maps beyond what the Go
	// runtime had reserved at its start, tens of MiB of which it may still
	// use: this module's compile peaks near 200 MiB.
	webservice := wasmbuild.Test(t, "../examples/webservice")
	tests := []struct {
		name string
		wasm []byte
		cfg  engine.Config
		want string
	}{
		{"memory", webservice, engine.Config{CompileMemoryBytes: 16 << 20}, "compiling the module needed more than 16 MiB of memory (compileMemory)"},
		{"time", realistic, engine.Config{CompileTimeout: 100 * time.Millisecond}, "compiling the module took longer than 100ms (compileTimeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.CacheDir, cfg.CompileWorker = t.TempDir(), testWorker()
			e := newEngine(t, cfg)
			for range 2 { // refused each time, not remembered as loading
				start := time.Now()
				_, err := e.Load(ctx, tt.wasm)
				var me *engine.ModuleError
				if !errors.As(err, &me) || me.Reason != tt.want {
					t.Fatalf("got %v, want a *ModuleError %q", err, tt.want)
				}
				if took := time.Since(start); took > 20*time.Second {
					t.Errorf("refused after %s", took)
				}
			}
			if files := wazeroCache(t, cfg.CacheDir); len(files) != 0 {
				t.Errorf("a refused module left %d cache files", len(files))
			}
			// The node goes on: with the default bounds the same module
			// loads from the same cache directory, and runs.
			e = newEngine(t, engine.Config{CacheDir: cfg.CacheDir, CompileWorker: testWorker()})
			m, err := e.Load(ctx, realistic)
			if err != nil {
				t.Fatal(err)
			}
			if _, cerr := call(t, e, m, engine.Request{Function: "getUser", Input: []byte(`{"query":{"id":"1"}}`)}); cerr != nil {
				t.Fatalf("call: %v", cerr)
			}
		})
	}
}

func TestCompileWorkerMisconfigured(t *testing.T) {
	for _, argv := range [][]string{{"/bin/echo", "hello"}, {filepath.Join(t.TempDir(), "missing")}} {
		e := newEngine(t, engine.Config{CacheDir: t.TempDir(), CompileWorker: argv})
		_, err := e.Load(context.Background(), connector(nil))
		var me *engine.ModuleError
		if err == nil || errors.As(err, &me) {
			t.Errorf("%v: got %v, want an error that does not blame the module", argv, err)
		}
	}
}
