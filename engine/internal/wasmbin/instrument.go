package wasmbin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// InterruptExport is the name under which Instrument exports the
// interrupt flag: a mutable i32 global the host sets to a non-zero value
// to stop the running code.
const InterruptExport = "__sluice_interrupt"

// YieldEvery is how many loop iterations pass between two returns to Go
// (and two looks at the interrupt flag).
const YieldEvery = 1 << 14

// ErrCannotInstrument means the module uses an instruction Instrument does
// not know; the caller runs it another way.
var ErrCannotInstrument = errors.New("cannot instrument module")

const (
	secCustom   = 0
	secGlobal   = 6
	secCode     = 10
	secTag      = 13
	secStart    = 8
	secMemory   = 5
	secType     = 1
	secFunction = 3
)

// loopCheck is the code put at every loop header, with $n the function's
// new counter local:
//
//	local.get $n; i32.const 1; i32.add; local.tee $n
//	i32.const YieldEvery-1; i32.and; i32.eqz
//	if
//	  i32.const 0; memory.grow 0; drop      ;; back to Go for a moment
//	  global.get $flag; if unreachable end  ;; interrupted?
//	end
func loopCheck(counter, flag uint32) []byte {
	var c []byte
	c = append(append(c, 0x20), uleb(counter)...)
	c = append(c, 0x41, 0x01, 0x6A)
	c = append(append(c, 0x22), uleb(counter)...)
	c = append(append(c, 0x41), sleb(YieldEvery-1)...)
	c = append(c, 0x71, 0x45, 0x04, 0x40)
	c = append(c, 0x41, 0x00, 0x40, 0x00, 0x1A)
	c = append(append(c, 0x23), uleb(flag)...)
	c = append(c, 0x04, 0x40, 0x00, 0x0B)
	return append(c, 0x0B)
}

// Instrument returns a copy of the module in which every loop header
// counts its iterations in a new local of its function and, every
// YieldEvery iterations, runs memory.grow(0) and traps (unreachable) when a
// new exported global, the interrupt flag, is non-zero. Setting the flag
// from another goroutine stops an endless loop within YieldEvery
// iterations, for an add and a branch on a register per iteration: far
// cheaper than a call into the runtime per iteration. memory.grow(0)
// changes nothing but makes the compiled code return to Go briefly: the Go
// runtime cannot preempt compiled wasm, so a loop that never left it would
// hold up a stop-the-world garbage collection, and with it the goroutine
// that sets the flag. Debug sections, whose code offsets would no longer
// hold, are dropped.
func Instrument(b []byte) ([]byte, error) {
	if _, err := Parse(b); err != nil {
		return nil, err
	}
	var secs []section
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		id := r.byte()
		size := r.u32()
		if id == secStart {
			// A start function runs inside instantiation, before the
			// interrupt flag can be reached.
			return nil, fmt.Errorf("%w: it has a start function", ErrCannotInstrument)
		}
		secs = append(secs, section{id: id, start: r.off, end: r.off + int(size)})
		r.off += int(size)
	}

	importedGlobals := 0
	if m, _ := Parse(b); m != nil {
		for _, imp := range m.Imports {
			if imp.Kind == KindGlobal {
				importedGlobals++
			}
		}
	}
	ownGlobals := 0
	for _, s := range secs {
		if s.id == secGlobal {
			sr := &reader{b: b[:s.end], off: s.start}
			ownGlobals = int(sr.u32())
		}
	}
	hasMemory := false
	if m, _ := Parse(b); m != nil {
		for _, imp := range m.Imports {
			hasMemory = hasMemory || imp.Kind == KindMemory
		}
	}
	for _, s := range secs {
		hasMemory = hasMemory || s.id == secMemory
	}
	if !hasMemory {
		return nil, fmt.Errorf("%w: it has no memory to yield through", ErrCannotInstrument)
	}
	flag := uint32(importedGlobals + ownGlobals)
	newGlobal := []byte{0x7F, 0x01, 0x41, 0x00, 0x0B} // mut i32 = 0
	params, err := functionParams(b, secs)
	if err != nil {
		return nil, err
	}

	out := append([]byte(nil), b[:8]...)
	emit := func(id byte, content []byte) {
		out = append(out, id)
		out = append(out, uleb(uint32(len(content)))...)
		out = append(out, content...)
	}
	haveGlobal := false
	for _, s := range secs {
		content := b[s.start:s.end]
		// A module without a global section gets one before the first
		// section that must follow it.
		if !haveGlobal && ownGlobals == 0 && s.id != secCustom && order(s.id) > order(secGlobal) {
			emit(secGlobal, append([]byte{1}, newGlobal...))
			haveGlobal = true
		}
		switch s.id {
		case secCustom:
			nr := &reader{b: content}
			if name := nr.name(); strings.HasPrefix(name, ".debug") || nr.err != nil {
				continue
			}
			emit(s.id, content)
		case secGlobal:
			sr := &reader{b: content}
			n := sr.u32()
			c := append(uleb(n+1), content[sr.off:]...)
			emit(s.id, append(c, newGlobal...))
			haveGlobal = true
		case secExport:
			sr := &reader{b: content}
			n := sr.u32()
			c := append(uleb(n+1), content[sr.off:]...)
			c = append(c, uleb(uint32(len(InterruptExport)))...)
			c = append(c, InterruptExport...)
			c = append(c, KindGlobal)
			emit(s.id, append(c, uleb(flag)...))
		case secCode:
			c, err := instrumentCode(content, params, flag)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		default:
			emit(s.id, content)
		}
	}
	return out, nil
}

