// Package wasmgen assembles small WebAssembly binaries for tests and
// measurements: connector-shaped modules whose extra functions have the
// shapes that stress a compiler (deep nesting, huge br_tables, many
// loops). It writes only what it is told; validity is the caller's care.
package wasmgen

import (
	"encoding/binary"
)

// Value types.
const (
	I32     = 0x7F
	I64     = 0x7E
	FuncRef = 0x70
)

// FuncType is a function type.
type FuncType struct{ Params, Results []byte }

// Func is a function: its type index, its local groups and its code
// (instructions without the final end).
type Func struct {
	Type   uint32
	Locals []Local
	Code   []byte
}

// Local is a group of locals of one type.
type Local struct {
	N    uint32
	Type byte
}

// Table is a funcref table.
type Table struct {
	Min, Max uint64
	HasMax   bool
}

// Export is one export.
type Export struct {
	Name string
	Kind byte
	Idx  uint32
}

// Module is a module to assemble. Imports are function imports only.
type Module struct {
	Types       []FuncType
	Imports     []Import
	Funcs       []Func
	Tables      []Table
	MemoryPages []uint64 // one memory per entry, by initial pages
	Globals     int      // mutable i32 globals, initialised to 0
	Exports     []Export
	// Elements are active segments of table 0 at offset 0, each listing
	// its function indexes.
	Elements [][]uint32
	// Data are active segments of memory 0 at offset 0.
	Data [][]byte
}

// Import is a function import.
type Import struct {
	Module, Name string
	Type         uint32
}

// Bytes assembles the module.
func (m *Module) Bytes() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	sec := func(id byte, c []byte) {
		out = append(out, id)
		out = U32(out, uint32(len(c)))
		out = append(out, c...)
	}
	if len(m.Types) > 0 {
		c := U32(nil, uint32(len(m.Types)))
		for _, t := range m.Types {
			c = append(c, 0x60)
			c = append(U32(c, uint32(len(t.Params))), t.Params...)
			c = append(U32(c, uint32(len(t.Results))), t.Results...)
		}
		sec(1, c)
	}
	if len(m.Imports) > 0 {
		c := U32(nil, uint32(len(m.Imports)))
		for _, imp := range m.Imports {
			c = Name(Name(c, imp.Module), imp.Name)
			c = U32(append(c, 0x00), imp.Type)
		}
		sec(2, c)
	}
	if len(m.Funcs) > 0 {
		c := U32(nil, uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			c = U32(c, f.Type)
		}
		sec(3, c)
	}
	if len(m.Tables) > 0 {
		c := U32(nil, uint32(len(m.Tables)))
		for _, t := range m.Tables {
			c = append(c, FuncRef)
			c = limits(c, t.Min, t.Max, t.HasMax)
		}
		sec(4, c)
	}
	if len(m.MemoryPages) > 0 {
		c := U32(nil, uint32(len(m.MemoryPages)))
		for _, p := range m.MemoryPages {
			c = limits(c, p, 0, false)
		}
		sec(5, c)
	}
	if m.Globals > 0 {
		c := U32(nil, uint32(m.Globals))
		for range m.Globals {
			c = append(c, I32, 0x01, 0x41, 0x00, 0x0B)
		}
		sec(6, c)
	}
	if len(m.Exports) > 0 {
		c := U32(nil, uint32(len(m.Exports)))
		for _, e := range m.Exports {
			c = U32(append(Name(c, e.Name), e.Kind), e.Idx)
		}
		sec(7, c)
	}
	if len(m.Elements) > 0 {
		c := U32(nil, uint32(len(m.Elements)))
		for _, seg := range m.Elements {
			c = append(c, 0x00, 0x41, 0x00, 0x0B) // table 0, offset i32.const 0
			c = U32(c, uint32(len(seg)))
			for _, f := range seg {
				c = U32(c, f)
			}
		}
		sec(9, c)
	}
	if len(m.Funcs) > 0 {
		c := U32(nil, uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			body := U32(nil, uint32(len(f.Locals)))
			for _, l := range f.Locals {
				body = append(U32(body, l.N), l.Type)
			}
			body = append(append(body, f.Code...), 0x0B)
			c = append(U32(c, uint32(len(body))), body...)
		}
		sec(10, c)
	}
	if len(m.Data) > 0 {
		c := U32(nil, uint32(len(m.Data)))
		for _, d := range m.Data {
			c = append(c, 0x00, 0x41, 0x00, 0x0B) // memory 0, offset i32.const 0
			c = append(U32(c, uint32(len(d))), d...)
		}
		sec(11, c)
	}
	return out
}

func limits(c []byte, minimum, maximum uint64, hasMax bool) []byte {
	if hasMax {
		return binary.AppendUvarint(binary.AppendUvarint(append(c, 0x01), minimum), maximum)
	}
	return binary.AppendUvarint(append(c, 0x00), minimum)
}

// U32 appends v as an unsigned LEB128.
func U32(b []byte, v uint32) []byte { return binary.AppendUvarint(b, uint64(v)) }

