package wasmbin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
)

// The names Instrument adds to a module. Validation refuses guest imports
// and exports under them.
const (
	// YieldModule and YieldName name the host function the instrumented
	// code calls when its fuel runs out: () -> i64, the new fuel.
	YieldModule = "__sluice"
	YieldName   = "yield"
	// StartExport exports the module's start function, which Instrument
	// removes from the start section so that the host runs it under a
	// call's limits instead of inside instantiation.
	StartExport = "__sluice_start"
	// MeterExport exports the meter, an i64: the fuel left in its high 32
	// bits (signed), the estimated bytes of call stack in use in its low
	// 32. Past Options.MaxStackBytes the code traps, and the host reads
	// the meter to tell why.
	MeterExport = "__sluice_meter"
	// FlagsExport exports what the code records of limits it hit:
	// FlagTableFull when a table.grow was refused.
	FlagsExport = "__sluice_flags"
)

// FlagTableFull is set in FlagsExport when a table.grow failed: the
// table is at its (capped) maximum.
const FlagTableFull = 1

// Costs charged to the fuel counter, in units of about one simple
// instruction. Bulk operations are charged by their size: memory ops a
// unit per 16 bytes, memory.grow a unit per 16 bytes of the pages it adds,
// table ops a unit per two entries.
//
// Fuel sits in the meter's high 32 bits: a unit of fuel is 1<<fuelShift.
const (
	bulkMemoryShift = 4  // n >> 4
	growPagesShift  = 12 // pages << 12
	bulkTableShift  = 1  // n >> 1
	fuelShift       = 32
)

// ErrCannotInstrument means the module uses something Instrument does
// not know (an instruction, a section form). Such a module cannot be run
// safely, so it is refused.
var ErrCannotInstrument = errors.New("cannot instrument module")

// Prepared is an instrumented module and what the engine needs to know
// of it.
type Prepared struct {
	Code []byte
	// TableEntries is the total maximum size of the module's tables
	// after Instrument capped them: what the tables can cost.
	TableEntries uint64
	// HasStart reports a start function, exported as StartExport.
	HasStart bool
}

// Options tune Instrument.
type Options struct {
	// MaxTableEntries caps every table's maximum size. A table that
	// declares no maximum cannot grow (Go and LLVM never grow theirs); a
	// larger maximum becomes this one; a larger minimum is refused.
	MaxTableEntries uint32
	// Fuel is the fuel global's initial value: the units the code may
	// run before its first yield. Default 100000.
	Fuel int64
	// MaxStackBytes bounds the call stack: every function entry adds an
	// estimate of its frame (16 bytes and 8 a parameter or local) and
	// traps past this. wazero would otherwise grow a call's stack to
	// hundreds of megabytes, outside any memory limit. Default 4 MiB.
	MaxStackBytes int32
}

const (
	secCustom    = 0
	secType      = 1
	secFunction  = 3
	secTable     = 4
	secMemory    = 5
	secGlobal    = 6
	secStart     = 8
	secElement   = 9
	secCode      = 10
	secDataCount = 12
	secTag       = 13
)

// Instrument returns a copy of the module in which the code counts down
// a fuel counter, a new mutable i64 global, and calls the host (a new
// import, YieldModule.YieldName) whenever it runs out:
//
//   - every function entry charges the instructions of the function that
//     lie outside its loops, and every loop header the instructions of
//     that loop's own body, so no shape of code (loops of any length,
//     loop-free call trees, recursion) runs long without reaching the
//     host;
//   - bulk memory and table instructions and memory.grow charge their
//     size first, and a memory.copy or memory.fill of more than a MiB
//     runs a MiB at a time, charged and checked between chunks
//     (bulk.go), so no one instruction runs long either.
//
// The host decides, at each yield, whether the call must stop (deadline,
// cancellation, quota) or give its CPU slot to another call, and returns
// the next portion of fuel. Reaching the host also returns to Go, which
// cannot preempt compiled wasm: a garbage collection's stop-the-world
// waits for running guests only until their next yield.
//
// Adding an import shifts every defined function's index by one, so
// calls, ref.func, exports, elements and global initialisers are
// renumbered. A start function is removed from the start section and
// exported as StartExport. Tables are capped to opts.MaxTableEntries.
// Active data segments are merged into contiguous runs (mergeData).
// Debug and name sections, whose offsets and indices would no longer
// hold, are dropped.
func Instrument(b []byte, opts Options) (*Prepared, error) {
	if _, err := Parse(b); err != nil {
		return nil, err
	}
	if opts.MaxTableEntries == 0 {
		opts.MaxTableEntries = 1 << 20
	}
	if opts.Fuel <= 0 {
		opts.Fuel = 100000
	}
	if opts.MaxStackBytes <= 0 {
		opts.MaxStackBytes = 1 << 20
	}
	var secs []section
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		id := r.byte()
		size := r.u32()
		secs = append(secs, section{id: id, start: r.off, end: r.off + int(size)})
		r.off += int(size)
	}
	ins := &instrumenter{b: b, secs: secs, opts: opts}
	if err := ins.scan(); err != nil {
		return nil, err
	}
	return ins.emit()
}