type section struct {
	id         byte
	start, end int // content
}

// functionParams returns the parameter count of each function the module
// defines, in code-section order: a function's new counter local comes
// after its parameters and locals.
func functionParams(b []byte, secs []section) ([]uint32, error) {
	var types []uint32 // parameter count of each type
	var funcs []uint32 // type index of each defined function
	for _, s := range secs {
		r := &reader{b: b[:s.end], off: s.start}
		switch s.id {
		case secType:
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				if form := r.byte(); form != 0x60 {
					return nil, fmt.Errorf("%w: type form 0x%02X", ErrCannotInstrument, form)
				}
				np := r.u32()
				for j := uint32(0); j < np && r.err == nil; j++ {
					r.valtype()
				}
				nr := r.u32()
				for j := uint32(0); j < nr && r.err == nil; j++ {
					r.valtype()
				}
				types = append(types, np)
			}
		case secFunction:
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				funcs = append(funcs, r.u32())
			}
		}
		if r.err != nil {
			return nil, fmt.Errorf("%w: malformed section %d", ErrCannotInstrument, s.id)
		}
	}
	params := make([]uint32, len(funcs))
	for i, t := range funcs {
		if int(t) >= len(types) {
			return nil, fmt.Errorf("%w: function %d has unknown type %d", ErrCannotInstrument, i, t)
		}
		params[i] = types[t]
	}
	return params, nil
}

// order is a section's position in the binary format's required order.
func order(id byte) int {
	switch id {
	case secTag:
		return 55 // between memory (5) and global (6)
	case 12: // data count: between element (9) and code (10)
		return 95
	}
	return int(id) * 10
}

func instrumentCode(content []byte, params []uint32, flag uint32) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	if int(n) != len(params) {
		return nil, fmt.Errorf("%w: %d bodies for %d functions", ErrCannotInstrument, n, len(params))
	}
	out := uleb(n)
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		if r.err != nil || int(size) > len(content)-r.off {
			return nil, fmt.Errorf("%w: malformed code section", ErrCannotInstrument)
		}
		body, err := instrumentBody(content[r.off:r.off+int(size)], params[i], flag)
		if err != nil {
			return nil, fmt.Errorf("%w: function %d: %v", ErrCannotInstrument, i, err)
		}
		out = append(out, uleb(uint32(len(body)))...)
		out = append(out, body...)
		r.off += int(size)
	}
	return out, nil
}

// maxLocals is the most locals a function may have (the limit engines
// commonly enforce); a function at it gets no counter.
const maxLocals = 50000

