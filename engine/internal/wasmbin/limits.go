package wasmbin

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits bound what a module may declare. The compiler's time and memory
// grow with these shapes, some of them faster than linearly (deep block
// nesting, huge br_tables, many loops), so a small upload could otherwise
// keep a core busy for minutes or take gigabytes. CheckLimits enforces them
// in one pass over the binary, before any compiler runs.
//
// The struct is mirrored field for field by engine.ModuleLimits (the
// engine converts one into the other), so keep the two identical.
type Limits struct {
	MaxTypes             int // function types in the type section
	MaxImports           int // imports of any kind
	MaxFunctions         int // functions the module defines
	MaxFunctionBodyBytes int // bytes of one function body
	MaxLocals            int // parameters plus locals of one function
	MaxNestingDepth      int // blocks, loops, ifs and trys open at once in one function
	MaxBrTableTargets    int // targets of one br_table, its default included
	MaxLoopsPerFunction  int // loop instructions in one function
	MaxLoops             int // loop instructions in the module
	MaxTables            int // tables, imported or defined
	MaxTableEntries      int // a table's initial size, and its declared maximum
	MaxMemories          int // memories, imported or defined
	MaxMemoryPages       int // a memory's initial size in 64 KiB pages
	MaxGlobals           int // globals, imported or defined
	MaxDataSegments      int // data segments
	MaxDataBytes         int // bytes of all data segments together
	MaxElementSegments   int // element segments
	MaxElementEntries    int // entries of all element segments together
	MaxExports           int // exports
}

// The limits, in the order of Limits' fields.
const (
	limTypes = iota
	limImports
	limFunctions
	limFunctionBodyBytes
	limLocals
	limNestingDepth
	limBrTableTargets
	limLoopsPerFunction
	limLoops
	limTables
	limTableEntries
	limMemories
	limMemoryPages
	limGlobals
	limDataSegments
	limDataBytes
	limElementSegments
	limElementEntries
	limExports
	numLimits
)

// limitInfo names each limit as operators set it and gives its default.
// The defaults were chosen by measurement: see RATIONALE.md ("Bounded
// compilation") and BENCHMARKS.md ("Module limits").
var limitInfo = [numLimits]struct {
	name string
	def  int
}{
	limTypes:             {"maxTypes", 10000},
	limImports:           {"maxImports", 1000},
	limFunctions:         {"maxFunctions", 100000},
	limFunctionBodyBytes: {"maxFunctionBodyBytes", 1 << 20},
	limLocals:            {"maxLocals", 50000},
	limNestingDepth:      {"maxNestingDepth", 4096},
	limBrTableTargets:    {"maxBrTableTargets", 16384},
	limLoopsPerFunction:  {"maxLoopsPerFunction", 1000},
	limLoops:             {"maxLoops", 50000},
	limTables:            {"maxTables", 10},
	limTableEntries:      {"maxTableEntries", 200000},
	limMemories:          {"maxMemories", 1},
	limMemoryPages:       {"maxMemoryPages", 16384},
	limGlobals:           {"maxGlobals", 10000},
	limDataSegments:      {"maxDataSegments", 100000},
	limDataBytes:         {"maxDataBytes", 64 << 20},
	limElementSegments:   {"maxElementSegments", 1000},
	limElementEntries:    {"maxElementEntries", 200000},
	limExports:           {"maxExports", 1000},
}

func (l *Limits) field(i int) *int {
	switch i {
	case limTypes:
		return &l.MaxTypes
	case limImports:
		return &l.MaxImports
	case limFunctions:
		return &l.MaxFunctions
	case limFunctionBodyBytes:
		return &l.MaxFunctionBodyBytes
	case limLocals:
		return &l.MaxLocals
	case limNestingDepth:
		return &l.MaxNestingDepth
	case limBrTableTargets:
		return &l.MaxBrTableTargets
	case limLoopsPerFunction:
		return &l.MaxLoopsPerFunction
	case limLoops:
		return &l.MaxLoops
	case limTables:
		return &l.MaxTables
	case limTableEntries:
		return &l.MaxTableEntries
	case limMemories:
		return &l.MaxMemories
	case limMemoryPages:
		return &l.MaxMemoryPages
	case limGlobals:
		return &l.MaxGlobals
	case limDataSegments:
		return &l.MaxDataSegments
	case limDataBytes:
		return &l.MaxDataBytes
	case limElementSegments:
		return &l.MaxElementSegments
	case limElementEntries:
		return &l.MaxElementEntries
	case limExports:
		return &l.MaxExports
	}
	panic("wasmbin: no such limit")
}