type section struct {
	id         byte
	start, end int // content
}

type instrumenter struct {
	b    []byte
	secs []section
	opts Options

	numTypes       uint32
	typeParams     []uint32 // parameter count of each type
	typeBlocks     [][]byte // the block type of a body of each type: [] -> its results
	extraTypes     [][]byte // types added for multi-value block types
	funcImports    uint32
	globalImports  uint32
	ownGlobals     uint32
	funcTypes      []uint32 // type index of each defined function
	hasStart       bool
	startFunc      uint32
	tableEntries   uint64
	yieldFunc      uint32 // index of the new import
	yieldType      uint32 // index of its new type
	fuelGlobal     uint32 // the meter: fuel and stack estimate
	flagsGlobal    uint32
	hasImportSec   bool
	hasTypeSec     bool
	hasGlobalSec   bool
	hasDataCount   bool // memory.init and data.drop may name segments
	hasExportSec   bool
	hasMemoryDecl  bool
	memoryImported bool
	bulk           bool   // the module has code: the bulk functions are added (bulk.go)
	bulkType       uint32 // their type, bulkSig
}

func (in *instrumenter) content(s section) []byte { return in.b[s.start:s.end] }

// scan reads what emit needs before writing anything.
func (in *instrumenter) scan() error {
	var results [][]byte // the result vector of each type
	for _, s := range in.secs {
		r := &reader{b: in.content(s)}
		switch s.id {
		case secType:
			in.hasTypeSec = true
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				if form := r.byte(); form != 0x60 {
					return fmt.Errorf("%w: type form 0x%02X", ErrCannotInstrument, form)
				}
				np := r.u32()
				for j := uint32(0); j < np && r.err == nil; j++ {
					r.valtype()
				}
				resStart := r.off
				nr := r.u32()
				for j := uint32(0); j < nr && r.err == nil; j++ {
					r.valtype()
				}
				in.typeParams = append(in.typeParams, np)
				results = append(results, r.b[resStart:r.off])
			}
			in.numTypes = n
			in.blockTypes(results)
		case secImport:
			in.hasImportSec = true
			imps, err := parseImports(r)
			if err != nil {
				return err
			}
			for _, imp := range imps {
				switch imp.Kind {
				case KindFunc:
					in.funcImports++
				case KindGlobal:
					in.globalImports++
				case KindMemory:
					in.memoryImported = true
				case KindTable:
					return fmt.Errorf("%w: it imports a table", ErrCannotInstrument)
				}
			}
		case secFunction:
			n := r.u32()
			for i := uint32(0); i < n && r.err == nil; i++ {
				in.funcTypes = append(in.funcTypes, r.u32())
			}
		case secDataCount:
			in.hasDataCount = true
		case secGlobal:
			in.hasGlobalSec = true
			in.ownGlobals = r.u32()
		case secExport:
			in.hasExportSec = true
		case secMemory:
			in.hasMemoryDecl = true
		case secStart:
			in.hasStart = true
			in.startFunc = r.u32()
		}
		if r.err != nil {
			return fmt.Errorf("%w: malformed section %d", ErrCannotInstrument, s.id)
		}
	}
	for i, t := range in.funcTypes {
		if t >= in.numTypes {
			return fmt.Errorf("%w: function %d has unknown type %d", ErrCannotInstrument, i, t)
		}
	}
	if !in.hasMemoryDecl && !in.memoryImported {
		return fmt.Errorf("%w: it has no memory", ErrCannotInstrument)
	}
	if len(in.funcTypes) > 0 {
		in.bulk = true
		in.bulkType = in.numTypes + 1 + uint32(len(in.extraTypes))
		in.extraTypes = append(in.extraTypes, bulkSig)
	}
	in.yieldFunc = in.funcImports
	in.yieldType = in.numTypes
	in.fuelGlobal = in.globalImports + in.ownGlobals
	in.flagsGlobal = in.fuelGlobal + 1
	return nil
}

