package wasmbin

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	g "github.com/sluice-dev/sluice/engine/internal/wasmgen"
)

// limitCase builds a module whose figure for one limit is n.
type limitCase struct {
	limit string
	build func(n int) []byte
	// want is the message's middle part for n (after "Where ").
	want string
}

func fns(n int, code []byte) []g.Func {
	out := make([]g.Func, n)
	for i := range out {
		out[i] = g.Fn(code)
	}
	return out
}

func limitCases() []limitCase {
	conn := func(edit func(m *g.Module)) []byte {
		m := g.Connector()
		edit(m)
		return m.Bytes()
	}
	one := func(code []byte, locals ...g.Local) []byte { return g.Connector(g.Fn(code, locals...)).Bytes() }
	return []limitCase{
		{"maxTypes", func(n int) []byte {
			return conn(func(m *g.Module) {
				for len(m.Types) < n {
					m.Types = append(m.Types, g.FuncType{Params: []byte{g.I64}})
				}
			})
		}, "the module declares %d function types"},
		{"maxImports", func(n int) []byte {
			return conn(func(m *g.Module) {
				for range n {
					m.Imports = append(m.Imports, g.Import{Module: "sluice", Name: "log", Type: 0})
				}
			})
		}, "the module has %d imports"},
		{"maxFunctions", func(n int) []byte { return g.Connector(fns(n-2, nil)...).Bytes() }, "the module defines %d functions"},
		{"maxFunctionBodyBytes", func(n int) []byte {
			// locals count (1) + nops + i32.const 0 (2) + end (1)
			return one(g.Repeat([]byte{0x01}, n-4))
		}, "function 2 has a body of %d bytes"},
		{"maxLocals", func(n int) []byte { return one(nil, g.Local{N: uint32(n - 1), Type: g.I32}) }, "function 2 has %d parameters and locals"},
		{"maxNestingDepth", func(n int) []byte { return one(g.Nested(n)) }, "function 2 nests blocks %d deep"},
		{"maxBrTableTargets", func(n int) []byte { return one(g.BrTable(n)) }, "function 2 has a br_table with %d targets"},
		{"maxLoopsPerFunction", func(n int) []byte { return one(g.Loops(n)) }, "function 2 has %d loops"},
		{"maxLoops", func(n int) []byte { return g.Connector(fns(n, g.Loops(1))...).Bytes() }, "the module has %d loops in all"},
		{"maxTables", func(n int) []byte {
			return conn(func(m *g.Module) { m.Tables = make([]g.Table, n) })
		}, "the module has %d tables"},
		{"maxTableEntries", func(n int) []byte {
			return conn(func(m *g.Module) { m.Tables = []g.Table{{Min: uint64(n)}} })
		}, "table 0 starts with %d entries"},
		{"maxTableEntries", func(n int) []byte {
			return conn(func(m *g.Module) { m.Tables = []g.Table{{Min: 1, Max: uint64(n), HasMax: true}} })
		}, "table 0 declares a maximum of %d entries"},
		{"maxMemories", func(n int) []byte {
			return conn(func(m *g.Module) { m.MemoryPages = make([]uint64, n) })
		}, "the module has %d memories"},
		{"maxMemoryPages", func(n int) []byte {
			return conn(func(m *g.Module) { m.MemoryPages = []uint64{uint64(n)} })
		}, "memory 0 starts with %d pages of memory"},
		{"maxGlobals", func(n int) []byte { return conn(func(m *g.Module) { m.Globals = n }) }, "the module has %d globals"},
		{"maxDataSegments", func(n int) []byte {
			return conn(func(m *g.Module) { m.Data = make([][]byte, n) })
		}, "the module has %d data segments"},
		{"maxDataBytes", func(n int) []byte {
			return conn(func(m *g.Module) { m.Data = [][]byte{make([]byte, n/2), make([]byte, n-n/2)} })
		}, "the module has %d bytes of data segments"},
		{"maxElementSegments", func(n int) []byte {
			return conn(func(m *g.Module) {
				m.Tables = []g.Table{{Min: 1}}
				m.Elements = make([][]uint32, n)
			})
		}, "the module has %d element segments"},
		{"maxElementEntries", func(n int) []byte {
			return conn(func(m *g.Module) {
				m.Tables = []g.Table{{Min: 1}}
				m.Elements = [][]uint32{make([]uint32, n/2), make([]uint32, n-n/2)}
			})
		}, "the module has %d element segment entries"},
		{"maxExports", func(n int) []byte {
			return conn(func(m *g.Module) {
				for i := len(m.Exports); i < n; i++ {
					m.Exports = append(m.Exports, g.Export{Name: fmt.Sprint("e", i), Idx: 1})
				}
			})
		}, "the module has %d exports"},
	}
}