// S32 appends v as a signed LEB128.
func S32(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// Name appends a name.
func Name(b []byte, s string) []byte { return append(U32(b, uint32(len(s))), s...) }

// Connector types: 0 is () -> i32, 1 is (i32) -> i32.
const (
	TypeVoidI32 = 0
	TypeI32I32  = 1
)

// Connector returns a module Sluice's engine accepts: one memory of one
// page exported as "memory", sluice_abi_version (function 0, returns 1),
// login (function 1, returns 0) and extra, functions 2 onwards, none of
// them exported. Extra functions of type TypeI32I32 must leave an i32.
func Connector(extra ...Func) *Module {
	m := &Module{
		Types: []FuncType{{Results: []byte{I32}}, {Params: []byte{I32}, Results: []byte{I32}}},
		Funcs: append([]Func{
			{Type: TypeVoidI32, Code: []byte{0x41, 0x01}},
			{Type: TypeI32I32, Code: []byte{0x41, 0x00}},
		}, extra...),
		MemoryPages: []uint64{1},
		Exports: []Export{
			{Name: "memory", Kind: 0x02},
			{Name: "sluice_abi_version", Kind: 0x00, Idx: 0},
			{Name: "login", Kind: 0x00, Idx: 1},
		},
	}
	return m
}

// Repeat returns b repeated n times.
func Repeat(b []byte, n int) []byte {
	out := make([]byte, 0, len(b)*n)
	for range n {
		out = append(out, b...)
	}
	return out
}

// Nested is code of depth nested empty blocks.
func Nested(depth int) []byte {
	return append(Repeat([]byte{0x02, 0x40}, depth), Repeat([]byte{0x0B}, depth)...)
}

// NestedBr is code of depth nested blocks, each ending by branching on
// its parameter (local 0) to the outermost: every block is a join point.
func NestedBr(depth int) []byte {
	c := Repeat([]byte{0x02, 0x40}, depth)
	for i := depth - 1; i >= 0; i-- {
		c = append(c, 0x20, 0x00, 0x0D)
		c = U32(c, uint32(i))
		c = append(c, 0x0B)
	}
	return c
}

// BrTable is code of one br_table on local 0 with targets targets (its
// default included), all to the enclosing block.
func BrTable(targets int) []byte {
	c := []byte{0x02, 0x40, 0x20, 0x00, 0x0E}
	c = U32(c, uint32(targets-1))
	c = append(c, Repeat([]byte{0x00}, targets)...)
	return append(c, 0x0B)
}

// GoDispatch is the shape Go's wasm backend gives a function with depth
// resume points: a loop around depth nested blocks, a br_table over all
// of them at the innermost, and a call after each block's end.
func GoDispatch(depth int, callee uint32) []byte {
	c := []byte{0x03, 0x40}
	c = append(c, Repeat([]byte{0x02, 0x40}, depth)...)
	c = append(c, 0x20, 0x00, 0x0E)
	c = U32(c, uint32(depth))
	for i := 0; i <= depth; i++ {
		c = U32(c, uint32(i))
	}
	c = append(c, 0x0B)
	for i := 1; i < depth; i++ {
		c = append(c, 0x20, 0x00, 0x10)
		c = U32(c, callee)
		c = append(c, 0x1A, 0x0B)
	}
	return append(c, 0x0B)
}

// Loops is code of n loops one after another, each counting local 0 down
// once: loop; local.get 0; br_if 0 ... a branch back per loop.
func Loops(n int) []byte {
	return Repeat([]byte{0x03, 0x40, 0x20, 0x00, 0x0D, 0x00, 0x0B}, n)
}

// NestedLoops is code of depth nested loops, each with a back edge.
func NestedLoops(depth int) []byte {
	c := Repeat([]byte{0x03, 0x40}, depth)
	for i := 0; i < depth; i++ {
		c = append(c, 0x20, 0x00, 0x0D, 0x00, 0x0B)
	}
	return c
}

// Locals is code that sets each of n i32 locals after the parameter to a
// distinct value, then adds them all up: n values live at once.
func Locals(n int) []byte {
	var c []byte
	for i := 1; i <= n; i++ {
		c = append(c, 0x20, 0x00, 0x41)
		c = S32(c, int32(i))
		c = append(c, 0x6A, 0x21)
		c = U32(c, uint32(i))
	}
	if n == 0 {
		return c
	}
	c = append(c, 0x20, 0x01)
	for i := 2; i <= n; i++ {
		c = append(c, 0x20)
		c = U32(c, uint32(i))
		c = append(c, 0x6A)
	}
	return append(c, 0x1A)
}

// Straight is code of n independent arithmetic instructions on local 0:
// a function body of about 6n bytes without control flow.
func Straight(n int) []byte {
	return Repeat([]byte{0x20, 0x00, 0x41, 0x01, 0x6A, 0x1A}, n)
}

// Fn is a function of type TypeI32I32 running code, then returning 0.
func Fn(code []byte, locals ...Local) Func {
	return Func{Type: TypeI32I32, Locals: locals, Code: append(code[:len(code):len(code)], 0x41, 0x00)}
}