// DefaultLimits returns the default limits.
func DefaultLimits() Limits {
	var l Limits
	for i := range numLimits {
		*l.field(i) = limitInfo[i].def
	}
	return l
}

// OrDefaults returns l with every zero or negative field set to its
// default.
func (l Limits) OrDefaults() Limits {
	for i := range numLimits {
		if p := l.field(i); *p <= 0 {
			*p = limitInfo[i].def
		}
	}
	return l
}

// LimitNames returns the limits' names, as ParseLimits and LimitError
// spell them, in a fixed order.
func LimitNames() []string {
	names := make([]string, numLimits)
	for i := range numLimits {
		names[i] = limitInfo[i].name
	}
	return names
}

// String returns the limits as ParseLimits reads them:
// "maxTypes=10000,maxImports=1000,...".
func (l Limits) String() string {
	var b strings.Builder
	for i := range numLimits {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(limitInfo[i].name)
		b.WriteByte('=')
		b.WriteString(strconv.Itoa(*l.field(i)))
	}
	return b.String()
}

// ParseLimits reads comma-separated name=value pairs, such as
// "maxNestingDepth=2048,maxFunctions=50000", over base. Names are those
// of LimitNames (their case does not matter); values are positive
// integers. An unknown name, a repeated name or a bad value is an error
// naming it.
func ParseLimits(s string, base Limits) (Limits, error) {
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if !ok {
			return base, fmt.Errorf("module limit %q: want name=value", part)
		}
		idx := -1
		for i := range numLimits {
			if strings.EqualFold(name, limitInfo[i].name) {
				idx = i
			}
		}
		if idx < 0 {
			return base, fmt.Errorf("unknown module limit %q (known: %s)", name, strings.Join(LimitNames(), ", "))
		}
		if seen[idx] {
			return base, fmt.Errorf("module limit %s given twice", limitInfo[idx].name)
		}
		seen[idx] = true
		n, err := strconv.Atoi(strings.ReplaceAll(value, "_", ""))
		if err != nil || n <= 0 {
			return base, fmt.Errorf("module limit %s=%s: want a positive integer", limitInfo[idx].name, value)
		}
		*base.field(idx) = n
	}
	return base, nil
}

// LimitError reports a module over one of its Limits.
type LimitError struct {
	Limit string // the limit's name as operators set it: "maxNestingDepth"
	Where string // "function 12" (an index of the function space), "table 0", "the module"
	What  string // what the module does: "nests blocks 5000 deep"
	Got   uint64 // the module's figure
	Max   uint64 // the limit
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s %s, over the limit of %d (%s)", e.Where, e.What, e.Max, e.Limit)
}

// What each limit's violation says, with the module's figure for %d.
var limitWhat = [numLimits]string{
	limTypes:             "declares %d function types",
	limImports:           "has %d imports",
	limFunctions:         "defines %d functions",
	limFunctionBodyBytes: "has a body of %d bytes",
	limLocals:            "has %d parameters and locals",
	limNestingDepth:      "nests blocks %d deep",
	limBrTableTargets:    "has a br_table with %d targets",
	limLoopsPerFunction:  "has %d loops",
	limLoops:             "has %d loops in all",
	limTables:            "has %d tables",
	limTableEntries:      "starts with %d entries",
	limMemories:          "has %d memories",
	limMemoryPages:       "starts with %d pages of memory",
	limGlobals:           "has %d globals",
	limDataSegments:      "has %d data segments",
	limDataBytes:         "has %d bytes of data segments",
	limElementSegments:   "has %d element segments",
	limElementEntries:    "has %d element segment entries",
	limExports:           "has %d exports",
}

// CheckLimits reads b once and returns a *LimitError for the first limit
// of l it is over (zero fields of l take their defaults), or another
// error when b is malformed where limits are counted. It reads every
// instruction of every function body, after checking the body's size.
func CheckLimits(b []byte, l Limits) error {
	l = l.OrDefaults()
	w := walker{}
	for i := range numLimits {
		w.max[i] = uint64(*l.field(i))
	}
	return w.module(b)
}