// blockTypes sets the block type of each function type's body: a block
// of no parameters that yields the function's results, for which a
// function with several results needs a type of its own, added after the
// yield type.
func (in *instrumenter) blockTypes(results [][]byte) {
	for _, res := range results {
		r := &reader{b: res}
		switch n := r.u32(); n {
		case 0:
			in.typeBlocks = append(in.typeBlocks, []byte{0x40})
			continue
		case 1:
			in.typeBlocks = append(in.typeBlocks, res[r.off:])
			continue
		}
		ft := append([]byte{0x60, 0x00}, res...)
		idx := -1
		for i, t := range in.extraTypes {
			if string(t) == string(ft) {
				idx = i
			}
		}
		if idx < 0 {
			idx = len(in.extraTypes)
			in.extraTypes = append(in.extraTypes, ft)
		}
		in.typeBlocks = append(in.typeBlocks, appendS64(nil, int64(in.numTypes)+1+int64(idx)))
	}
}

// fn renumbers a function index: defined functions move up by one to
// make room for the yield import. An index past the module's functions
// (an invalid module: it is validated only once instrumented) moves past
// the bulk functions too, so that it stays invalid rather than naming
// one of them.
func (in *instrumenter) fn(idx uint32) uint32 {
	switch {
	case idx >= in.funcImports+uint32(len(in.funcTypes)):
		return min(idx, math.MaxUint32-3) + 3
	case idx >= in.funcImports:
		return idx + 1
	}
	return idx
}

func (in *instrumenter) emit() (*Prepared, error) {
	b := in.b
	out := append(make([]byte, 0, len(b)+len(b)/4+64), b[:8]...)
	emit := func(id byte, content []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	yieldType := []byte{0x60, 0x00, 0x01, 0x7E} // () -> i64
	yieldImport := appendName(appendName(nil, YieldModule), YieldName)
	yieldImport = appendU32(append(yieldImport, KindFunc), in.yieldType)
	fuelGlobal := in.globalDecls()

	// Sections the module lacks are added before the first section that
	// must follow them.
	missing := []struct {
		id      byte
		have    bool
		content []byte
	}{
		{secType, in.hasTypeSec, append([]byte{1}, yieldType...)},
		{secImport, in.hasImportSec, append([]byte{1}, yieldImport...)},
		{secGlobal, in.hasGlobalSec, append([]byte{2}, fuelGlobal...)},
	}
	addMissing := func(before byte) {
		for i := range missing {
			if m := &missing[i]; !m.have && (before == 0xFF || order(m.id) < order(before)) {
				emit(m.id, m.content)
				m.have = true
			}
		}
	}
	for _, s := range in.secs {
		content := in.content(s)
		if s.id != secCustom {
			addMissing(s.id)
		}
		switch s.id {
		case secCustom:
			nr := &reader{b: content}
			if name := nr.name(); nr.err != nil || name == "name" || strings.HasPrefix(name, ".debug") {
				continue
			}
			emit(s.id, content)
		case secType:
			emit(s.id, appendVecItems(content, append([][]byte{yieldType}, in.extraTypes...)))
		case secImport:
			emit(s.id, appendVecItems(content, [][]byte{yieldImport}))
		case secTable:
			c, err := in.tables(content)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		case secGlobal:
			c, err := in.globals(content)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		case secExport:
			c, err := in.exports(content)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		case secStart:
			// Dropped: the host calls it through StartExport.
		case secElement:
			c, err := in.elements(content)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		case secFunction:
			if in.bulk {
				t := appendU32(nil, in.bulkType)
				content = appendVecItems(content, [][]byte{t, t})
			}
			emit(s.id, content)
		case secCode:
			c, err := in.code(content)
			if err != nil {
				return nil, err
			}
			emit(s.id, c)
		case secData:
			if !in.hasDataCount {
				content = mergeData(content)
			}
			emit(s.id, content)
		default:
			emit(s.id, content)
		}
	}
	addMissing(0xFF)
	return &Prepared{Code: out, TableEntries: in.tableEntries, HasStart: in.hasStart}, nil
}

// appendVecItems appends encoded items to a vector section's content.
func appendVecItems(content []byte, items [][]byte) []byte {
	r := &reader{b: content}
	n := r.u32()
	c := appendU32(make([]byte, 0, len(content)+64), n+uint32(len(items)))
	c = append(c, content[r.off:]...)
	for _, it := range items {
		c = append(c, it...)
	}
	return c
}

func (in *instrumenter) tables(content []byte) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	out := appendU32(nil, n)
	for i := uint32(0); i < n; i++ {
		start := r.off
		r.valtype()
		out = append(out, content[start:r.off]...)
		flags := r.byte()
		lo := r.u32()
		hi := lo
		if flags&1 != 0 {
			hi = min(r.u32(), in.opts.MaxTableEntries)
		}
		if r.err != nil || flags&^1 != 0 {
			return nil, fmt.Errorf("%w: malformed table section", ErrCannotInstrument)
		}
		if lo > in.opts.MaxTableEntries {
			return nil, fmt.Errorf("table %d has %d entries, over the limit of %d (maxTableEntries)", i, lo, in.opts.MaxTableEntries)
		}
		hi = max(hi, lo)
		in.tableEntries += uint64(hi)
		out = appendU32(appendU32(append(out, 0x01), lo), hi)
	}
	if r.off != len(content) {
		return nil, fmt.Errorf("%w: table section: trailing bytes", ErrCannotInstrument)
	}
	return out, nil
}