func TestCheckLimitsRefusesEachLimitByName(t *testing.T) {
	covered := map[string]bool{}
	for _, tc := range limitCases() {
		covered[tc.limit] = true
		t.Run(tc.limit+"/"+fmt.Sprintf(tc.want, 6), func(t *testing.T) {
			const max = 5
			lim, err := ParseLimits(tc.limit+"="+fmt.Sprint(max), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			at := tc.build(max)
			if err := CheckLimits(at, lim); err != nil {
				t.Fatalf("a module at the limit was refused: %v", err)
			}
			m, err := Measure(at)
			if err != nil {
				t.Fatal(err)
			}
			if got := *m.field(limitIndex(tc.limit)); got != max {
				t.Errorf("Measure: %s = %d, want %d", tc.limit, got, max)
			}
			err = CheckLimits(tc.build(max+1), lim)
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("a module over the limit: got %v, want a *LimitError", err)
			}
			want := fmt.Sprintf(tc.want, max+1) + fmt.Sprintf(", over the limit of %d (%s)", max, tc.limit)
			if le.Limit != tc.limit || le.Got != max+1 || le.Max != max || err.Error() != want {
				t.Errorf("got %+v\n%q, want\n%q", le, err, want)
			}
		})
	}
	for _, name := range LimitNames() {
		if !covered[name] {
			t.Errorf("limit %s has no case", name)
		}
	}
}

func limitIndex(name string) int {
	for i := range numLimits {
		if limitInfo[i].name == name {
			return i
		}
	}
	panic(name)
}

// TestPathologicalModulesRefusedQuickly: the shapes that made compiles
// run for minutes are refused by the defaults in one quick pass.
func TestPathologicalModulesRefusedQuickly(t *testing.T) {
	loopFns := func(fn, loops int) []byte { return g.Connector(fns(fn, g.Loops(loops))...).Bytes() }
	tests := []struct {
		name, limit string
		wasm        []byte
	}{
		{"one function of 500000 nested blocks", "maxFunctionBodyBytes", g.Connector(g.Fn(g.Nested(500000))).Bytes()},
		{"nesting 100000 deep within the body limit", "maxNestingDepth", g.Connector(g.Fn(g.Nested(100000))).Bytes()},
		{"a br_table with 5 million targets", "maxFunctionBodyBytes", g.Connector(g.Fn(g.BrTable(5_000_000))).Bytes()},
		{"a br_table with a million targets", "maxBrTableTargets", g.Connector(g.Fn(g.BrTable(1_000_000))).Bytes()},
		{"2 million loops in one function", "maxFunctionBodyBytes", g.Connector(g.Fn(g.Loops(2_000_000))).Bytes()},
		{"100000 loops in one function", "maxLoopsPerFunction", g.Connector(g.Fn(g.Loops(100_000))).Bytes()},
		{"a million loops over 1000 functions", "maxLoops", loopFns(1000, 1000)},
		{"a table of 4 billion entries", "maxTableEntries", func() []byte {
			m := g.Connector()
			m.Tables = []g.Table{{Min: 1<<32 - 1}}
			return m.Bytes()
		}()},
		{"4 GiB of initial memory", "maxMemoryPages", func() []byte {
			m := g.Connector()
			m.MemoryPages = []uint64{65536}
			return m.Bytes()
		}()},
		{"a million functions", "maxFunctions", g.Connector(fns(1_000_000, nil)...).Bytes()},
		{"a million locals", "maxLocals", g.Connector(g.Fn(nil, g.Local{N: 1 << 20, Type: g.I64})).Bytes()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			err := CheckLimits(tt.wasm, Limits{})
			took := time.Since(start)
			var le *LimitError
			if !errors.As(err, &le) || le.Limit != tt.limit {
				t.Fatalf("got %v, want a %s LimitError", err, tt.limit)
			}
			if !strings.Contains(err.Error(), "("+tt.limit+")") {
				t.Errorf("%q does not name %s", err, tt.limit)
			}
			if took > time.Second {
				t.Errorf("took %s for %d bytes", took, len(tt.wasm))
			}
			t.Logf("%d KiB refused in %s: %v", len(tt.wasm)>>10, took.Round(time.Microsecond), err)
		})
	}
}