// Measure returns the smallest Limits that b meets: each field is the
// module's own figure (its deepest nesting, its largest br_table, ...).
func Measure(b []byte) (Limits, error) {
	var seen [numLimits]uint64
	w := walker{seen: &seen}
	for i := range numLimits {
		w.max[i] = math.MaxUint64
	}
	if err := w.module(b); err != nil {
		return Limits{}, err
	}
	var l Limits
	for i := range numLimits {
		*l.field(i) = int(min(seen[i], math.MaxInt))
	}
	return l, nil
}

type walker struct {
	max  [numLimits]uint64
	seen *[numLimits]uint64 // Measure: the largest figure of each limit
}

// where an error happened: "the module", or kind and index.
type where struct {
	kind string
	idx  int
}

var inModule = where{kind: "the module", idx: -1}

func (w *walker) check(lim int, got uint64, at where) error {
	if w.seen != nil && got > w.seen[lim] {
		w.seen[lim] = got
	}
	if got <= w.max[lim] {
		return nil
	}
	wh := at.kind
	if at.idx >= 0 {
		wh = at.kind + " " + strconv.Itoa(at.idx)
	}
	what := limitWhat[lim]
	if lim == limTableEntries && at.kind == "table max" {
		wh, what = "table "+strconv.Itoa(at.idx), "declares a maximum of %d entries"
	}
	return &LimitError{Limit: limitInfo[lim].name, Where: wh, What: fmt.Sprintf(what, got), Got: got, Max: w.max[lim]}
}

// errTruncated is a section that does not fit the binary.
var errTruncated = errors.New("truncated module")