func (in *instrumenter) globals(content []byte) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	out := appendU32(nil, n+2)
	for i := uint32(0); i < n; i++ {
		start := r.off
		r.valtype()
		r.byte() // mutability
		out = append(out, content[start:r.off]...)
		var err error
		if out, err = in.constExpr(r, out); err != nil {
			return nil, err
		}
	}
	if r.err != nil || r.off != len(content) {
		return nil, fmt.Errorf("%w: malformed global section", ErrCannotInstrument)
	}
	return append(out, in.globalDecls()...), nil
}

// globalDecls declares the globals Instrument adds: the meter (mut i64 =
// opts.Fuel << 32: no stack in use) and the flags (mut i32 = 0).
func (in *instrumenter) globalDecls() []byte {
	meter := append(appendS64([]byte{0x7E, 0x01, 0x42}, in.opts.Fuel<<fuelShift), 0x0B)
	return append(meter, 0x7F, 0x01, 0x41, 0x00, 0x0B)
}

func (in *instrumenter) exports(content []byte) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	extra := uint32(2) // the meter and the flags
	if in.hasStart {
		extra++
	}
	out := appendU32(nil, n+extra)
	for i := uint32(0); i < n; i++ {
		start := r.off
		r.name()
		kind := r.byte()
		out = append(out, content[start:r.off]...)
		idx := r.u32()
		if kind == KindFunc {
			idx = in.fn(idx)
		}
		if kind == KindGlobal && idx >= in.fuelGlobal {
			return nil, fmt.Errorf("%w: export of unknown global %d", ErrCannotInstrument, idx)
		}
		out = appendU32(out, idx)
	}
	out = appendU32(append(appendName(out, MeterExport), KindGlobal), in.fuelGlobal)
	out = appendU32(append(appendName(out, FlagsExport), KindGlobal), in.flagsGlobal)
	if r.err != nil || r.off != len(content) {
		return nil, fmt.Errorf("%w: malformed export section", ErrCannotInstrument)
	}
	if in.hasStart {
		out = appendU32(append(appendName(out, StartExport), KindFunc), in.fn(in.startFunc))
	}
	return out, nil
}