func TestCheckLimitsMalformed(t *testing.T) {
	valid := g.Connector(g.Fn(g.BrTable(3))).Bytes()
	tests := []struct {
		name string
		wasm []byte
		want string
	}{
		{"not wasm", []byte("hello, world"), "not a WebAssembly module"},
		{"truncated", valid[:len(valid)-3], "truncated"},
		{"unknown opcode", g.Connector(g.Fn([]byte{0xFF})).Bytes(), "function 2: unknown opcode 0xFF at byte 1"},
		{"end too many", g.Connector(g.Fn([]byte{0x0B, 0x0B})).Bytes(), "function 2: unbalanced end"},
		{"unknown type", func() []byte {
			m := g.Connector()
			m.Funcs[1].Type = 7
			return m.Bytes()
		}(), "function 1 has unknown type 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLimits(tt.wasm, Limits{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			var le *LimitError
			if errors.As(err, &le) {
				t.Errorf("a malformed module is no LimitError: %v", err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	def := DefaultLimits()
	l, err := ParseLimits(" maxNestingDepth=2048, maxfunctions=50_000,,", Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if l.MaxNestingDepth != 2048 || l.MaxFunctions != 50000 || l.MaxTypes != 0 {
		t.Errorf("got %+v", l)
	}
	if back, err := ParseLimits(def.String(), Limits{}); err != nil || back != def {
		t.Errorf("String does not parse back: %v %+v", err, back)
	}
	for _, tt := range []struct{ in, want string }{
		{"maxNesting=3", `unknown module limit "maxNesting" (known: maxTypes, maxImports,`},
		{"maxTypes", `module limit "maxTypes": want name=value`},
		{"maxTypes=0", "module limit maxTypes=0: want a positive integer"},
		{"maxTypes=-4", "want a positive integer"},
		{"maxTypes=1e6", "want a positive integer"},
		{"maxTypes=1,maxtypes=2", "module limit maxTypes given twice"},
	} {
		if _, err := ParseLimits(tt.in, def); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseLimits(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if got := (Limits{MaxTypes: 3}).OrDefaults(); got.MaxTypes != 3 || got.MaxLoops != def.MaxLoops {
		t.Errorf("OrDefaults: %+v", got)
	}
}

func TestCheckLimitsAllocatesLittle(t *testing.T) {
	wasm := g.Connector(fns(2000, append(g.GoDispatch(100, 1), g.Loops(3)...))...).Bytes()
	allocs := testing.AllocsPerRun(10, func() {
		if err := CheckLimits(wasm, Limits{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 4 {
		t.Errorf("%v allocations per check", allocs)
	}
}

// FuzzCheckLimits: no input makes CheckLimits or Measure panic.
func FuzzCheckLimits(f *testing.F) {
	f.Add(g.Connector(g.Fn(g.GoDispatch(4, 1)), g.Fn(g.Loops(2))).Bytes())
	m := g.Connector()
	m.Tables = []g.Table{{Min: 2, Max: 3, HasMax: true}}
	m.Elements = [][]uint32{{0, 1}}
	m.Data = [][]byte{[]byte("hi")}
	m.Globals = 2
	f.Add(m.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		CheckLimits(b, Limits{MaxNestingDepth: 3})
		Measure(b)
	})
}