func (w *walker) module(b []byte) error {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return ErrNotWasm
	}
	var (
		typeParams []uint32 // parameter count of each type
		funcParams []uint32 // parameter count of each defined function
		imported   struct{ funcs, tables, memories, globals uint64 }
		tables     uint64
		memories   uint64
		loops      uint64
		codeSeen   bool
	)
	r := &reader{b: b, off: 8}
	for r.off < len(b) {
		id := r.byte()
		size := r.u32()
		if r.err != nil || int(size) > len(b)-r.off {
			return errTruncated
		}
		end := r.off + int(size)
		s := &reader{b: b[:end], off: r.off}
		var err error
		switch id {
		case secType:
			n := s.u32()
			if err = w.check(limTypes, uint64(n), inModule); err != nil {
				return err
			}
			if s.err != nil || int(n) > end-s.off {
				s.err = errMalformed
				break
			}
			typeParams = make([]uint32, 0, n)
			for i := uint32(0); i < n && s.err == nil; i++ {
				if form := s.byte(); form != 0x60 {
					return fmt.Errorf("type %d: unsupported type form 0x%02X", i, form)
				}
				np := s.u32()
				for j := uint32(0); j < np && s.err == nil; j++ {
					s.valtype()
				}
				nr := s.u32()
				for j := uint32(0); j < nr && s.err == nil; j++ {
					s.valtype()
				}
				typeParams = append(typeParams, np)
			}
		case secImport:
			n := s.u32()
			if err = w.check(limImports, uint64(n), inModule); err != nil {
				return err
			}
			for i := uint32(0); i < n && s.err == nil; i++ {
				s.skipName()
				s.skipName()
				switch kind := s.byte(); kind {
				case KindFunc:
					s.u32()
					imported.funcs++
				case KindTable:
					s.valtype()
					if err = w.table(s, imported.tables); err != nil {
						return err
					}
					imported.tables++
				case KindMemory:
					if err = w.memory(s, imported.memories); err != nil {
						return err
					}
					imported.memories++
				case KindGlobal:
					s.valtype()
					s.byte()
					imported.globals++
				case KindTag:
					s.byte()
					s.u32()
				default:
					return fmt.Errorf("import %d: unknown import kind %d", i, kind)
				}
			}
			tables, memories = imported.tables, imported.memories
			if err = w.check(limTables, tables, inModule); err != nil {
				return err
			}
			if err = w.check(limMemories, memories, inModule); err != nil {
				return err
			}
			if err = w.check(limGlobals, imported.globals, inModule); err != nil {
				return err
			}
		case secFunction:
			n := s.u32()
			if err = w.check(limFunctions, uint64(n), inModule); err != nil {
				return err
			}
			if s.err != nil || int(n) > end-s.off {
				s.err = errMalformed
				break
			}
			funcParams = make([]uint32, n)
			for i := range funcParams {
				t := s.u32()
				if s.err != nil {
					break
				}
				if int(t) >= len(typeParams) {
					return fmt.Errorf("function %d has unknown type %d", imported.funcs+uint64(i), t)
				}
				funcParams[i] = typeParams[t]
			}
		case secTable:
			n := s.u32()
			if err = w.check(limTables, tables+uint64(n), inModule); err != nil {
				return err
			}
			for i := uint32(0); i < n && s.err == nil; i++ {
				s.valtype()
				if err = w.table(s, tables); err != nil {
					return err
				}
				tables++
			}
		case secMemory:
			n := s.u32()
			if err = w.check(limMemories, memories+uint64(n), inModule); err != nil {
				return err
			}
			for i := uint32(0); i < n && s.err == nil; i++ {
				if err = w.memory(s, memories); err != nil {
					return err
				}
				memories++
			}
		case secGlobal:
			err = w.check(limGlobals, imported.globals+uint64(s.u32()), inModule)
		case secExport:
			err = w.check(limExports, uint64(s.u32()), inModule)
		case secElement:
			err = w.elements(s)
		case secCode:
			if codeSeen {
				return errors.New("more than one code section")
			}
			codeSeen = true
			n := s.u32()
			if s.err == nil && int(n) != len(funcParams) {
				return fmt.Errorf("code section has %d bodies for %d functions", n, len(funcParams))
			}
			for i := uint32(0); i < n && s.err == nil; i++ {
				fn := where{kind: "function", idx: int(imported.funcs) + int(i)}
				size := s.u32()
				if s.err != nil || int(size) > end-s.off {
					return fmt.Errorf("function %d: %w", fn.idx, errTruncated)
				}
				if err = w.check(limFunctionBodyBytes, uint64(size), fn); err != nil {
					return err
				}
				fl, ferr := w.body(b[s.off:s.off+int(size)], funcParams[i], fn)
				if ferr != nil {
					return ferr
				}
				loops += fl
				s.off += int(size)
			}
			err = w.check(limLoops, loops, inModule)
		case secData:
			err = w.data(s)
		}
		if err != nil {
			return err
		}
		if s.err != nil {
			return fmt.Errorf("section %d: %w", id, errMalformed)
		}
		r.off = end
	}
	return nil
}

// table checks a table type's limits (after its reference type).
func (w *walker) table(s *reader, idx uint64) error {
	minimum, maximum, hasMax := s.limitValues()
	if err := w.check(limTableEntries, minimum, where{kind: "table", idx: int(idx)}); err != nil {
		return err
	}
	if hasMax {
		return w.check(limTableEntries, maximum, where{kind: "table max", idx: int(idx)})
	}
	return nil
}

// memory checks a memory type's initial size.
func (w *walker) memory(s *reader, idx uint64) error {
	minimum, _, _ := s.limitValues()
	return w.check(limMemoryPages, minimum, where{kind: "memory", idx: int(idx)})
}

// elements reads the element section: segment count, and entries in all.
func (w *walker) elements(s *reader) error {
	n := s.u32()
	if err := w.check(limElementSegments, uint64(n), inModule); err != nil {
		return err
	}
	var entries uint64
	for i := uint32(0); i < n && s.err == nil; i++ {
		flags := s.u32()
		if flags > 7 {
			return fmt.Errorf("element segment %d: unknown flags %d", i, flags)
		}
		if flags&0x02 != 0 && flags&0x01 == 0 { // explicit table index
			s.u32()
		}
		if flags&0x01 == 0 { // active: offset expression
			if err := s.skipConstExpr(); err != nil {
				return fmt.Errorf("element segment %d: %w", i, err)
			}
		}
		if flags&0x03 != 0 { // element kind or reference type
			s.valtype()
		}
		count := s.u32()
		entries += uint64(count)
		if err := w.check(limElementEntries, entries, inModule); err != nil {
			return err
		}
		for j := uint32(0); j < count && s.err == nil; j++ {
			if flags&0x04 != 0 {
				if err := s.skipConstExpr(); err != nil {
					return fmt.Errorf("element segment %d: %w", i, err)
				}
			} else {
				s.u32()
			}
		}
	}
	return nil
}

