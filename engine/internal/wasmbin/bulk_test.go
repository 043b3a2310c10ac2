package wasmbin

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// bulkModule has 10 MiB of memory and exports its two bulk
// instructions, and memory.init of a 3-byte segment, as functions.
const bulkModule = `(module
  (memory (export "memory") 160)
  (data $abc "abc")
  (func (export "copy") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (local.get 2)))
  (func (export "fill") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init") (param i32) (memory.init $abc (local.get 0) (i32.const 0) (i32.const 3)))
  (func (export "copy16") (param i32 i32 i32) (memory.copy (local.get 0) (local.get 1) (i32.const 16)))
  (func (export "fill2m") (param i32 i32 i32) (memory.fill (local.get 0) (local.get 1) (i32.const 2097152))))`

// TestBulkChunks runs memory.copy and memory.fill, instrumented, against
// what the instructions must do: large ones in chunks that reach the
// yield while they run, overlapping copies in both directions, and out
// of bounds a trap that writes nothing.
func TestBulkChunks(t *testing.T) {
	ctx := context.Background()
	p, err := Instrument(wasmbuild.WAT(t, bulkModule), Options{})
	if err != nil {
		t.Fatal(err)
	}
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	yields := 0
	_, err = rt.NewHostModuleBuilder(YieldModule).NewFunctionBuilder().
		WithFunc(func() int64 { yields++; return 100000 }).Export(YieldName).Instantiate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := rt.Instantiate(ctx, p.Code)
	if err != nil {
		t.Fatal(err)
	}
	const size = 10 << 20
	const big = 3*bulkChunk + 12345
	tests := []struct {
		name      string
		fn        string
		d, s, n   uint64 // s is the fill byte for fill
		trap      bool
		minYields int // yields during the one instruction
	}{
		{"small copy", "copy", 100, 5000, 64, false, 0},
		{"copy of exactly a chunk", "copy", 7, bulkChunk + 9, bulkChunk, false, 0},
		{"large disjoint copy", "copy", 0, 5 << 20, big, false, 1},
		{"large copy, overlapping, forwards", "copy", 1000, 1003, big, false, 1},
		{"large copy, overlapping, backwards", "copy", 1003, 1000, big, false, 1},
		{"large copy, far overlap backwards", "copy", bulkChunk + 77, 5, big, false, 1},
		{"copy onto itself", "copy", 4096, 4096, big, false, 1},
		{"copy up to the end", "copy", size - big, 0, big, false, 1},
		{"copy of the whole memory", "copy", 0, 0, size, false, 4},
		{"copy, source past the end", "copy", 0, size - big + 1, big, true, 0},
		{"copy, destination past the end", "copy", size - big + 1, 0, big, true, 0},
		{"copy, end past 4 GiB", "copy", 0xFFFFFFF0, 0, big, true, 0},
		{"copy of a constant 16 bytes", "copy16", 32, 40, 16, false, 0},
		{"fill of a constant 2 MiB", "fill2m", 77, 0x11, 2 << 20, false, 1},
		{"fill of a constant 2 MiB past the end", "fill2m", size - 1<<20, 0x11, 2 << 20, true, 0},
		{"small fill", "fill", 10, 0xAB, 100, false, 0},
		{"large fill", "fill", 3, 0xCD, big, false, 1},
		{"fill of the whole memory", "fill", 0, 0x5A, size, false, 4},
		{"fill past the end", "fill", size - big + 1, 0xEE, big, true, 0},
		{"fill, end past 4 GiB", "fill", 0xFFFFF000, 0xEE, big, true, 0},
	}
	mem := mod.Memory()
	ref := make([]byte, size)
	for i := range ref {
		ref[i] = byte(i*7 + i>>13)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !mem.Write(0, ref) {
				t.Fatal("write")
			}
			yields = 0
			_, err := mod.ExportedFunction(tt.fn).Call(ctx, tt.d, tt.s, tt.n)
			got, _ := mem.Read(0, size)
			want := append([]byte(nil), ref...)
			if !tt.trap {
				if strings.HasPrefix(tt.fn, "copy") {
					copy(want[tt.d:], want[tt.s:tt.s+tt.n])
				} else {
					for i := tt.d; i < tt.d+tt.n; i++ {
						want[i] = byte(tt.s)
					}
				}
			}
			switch {
			case tt.trap && err == nil:
				t.Fatal("no trap")
			case !tt.trap && err != nil:
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				i := 0
				for got[i] == want[i] {
					i++
				}
				t.Fatalf("memory differs from byte %d: got %x, want %x", i, got[i:min(i+8, size)], want[i:min(i+8, size)])
			}
			if yields < tt.minYields {
				t.Errorf("%d yields during the instruction, want at least %d", yields, tt.minYields)
			}
		})
	}
	t.Run("memory.init unchanged", func(t *testing.T) {
		if _, err := mod.ExportedFunction("init").Call(ctx, 20); err != nil {
			t.Fatal(err)
		}
		if got, _ := mem.Read(20, 3); string(got) != "abc" {
			t.Fatalf("got %q", got)
		}
	})
}

// TestBulkFunctionsUnreachable: the module is validated only once
// instrumented, so an index past its functions must stay invalid, not
// name a function the rewrite added.
func TestBulkFunctionsUnreachable(t *testing.T) {
	ctx := context.Background()
	for _, ref := range []string{"(call 1 (local.get 0) (local.get 0) (local.get 0))", "(drop (ref.func 2))", "(call 4294967294 (local.get 0) (local.get 0) (local.get 0))"} {
		t.Run(ref, func(t *testing.T) {
			src := `(module (memory 1) (func (export "f") (param i32) ` + ref + `) (elem declare func 0))`
			p, err := Instrument(wasmbuild.WAT(t, src, "--no-check"), Options{})
			if err != nil {
				return // refused already
			}
			rt := wazero.NewRuntime(ctx)
			defer rt.Close(ctx)
			if _, err := rt.CompileModule(ctx, p.Code); err == nil {
				t.Fatal("an invalid function index became valid")
			}
		})
	}
}

// TestInstrumentRefusesIndicesIntoItsOwnCode: a local past the
// function's own would be the meter, a label past the function's would
// skip its exit; the module is validated only once instrumented, so the
// rewrite refuses both, and keeps what is valid.
func TestInstrumentRefusesIndicesIntoItsOwnCode(t *testing.T) {
	tests := []struct {
		body string
		ok   bool
	}{
		{"(local.set 1 (i64.const 0x7fffffff00000000))", false},
		{"(drop (local.tee 2 (i32.const 0)))", false},
		{"(drop (local.get 1))", false},
		{"(drop (local.get 0))", true},
		{"(br 1)", false},
		{"(br 0)", true},
		{"(block (br 1))", true},
		{"(block (br 2))", false},
		{"(block (br_if 2 (i32.const 1)))", false},
		{"(block (br_table 0 1 (i32.const 0)))", true},
		{"(block (br_table 0 2 (i32.const 0)))", false},
		{"(block (br_table 2 0 (i32.const 0)))", false},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			src := `(module (memory 1) (func (export "f") (param i32) ` + tt.body + `))`
			_, err := Instrument(wasmbuild.WAT(t, src, "--no-check"), Options{})
			if tt.ok && err != nil {
				t.Fatalf("refused a valid function: %v", err)
			}
			if !tt.ok && !errors.Is(err, ErrCannotInstrument) {
				t.Fatalf("got %v, want ErrCannotInstrument", err)
			}
		})
	}
}