// elements renumbers the function indices of element segments, in each
// of the binary format's eight forms.
func (in *instrumenter) elements(content []byte) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	out := appendU32(nil, n)
	var err error
	for i := uint32(0); i < n && err == nil; i++ {
		flags := r.u32()
		out = appendU32(out, flags)
		if flags > 7 {
			return nil, fmt.Errorf("%w: element segment form %d", ErrCannotInstrument, flags)
		}
		if flags == 2 || flags == 6 {
			out = appendU32(out, r.u32()) // table index
		}
		if flags&1 == 0 { // active: an offset expression
			if out, err = in.constExpr(r, out); err != nil {
				return nil, err
			}
		}
		if flags&3 != 0 { // elemkind or reftype
			start := r.off
			r.valtype()
			out = append(out, content[start:r.off]...)
		}
		count := r.u32()
		out = appendU32(out, count)
		for j := uint32(0); j < count && r.err == nil && err == nil; j++ {
			if flags&4 == 0 {
				out = appendU32(out, in.fn(r.u32()))
			} else {
				out, err = in.constExpr(r, out)
			}
		}
	}
	if err == nil && (r.err != nil || r.off != len(content)) {
		err = fmt.Errorf("%w: malformed element section", ErrCannotInstrument)
	}
	return out, err
}

// constExpr copies a constant expression up to its end, renumbering
// ref.func.
func (in *instrumenter) constExpr(r *reader, out []byte) ([]byte, error) {
	for r.err == nil {
		start := r.off
		op := r.byte()
		switch op {
		case 0x0B:
			return append(out, op), nil
		case 0xD2:
			out = appendU32(append(out, op), in.fn(r.u32()))
			continue
		case 0x23:
			if idx := r.u32(); idx >= in.fuelGlobal {
				return nil, fmt.Errorf("%w: constant expression reads unknown global %d", ErrCannotInstrument, idx)
			}
			out = append(out, r.b[start:r.off]...)
			continue
		}
		if err := r.immediates(op); err != nil {
			return nil, fmt.Errorf("%w: constant expression: %v", ErrCannotInstrument, err)
		}
		out = append(out, r.b[start:r.off]...)
	}
	return nil, fmt.Errorf("%w: malformed constant expression", ErrCannotInstrument)
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

func (in *instrumenter) code(content []byte) ([]byte, error) {
	r := &reader{b: content}
	n := r.u32()
	if int(n) != len(in.funcTypes) {
		return nil, fmt.Errorf("%w: %d bodies for %d functions", ErrCannotInstrument, n, len(in.funcTypes))
	}
	total := n
	if in.bulk {
		total += 2
	}
	out := appendU32(make([]byte, 0, len(content)+len(content)/4+256), total)
	var body []byte
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		if r.err != nil || int(size) > len(content)-r.off {
			return nil, fmt.Errorf("%w: malformed code section", ErrCannotInstrument)
		}
		var err error
		t := in.funcTypes[i]
		body, err = in.body(body[:0], content[r.off:r.off+int(size)], in.typeParams[t], in.typeBlocks[t])
		if err != nil {
			return nil, fmt.Errorf("%w: function %d: %v", ErrCannotInstrument, in.funcImports+i, err)
		}
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
		r.off += int(size)
	}
	if in.bulk {
		out = append(out, in.bulkBodies()...)
	}
	return out, nil
}

// maxLocals is the most locals a function may have (the limit engines
// commonly enforce), counting the two Instrument adds.
const maxLocals = 50000

// Opcodes the instrumenter looks at.
const (
	opBlock        = 0x02
	opLoop         = 0x03
	opIf           = 0x04
	opTry          = 0x06
	opEnd          = 0x0B
	opBr           = 0x0C
	opBrIf         = 0x0D
	opBrTable      = 0x0E
	opLocalGet     = 0x20
	opLocalSet     = 0x21
	opLocalTee     = 0x22
	opReturn       = 0x0F
	opCall         = 0x10
	opCallIndirect = 0x11
	opReturnCall   = 0x12
	opTryTable     = 0x1F
	opRefFunc      = 0xD2
	opGlobalGet    = 0x23
	opGlobalSet    = 0x24
	opMemoryGrow   = 0x40
	opPrefixFC     = 0xFC
)