// data reads the data section: segment count and bytes in all.
func (w *walker) data(s *reader) error {
	n := s.u32()
	if err := w.check(limDataSegments, uint64(n), inModule); err != nil {
		return err
	}
	var total uint64
	for i := uint32(0); i < n && s.err == nil; i++ {
		switch flags := s.u32(); flags {
		case 0:
			if err := s.skipConstExpr(); err != nil {
				return fmt.Errorf("data segment %d: %w", i, err)
			}
		case 1:
		case 2:
			s.u32()
			if err := s.skipConstExpr(); err != nil {
				return fmt.Errorf("data segment %d: %w", i, err)
			}
		default:
			return fmt.Errorf("data segment %d: unknown flags %d", i, flags)
		}
		size := s.u32()
		total += uint64(size)
		s.skip(int(size))
	}
	return w.check(limDataBytes, total, inModule)
}

// body reads one function body: its locals, then every instruction,
// counting nesting, loops and br_table targets. It returns the loops.
func (w *walker) body(body []byte, params uint32, fn where) (uint64, error) {
	r := &reader{b: body}
	groups := r.u32()
	locals := uint64(params)
	for j := uint32(0); j < groups && r.err == nil; j++ {
		locals += uint64(r.u32())
		r.valtype()
		if locals > w.max[limLocals] {
			break // the rest cannot bring it back under
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("function %d: locals: %w", fn.idx, errMalformed)
	}
	if err := w.check(limLocals, locals, fn); err != nil {
		return 0, err
	}
	var depth, deepest, loops uint64
	for r.off < len(body) {
		at := r.off
		op := r.byte()
		switch op {
		case 0x02, 0x03, 0x04, 0x06, 0x1F: // block loop if try try_table
			depth++
			deepest = max(deepest, depth)
			if op == 0x03 {
				loops++
			}
		case 0x0B, 0x18: // end, delegate (ends a try)
			if depth == 0 {
				if op == 0x0B && r.off == len(body) {
					break // the function's end
				}
				return 0, fmt.Errorf("function %d: unbalanced end at byte %d of its body", fn.idx, at)
			}
			depth--
		case 0x0E: // br_table: counted here, before its targets are read
			n := r.u32()
			if err := w.check(limBrTableTargets, uint64(n)+1, fn); err != nil {
				return 0, err
			}
			for i := uint64(0); i <= uint64(n) && r.err == nil; i++ {
				r.u32()
			}
			continue
		}
		if err := r.immediates(op); err != nil {
			return 0, fmt.Errorf("function %d: %v at byte %d of its body", fn.idx, err, at)
		}
		if r.err != nil {
			break
		}
	}
	if r.err != nil {
		return 0, fmt.Errorf("function %d: %w", fn.idx, errMalformed)
	}
	if err := w.check(limNestingDepth, deepest, fn); err != nil {
		return 0, err
	}
	return loops, w.check(limLoopsPerFunction, loops, fn)
}

// limitValues reads a limits structure (of a table or memory type).
func (r *reader) limitValues() (minimum, maximum uint64, hasMax bool) {
	flags := r.byte()
	minimum = r.u64v()
	if flags&0x01 != 0 {
		maximum, hasMax = r.u64v(), true
	}
	return minimum, maximum, hasMax
}

// u64v reads an unsigned LEB128 of up to 64 bits.
func (r *reader) u64v() uint64 {
	var v uint64
	for shift := 0; shift < 70; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.err = errMalformed
	return 0
}

func (r *reader) skipName() {
	n := r.u32()
	r.skip(int(n))
}

// skipConstExpr skips a constant expression up to its end.
func (r *reader) skipConstExpr() error {
	for r.err == nil {
		op := r.byte()
		if op == 0x0B {
			return nil
		}
		if err := r.immediates(op); err != nil {
			return err
		}
	}
	return errMalformed
}

const secData = 11
