// Package wasmbin reads the import and export sections of a WebAssembly
// binary without compiling it, so a bad upload is refused quickly with a
// precise reason before any compiler runs.
package wasmbin

import (
	"errors"
	"fmt"
)

// Kinds of imports and exports.
const (
	KindFunc   = 0x00
	KindTable  = 0x01
	KindMemory = 0x02
	KindGlobal = 0x03
	KindTag    = 0x04
)

// KindName names an import or export kind.
func KindName(k byte) string {
	switch k {
	case KindFunc:
		return "function"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	case KindTag:
		return "tag"
	}
	return fmt.Sprintf("kind %d", k)
}

// Import is one entry of the import section.
type Import struct {
	Module, Name string
	Kind         byte
}

// Export is one entry of the export section.
type Export struct {
	Name string
	Kind byte
}

// Module is what Parse read.
type Module struct {
	Imports []Import
	Exports []Export
}

// ErrNotWasm means the bytes do not start with the WebAssembly header.
var ErrNotWasm = errors.New("not a WebAssembly module (bad magic number)")

const (
	secImport = 2
	secExport = 7
)

// Parse reads the section structure of b and decodes its imports and
// exports. It checks that every section fits the binary; the compiler
// validates everything else.
func Parse(b []byte) (*Module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, ErrNotWasm
	}
	if b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return nil, fmt.Errorf("unsupported WebAssembly binary version %d", uint32(b[4])|uint32(b[5])<<8|uint32(b[6])<<16|uint32(b[7])<<24)
	}
	r := &reader{b: b, off: 8}
	m := &Module{}
	for r.off < len(b) {
		id := r.byte()
		size := r.u32()
		if r.err != nil {
			return nil, fmt.Errorf("truncated module: section header at byte %d", r.off)
		}
		if int(size) > len(b)-r.off {
			return nil, fmt.Errorf("truncated module: section %d needs %d bytes, %d left", id, size, len(b)-r.off)
		}
		sec := &reader{b: b[:r.off+int(size)], off: r.off}
		switch id {
		case secImport:
			imps, err := parseImports(sec)
			if err != nil {
				return nil, fmt.Errorf("import section: %w", err)
			}
			m.Imports = imps
			if sec.off != len(sec.b) {
				return nil, errors.New("import section: trailing bytes")
			}
		case secExport:
			exps, err := parseExports(sec)
			if err != nil {
				return nil, fmt.Errorf("export section: %w", err)
			}
			m.Exports = exps
			if sec.off != len(sec.b) {
				return nil, errors.New("export section: trailing bytes")
			}
		}
		r.off += int(size)
	}
	return m, nil
}

func parseImports(r *reader) ([]Import, error) {
	n := r.u32()
	if r.err != nil || int(n) > len(r.b) {
		return nil, errMalformed
	}
	imps := make([]Import, 0, n)
	for i := uint32(0); i < n; i++ {
		imp := Import{Module: r.name(), Name: r.name(), Kind: r.byte()}
		switch imp.Kind {
		case KindFunc:
			r.u32()
		case KindTable:
			r.byte() // reference type
			r.limits()
		case KindMemory:
			r.limits()
		case KindGlobal:
			r.byte() // value type
			r.byte() // mutability
		case KindTag:
			r.byte()
			r.u32()
		default:
			return nil, fmt.Errorf("unknown import kind %d", imp.Kind)
		}
		if r.err != nil {
			return nil, errMalformed
		}
		imps = append(imps, imp)
	}
	return imps, nil
}

func parseExports(r *reader) ([]Export, error) {
	n := r.u32()
	if r.err != nil || int(n) > len(r.b) {
		return nil, errMalformed
	}
	exps := make([]Export, 0, n)
	for i := uint32(0); i < n; i++ {
		e := Export{Name: r.name(), Kind: r.byte()}
		r.u32()
		if r.err != nil {
			return nil, errMalformed
		}
		exps = append(exps, e)
	}
	return exps, nil
}

var errMalformed = errors.New("malformed or truncated")

type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) byte() byte {
	if r.err != nil || r.off >= len(r.b) {
		r.err = errMalformed
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errMalformed
	return 0
}

func (r *reader) u64() {
	for i := 0; i < 10; i++ {
		if c := r.byte(); r.err != nil || c&0x80 == 0 {
			return
		}
	}
	r.err = errMalformed
}

func (r *reader) limits() {
	flags := r.byte()
	r.u64()
	if flags&0x01 != 0 {
		r.u64()
	}
}

func (r *reader) name() string {
	n := r.u32()
	if r.err != nil || int(n) > len(r.b)-r.off {
		r.err = errMalformed
		return ""
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s
}