// body instruments one function body into out: two scratch locals (an
// i64 and an i32), a fuel check at entry and at every loop header, a size
// charge before bulk operations, renumbered calls, and the stack
// estimate: raised at entry, lowered at exit. The original code is
// wrapped in a block of the function's results (blockType) so that every
// way out of it (the last end, a branch to the function's label, a
// return, rewritten as a branch to that block) passes the lowering.
func (in *instrumenter) body(out, body []byte, params uint32, blockType []byte) ([]byte, error) {
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
	if locals+2 > maxLocals {
		return nil, fmt.Errorf("it has %d locals, over the limit of %d", locals, maxLocals-2)
	}
	declEnd := r.off
	costs, err := regionCosts(body[declEnd:])
	if err != nil {
		return nil, err
	}
	ch := checker{tmp64: uint32(locals), tmp32: uint32(locals) + 1, fuel: in.fuelGlobal, yield: in.yieldFunc}
	frame := int64(16 + 8*(locals+2))

	out = appendU32(out, groups+2)
	out = append(out, body[afterCount:declEnd]...)
	out = append(out, 0x01, 0x7E, 0x01, 0x7F) // the scratch locals: $f (i64), $n (i32)
	out = ch.entry(out, costs[0], frame, int64(in.opts.MaxStackBytes))
	out = append(append(out, opBlock), blockType...)

	loop := 1
	depth := uint32(0) // blocks open in the original code
	// lastConst is the value of the instruction just before, when it
	// was an i32.const, else -1: a bulk instruction's size, when the
	// compiler wrote it as a constant (Go does for 95% of them).
	lastConst := int64(-1)
	for r.off < len(body) {
		start := r.off
		op := r.byte()
		prevConst := lastConst
		lastConst = -1
		if op == 0x41 {
			cr := &reader{b: body, off: r.off}
			if v, ok := cr.s32(); ok && v >= 0 {
				lastConst = int64(v)
			}
		}
		switch op {
		case opCall:
			idx := r.u32()
			if idx < in.funcImports { // the host does not use the fuel
				out = appendU32(append(out, op), idx)
				continue
			}
			out = appendU32(append(ch.store(out), op), in.fn(idx))
			out = ch.load(out)
			continue
		case opCallIndirect:
			if err := r.immediates(op); err != nil || r.err != nil {
				return nil, errMalformed
			}
			out = append(ch.store(out), body[start:r.off]...)
			out = ch.load(out)
			continue
		case opReturnCall, opRefFunc:
			out = appendU32(append(out, op), in.fn(r.u32()))
			continue
		case opReturn:
			out = appendU32(append(out, opBr), depth)
			continue
		case opGlobalGet, opGlobalSet:
			if idx := r.u32(); idx >= in.fuelGlobal {
				return nil, fmt.Errorf("unknown global %d", idx)
			}
			out = append(out, body[start:r.off]...)
			continue
		// The module is validated once instrumented, so what the rewrite
		// adds must not become reachable through an index that was
		// invalid before: a local past the function's own is a scratch
		// local (the meter: a guest writing it would never yield), a
		// label past the function's is the function itself (a branch to
		// it would skip the exit that writes the meter back).
		case opLocalGet, opLocalSet, opLocalTee:
			if idx := r.u32(); uint64(idx) >= locals {
				return nil, fmt.Errorf("unknown local %d", idx)
			}
			out = append(out, body[start:r.off]...)
			continue
		case opBr, opBrIf:
			if l := r.u32(); l > depth {
				return nil, fmt.Errorf("unknown label %d", l)
			}
			out = append(out, body[start:r.off]...)
			continue
		case opBrTable:
			n := r.u32()
			for i := uint64(0); i <= uint64(n) && r.err == nil; i++ {
				if l := r.u32(); l > depth {
					return nil, fmt.Errorf("unknown label %d", l)
				}
			}
			if r.err != nil {
				return nil, errMalformed
			}
			out = append(out, body[start:r.off]...)
			continue
		case opMemoryGrow:
			out = ch.dynamic(out, 0, fuelShift+growPagesShift)
		case opPrefixFC:
			sr := &reader{b: body, off: r.off}
			switch sub := sr.u32(); sub {
			case subMemoryCopy, subMemoryFill:
				if err := r.immediates(op); err != nil || r.err != nil {
					return nil, errMalformed
				}
				mem0 := sr.u32() == 0 && (sub == subMemoryFill || sr.u32() == 0)
				if small := prevConst >= 0 && prevConst <= bulkChunk; in.bulk && mem0 && !small {
					out = in.bulkSite(out, ch, sub, body[start:r.off])
				} else { // a constant size of at most a chunk, or another memory (multi-memory): whole
					out = append(ch.dynamic(out, bulkMemoryShift, fuelShift), body[start:r.off]...)
				}
				continue
			case 8: // memory.init
				out = ch.dynamic(out, bulkMemoryShift, fuelShift)
			case 12, 14, 17: // table.init, table.copy, table.fill
				out = ch.dynamic(out, bulkTableShift, fuelShift)
			case 15: // table.grow: charged, and a refusal is recorded
				out = ch.dynamic(out, bulkTableShift, fuelShift)
				if err := r.immediates(op); err != nil || r.err != nil {
					return nil, errMalformed
				}
				out = append(out, body[start:r.off]...)
				// local.tee $n; i32.const -1; i32.eq
				// if  global.get $flags; i32.const 1; i32.or; global.set $flags  end
				// local.get $n
				out = appendU32(append(out, 0x22), ch.tmp32)
				out = append(out, 0x41, 0x7F, 0x46, 0x04, 0x40)
				out = appendU32(append(out, 0x23), in.flagsGlobal)
				out = append(out, 0x41, FlagTableFull, 0x72)
				out = appendU32(append(out, 0x24), in.flagsGlobal)
				out = append(out, opEnd)
				out = appendU32(append(out, 0x20), ch.tmp32)
				continue
			}
		case opBlock, opLoop, opIf, opTry, opTryTable:
			depth++
		case opEnd:
			if depth == 0 { // the function's end: close the wrapper first
				// local.get $f; i64.const frame; i64.sub; global.set $meter
				out = append(out, opEnd)
				out = appendU32(append(out, 0x20), ch.tmp64)
				out = append(appendS64(append(out, 0x42), frame), 0x7D)
				out = appendU32(append(out, 0x24), in.fuelGlobal)
			} else {
				depth--
			}
		}
		if err := r.immediates(op); err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, errMalformed
		}
		out = append(out, body[start:r.off]...)
		if op == opLoop {
			out = ch.static(out, costs[loop])
			loop++
		}
	}
	return out, nil
}