// instrumentBody adds the counter local and the loop checks to one
// function body. A body without loops is returned as it is.
func instrumentBody(body []byte, params, flag uint32) ([]byte, error) {
	r := &reader{b: body}
	groups := r.u32()
	afterCount := r.off
	locals := uint64(params)
	for j := uint32(0); j < groups && r.err == nil; j++ {
		locals += uint64(r.u32())
		r.valtype()
	}
	if r.err != nil {
		return nil, errMalformed
	}
	if locals >= maxLocals {
		return nil, errors.New("too many locals")
	}
	check := loopCheck(uint32(locals), flag)
	declEnd := r.off
	out := make([]byte, 0, len(body)+len(body)/8+8)
	out = append(out, uleb(groups+1)...)
	out = append(out, body[afterCount:declEnd]...)
	out = append(out, 0x01, 0x7F) // one more local: the i32 counter
	loops := false
	for r.off < len(body) {
		start := r.off
		op := r.byte()
		if err := r.immediates(op); err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, errMalformed
		}
		out = append(out, body[start:r.off]...)
		if op == 0x03 { // loop
			out = append(out, check...)
			loops = true
		}
	}
	if !loops {
		return body, nil
	}
	return out, nil
}

// immediates skips the immediates of opcode op.
func (r *reader) immediates(op byte) error {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04 || op == 0x06: // block loop if try
		r.s64()
	case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x18: // catch throw rethrow delegate
		r.u32()
	case op == 0x1F: // try_table
		r.s64()
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			switch r.byte() {
			case 0, 1:
				r.u32()
				r.u32()
			case 2, 3:
				r.u32()
			default:
				return errors.New("unknown catch clause")
			}
		}
	case op == 0x0C || op == 0x0D || op == 0x10 || op == 0x12 || op == 0x14 || op == 0x15 || op == 0xD2 || op == 0xD4 || op == 0xD6:
		r.u32()
	case op == 0x0E: // br_table
		n := r.u32()
		for i := uint32(0); i <= n && r.err == nil; i++ {
			r.u32()
		}
	case op == 0x11 || op == 0x13: // call_indirect
		r.u32()
		r.u32()
	case op == 0x1C: // select t*
		n := r.u32()
		for i := uint32(0); i < n && r.err == nil; i++ {
			r.valtype()
		}
	case op >= 0x20 && op <= 0x26:
		r.u32()
	case op >= 0x28 && op <= 0x3E:
		r.memarg()
	case op == 0x3F || op == 0x40:
		r.u32()
	case op == 0x41 || op == 0x42:
		r.s64()
	case op == 0x43:
		r.skip(4)
	case op == 0x44:
		r.skip(8)
	case op == 0xD0: // ref.null heaptype
		r.s64()
	case op == 0xFC:
		switch sub := r.u32(); {
		case sub <= 7:
		case sub == 8 || sub == 10 || sub == 12 || sub == 14:
			r.u32()
			r.u32()
		case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
			r.u32()
		default:
			return fmt.Errorf("unknown opcode 0xFC %d", sub)
		}
	case op == 0xFD:
		switch sub := r.u32(); {
		case sub <= 11 || sub == 92 || sub == 93:
			r.memarg()
		case sub == 12 || sub == 13:
			r.skip(16)
		case sub >= 21 && sub <= 34:
			r.skip(1)
		case sub >= 84 && sub <= 91:
			r.memarg()
			r.skip(1)
		case sub > 0x113:
			return fmt.Errorf("unknown opcode 0xFD %d", sub)
		}
	case op == 0xFE:
		if sub := r.u32(); sub == 3 {
			r.skip(1)
		} else {
			r.memarg()
		}
	case op <= 0x01 || op == 0x05 || op == 0x0A || op == 0x0B || op == 0x0F || op == 0x19 || op == 0x1A || op == 0x1B:
	case op >= 0x45 && op <= 0xC4:
	case op == 0xD1 || op == 0xD3 || op == 0xD5:
	default:
		return fmt.Errorf("unknown opcode 0x%02X", op)
	}
	return nil
}

func (r *reader) memarg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.u32() // memory index (multi-memory)
	}
	r.u64()
}

func (r *reader) s64() { r.u64() }

func (r *reader) skip(n int) {
	if r.err != nil || n > len(r.b)-r.off {
		r.err = errMalformed
		return
	}
	r.off += n
}

// valtype skips a value type, including typed references (0x63/0x64 ht).
func (r *reader) valtype() {
	if t := r.byte(); t == 0x63 || t == 0x64 {
		r.s64()
	}
}

// sleb encodes a non-negative int32 as a signed LEB128.
func sleb(v int32) []byte {
	var b []byte
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v == 0 && c&0x40 == 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func uleb(v uint32) []byte {
	return binary.AppendUvarint(nil, uint64(v))
}
