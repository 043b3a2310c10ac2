package wasmbin

import (
	"bytes"
	"errors"
	"testing"
)

// loopModule is a module whose one function loops: (func (loop br 0)).
func loopModule(body ...byte) []byte {
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, 1, 4, 1, 0x60, 0, 0) // type: () -> ()
	m = append(m, 3, 2, 1, 0)          // function 0 of type 0
	m = append(m, 5, 3, 1, 0, 1)       // one memory of one page
	m = append(m, 7, 5, 1, 1, 'f', 0, 0)
	code := append([]byte{0}, body...) // no locals
	m = append(m, 10, byte(len(code)+2), 1, byte(len(code)))
	return append(m, code...)
}

func TestInstrumentAddsYieldImportAndChecks(t *testing.T) {
	in := loopModule(0x03, 0x40, 0x0C, 0x00, 0x0B, 0x0B)
	p, err := Instrument(in, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(p.Code)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Imports) != 1 || m.Imports[0] != (Import{Module: YieldModule, Name: YieldName, Kind: KindFunc}) {
		t.Fatalf("imports %+v", m.Imports)
	}
	// Two scratch locals (i64, i32); the entry check charges the code
	// outside the loop and the frame (16 bytes, 8 a local), the loop
	// header check the loop's body.
	ch := checker{tmp64: 0, tmp32: 1, fuel: 0, yield: 0}
	entry := append([]byte{0x02, 0x01, 0x7E, 0x01, 0x7F}, ch.entry(nil, 2, 32, 1<<20)...)
	loop := append(append([]byte{0x03, 0x40}, ch.static(nil, 3)...), 0x0C, 0x00)
	for _, want := range [][]byte{entry, loop} {
		if !bytes.Contains(p.Code, want) {
			t.Fatalf("checks not inserted:\n got %x\nwant %x", p.Code, want)
		}
	}
}

func TestInstrumentRefuses(t *testing.T) {
	tests := []struct {
		name string
		mod  []byte
	}{
		{"unknown opcode", loopModule(0xFB, 0x00, 0x0B)},
		{"no memory", bytes.Replace(loopModule(0x0B), []byte{5, 3, 1, 0, 1}, nil, 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Instrument(tt.mod, Options{}); !errors.Is(err, ErrCannotInstrument) {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestInstrumentExportsStartFunction(t *testing.T) {
	p, err := Instrument(append(loopModule(0x0B), 8, 1, 0), Options{})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := Parse(p.Code)
	if !p.HasStart || len(m.Exports) != 4 || m.Exports[3].Name != StartExport {
		t.Fatalf("start not exported: %+v %+v", p, m.Exports)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "not a WebAssembly module"},
		{"bad magic", []byte("\x7fELF\x01\x00\x00\x00"), "not a WebAssembly module"},
		{"section past the end", []byte("\x00asm\x01\x00\x00\x00\x07\x7f"), "truncated"},
		{"import vector too long", []byte("\x00asm\x01\x00\x00\x00\x02\x01\x7f"), "import section"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse(tt.b); err == nil || !bytes.Contains([]byte(err.Error()), []byte(tt.want)) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

// FuzzInstrument checks that no upload, however malformed, makes the
// parser or the rewriter panic.
func FuzzInstrument(f *testing.F) {
	f.Add(loopModule(0x03, 0x40, 0x0C, 0x00, 0x0B, 0x0B))
	f.Add(loopModule(0xFD, 0x0C, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0x1A, 0x0B))
	f.Add([]byte("\x00asm\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := Parse(b); err != nil {
			return
		}
		if out, err := Instrument(b, Options{}); err == nil {
			if _, err := Parse(out.Code); err != nil {
				t.Fatalf("instrumented module does not parse: %v", err)
			}
		}
	})
}