// regionCosts counts the instructions of a function's code outside any
// loop (costs[0]) and of each loop's own body, nested loops excluded
// (costs[1:], in the order the loops start). The check code Instrument
// adds is not counted: it is what the counts pay for.
func regionCosts(code []byte) ([]int64, error) {
	costs := []int64{0}
	// open holds, for each open block, the index in costs of the region
	// it belongs to; loops open a region of their own.
	open := []int{0}
	r := &reader{b: code}
	for r.off < len(code) {
		op := r.byte()
		if err := r.immediates(op); err != nil {
			return nil, err
		}
		if r.err != nil {
			return nil, errMalformed
		}
		if len(open) == 0 {
			return nil, errors.New("instructions after the function's end")
		}
		region := open[len(open)-1]
		costs[region]++
		switch op {
		case opBlock, opIf, opTry, opTryTable:
			open = append(open, region)
		case opLoop:
			costs = append(costs, 1)
			open = append(open, len(costs)-1)
		case opEnd:
			open = open[:len(open)-1]
		}
	}
	if len(open) != 0 {
		return nil, errors.New("the function's code does not end")
	}
	return costs, nil
}

// checker writes the meter checks of one function. Within a function the
// meter lives in a local, $f (tmp64), so that a loop's check is register
// arithmetic: it is read from the global at entry and after every call,
// and written back before every call and at the exit. Fuel sits in the
// meter's high 32 bits, so the meter is negative exactly when the fuel
// has run out; the stack estimate in its low 32 bits stays far below
// 1<<31.
type checker struct {
	tmp64, tmp32, fuel, yield uint32
}

// entry reads the meter and charges the function's cost and frame:
//
//	global.get $meter; i64.const frame-(cost<<32); i64.add; local.tee $f
//	i64.const 0; i64.lt_s
//	local.get $f; i32.wrap_i64; i32.const max; i32.gt_u
//	i32.or
//	if
//	  local.get $f; i32.wrap_i64; i32.const max; i32.gt_u
//	  if  local.get $f; global.set $meter; unreachable  end
//	  ...refill...
//	end
func (c checker) entry(out []byte, cost, frame, maxStack int64) []byte {
	out = appendU32(append(out, 0x23), c.fuel)
	out = append(appendS64(append(out, 0x42), frame-cost<<fuelShift), 0x7C)
	out = appendU32(append(out, 0x22), c.tmp64)
	out = append(out, 0x42, 0x00, 0x53)
	out = c.stackOver(out, maxStack)
	out = append(out, 0x72, 0x04, 0x40)
	out = c.stackOver(out, maxStack)
	out = append(out, 0x04, 0x40)
	out = c.store(out)
	out = append(out, 0x00, opEnd)
	out = c.refill(out)
	return append(out, opEnd)
}

// stackOver pushes whether the stack estimate in $f is over max:
// local.get $f; i32.wrap_i64; i32.const max; i32.gt_u.
func (c checker) stackOver(out []byte, maxStack int64) []byte {
	out = appendU32(append(out, 0x20), c.tmp64)
	out = appendS64(append(out, 0xA7, 0x41), maxStack)
	return append(out, 0x4B)
}

// refill, when the fuel has run out, yields and puts the new fuel in
// $f's high half, keeping the stack estimate:
//
//	local.get $f; i64.const 0; i64.lt_s
//	if
//	  call $yield; i64.const 32; i64.shl
//	  local.get $f; i64.const 0xFFFFFFFF; i64.and; i64.or; local.set $f
//	end
func (c checker) refill(out []byte) []byte {
	out = appendU32(append(out, 0x20), c.tmp64)
	out = append(out, 0x42, 0x00, 0x53, 0x04, 0x40)
	out = appendU32(append(out, opCall), c.yield)
	out = appendS64(append(out, 0x42), fuelShift)
	out = append(out, 0x86)
	out = appendU32(append(out, 0x20), c.tmp64)
	out = appendS64(append(out, 0x42), 0xFFFFFFFF)
	out = append(out, 0x83, 0x84)
	out = appendU32(append(out, 0x21), c.tmp64)
	return append(out, opEnd)
}

// static charges a constant cost at a loop header:
//
//	local.get $f; i64.const cost<<32; i64.sub; local.set $f
//	...refill...
func (c checker) static(out []byte, cost int64) []byte {
	out = appendU32(append(out, 0x20), c.tmp64)
	out = appendS64(append(out, 0x42), cost<<fuelShift)
	out = append(out, 0x7D)
	out = appendU32(append(out, 0x21), c.tmp64)
	return c.refill(out)
}

// dynamic charges the i32 size on top of the stack, scaled down by shr
// and moved into the fuel half by shl, and leaves the size where it was:
//
//	local.set $n
//	local.get $f
//	local.get $n; i64.extend_i32_u; [i64.const shr; i64.shr_u]; i64.const shl; i64.shl
//	i64.sub; local.set $f
//	...refill...
//	local.get $n
func (c checker) dynamic(out []byte, shr, shl int64) []byte {
	out = appendU32(append(out, 0x21), c.tmp32)
	out = appendU32(append(out, 0x20), c.tmp64)
	out = appendU32(append(out, 0x20), c.tmp32)
	out = append(out, 0xAD)
	if shr > 0 {
		out = append(appendS64(append(out, 0x42), shr), 0x88)
	}
	out = append(appendS64(append(out, 0x42), shl), 0x86, 0x7D)
	out = appendU32(append(out, 0x21), c.tmp64)
	out = c.refill(out)
	return appendU32(append(out, 0x20), c.tmp32)
}

// load reads the meter into $f: global.get $meter; local.set $f.
func (c checker) load(out []byte) []byte {
	out = appendU32(append(out, 0x23), c.fuel)
	return appendU32(append(out, 0x21), c.tmp64)
}

// store writes $f back: local.get $f; global.set $meter.
func (c checker) store(out []byte) []byte {
	out = appendU32(append(out, 0x20), c.tmp64)
	return appendU32(append(out, 0x24), c.fuel)
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

// appendS64 appends v as a signed LEB128.
func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendU32(b []byte, v uint32) []byte {
	return binary.AppendUvarint(b, uint64(v))
}

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}
