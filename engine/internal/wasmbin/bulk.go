package wasmbin

// Large memory.copy and memory.fill are split into chunks.
//
// One such instruction is not divisible: the charge before it counts its
// size, but once it runs, nothing checks the deadline and the Go
// runtime's stop-the-world waits for it. Under a memory quota of a GiB
// one memory.fill of the whole memory runs for a hundred milliseconds
// and more (its first touch of every page included). So Instrument
// rewrites every memory.copy and memory.fill of memory 0:
//
//	local.set $n; local.get $n
//	local.get $n; i32.const bulkChunk; i32.gt_u
//	if (param i32 i32 i32)
//	  ...store the meter...; call $copy (or $fill); ...load the meter...
//	else
//	  ...the size charge...; memory.copy (or memory.fill)
//	end
//
// An operation of at most bulkChunk bytes, the common one (Go's memmove
// and memclr of a few bytes), runs inline as before, behind one
// comparison; one whose size is an i32.const of at most bulkChunk just
// before it (Go's struct copies and clears: 653 of the 682 sites of
// examples/static) is left as it was. A larger one calls a function Instrument adds to the
// module, which checks the whole operation's bounds first (out of bounds,
// it runs the original instruction, which traps before writing
// anything, as the specification requires) and then runs it a chunk at a
// time, charging each chunk and yielding when the fuel runs out. Copies
// whose destination lies above their source go from the end backwards,
// so overlapping ranges copy as memory.copy does.
//
// memory.init is left whole: its size is bounded by the module's data
// (ModuleLimits.MaxDataBytes).

// bulkChunk is the most bytes one bulk instruction moves between two
// charges: a MiB, tens to hundreds of microseconds.
const bulkChunk = 1 << 20

// bulkSig is the type of the two bulk functions and of the if block at
// each site: (param i32 i32 i32).
var bulkSig = []byte{0x60, 0x03, 0x7F, 0x7F, 0x7F, 0x00}

// Sub-opcodes of the 0xFC prefix.
const (
	subMemoryCopy = 10
	subMemoryFill = 11
)

// bulkFunc is the index of the function that chunks the sub-opcode's
// operation: the two come after every defined function.
func (in *instrumenter) bulkFunc(sub uint32) uint32 {
	idx := in.funcImports + 1 + uint32(len(in.funcTypes))
	if sub == subMemoryFill {
		idx++
	}
	return idx
}

// bulkSite rewrites one memory.copy or memory.fill (op: its encoding,
// prefix and immediates) whose operands are on the stack.
func (in *instrumenter) bulkSite(out []byte, ch checker, sub uint32, op []byte) []byte {
	out = appendU32(append(out, 0x21), ch.tmp32) // local.set $n
	out = appendU32(append(out, 0x20), ch.tmp32) // local.get $n
	out = appendU32(append(out, 0x20), ch.tmp32) // local.get $n
	out = appendS64(append(out, 0x41), bulkChunk)
	out = append(out, 0x4B) // i32.gt_u
	out = appendS64(append(out, opIf), int64(in.bulkType))
	out = appendU32(append(ch.store(out), opCall), in.bulkFunc(sub))
	out = ch.load(out)
	out = append(out, 0x05) // else
	out = ch.dynamic(out, bulkMemoryShift, fuelShift)
	out = append(out, op...)
	return append(out, opEnd)
}

// bulkBodies returns the code-section entries (size and body) of the
// two bulk functions, copy then fill. Their parameters are the
// instruction's operands (copy: d, s, n; fill: d, v, n); their locals are
// $f (3, i64: the meter, as in every function), $c (4, i32: this chunk)
// and $back (5, i32: copy backwards).
func (in *instrumenter) bulkBodies() []byte {
	ch := checker{tmp64: 3, fuel: in.fuelGlobal, yield: in.yieldFunc}
	const d, s, n, c, back = 0, 1, 2, 4, 5
	get := func(b []byte, l uint32) []byte { return appendU32(append(b, 0x20), l) }
	set := func(b []byte, l uint32) []byte { return appendU32(append(b, 0x21), l) }
	// pastEnd pushes whether at+n is beyond the memory:
	// local.get at; i64.extend_i32_u; local.get $n; i64.extend_i32_u; i64.add
	// memory.size; i64.extend_i32_u; i64.const 16; i64.shl; i64.gt_u
	pastEnd := func(b []byte, at uint32) []byte {
		b = append(get(b, at), 0xAD)
		b = append(get(b, n), 0xAD, 0x7C)
		return append(b, 0x3F, 0x00, 0xAD, 0x42, 0x10, 0x86, 0x56)
	}
	// chunk sets $c to min($n, bulkChunk), charges it and refills:
	// local.get $n; i32.const chunk; local.get $n; i32.const chunk; i32.lt_u; select; local.set $c
	// local.get $f; local.get $c; i64.extend_i32_u; i64.const 4; i64.shr_u; i64.const 32; i64.shl; i64.sub; local.set $f
	chunk := func(b []byte) []byte {
		b = appendS64(append(get(b, n), 0x41), bulkChunk)
		b = appendS64(append(get(b, n), 0x41), bulkChunk)
		b = set(append(b, 0x49, 0x1B), c)
		b = append(get(get(b, ch.tmp64), c), 0xAD)
		b = append(appendS64(append(b, 0x42), bulkMemoryShift), 0x88)
		b = append(appendS64(append(b, 0x42), fuelShift), 0x86, 0x7D)
		return ch.refill(set(b, ch.tmp64))
	}
	locals := []byte{0x02, 0x01, 0x7E, 0x02, 0x7F} // 1 i64, 2 i32

	// copy(d, s, n)
	cp := append([]byte(nil), locals...)
	cp = append(pastEnd(pastEnd(cp, d), s), 0x72, 0x04, 0x40) // i32.or; if
	cp = append(get(get(get(cp, d), s), n), opPrefixFC, subMemoryCopy, 0x00, 0x00, opReturn, opEnd)
	cp = ch.load(cp)
	cp = set(append(get(get(cp, d), s), 0x4B), back) // d > s: backwards
	cp = append(cp, opLoop, 0x40)
	cp = chunk(cp)
	cp = set(append(get(get(cp, n), c), 0x6B), n) // $n -= $c
	cp = append(get(cp, back), 0x04, 0x40)        // if $back: [s+n, +c) to [d+n, +c)
	cp = append(get(get(cp, d), n), 0x6A)
	cp = append(get(get(cp, s), n), 0x6A)
	cp = append(get(cp, c), opPrefixFC, subMemoryCopy, 0x00, 0x00)
	cp = append(cp, 0x05) // else: [s, +c) to [d, +c), then both move on
	cp = append(get(get(get(cp, d), s), c), opPrefixFC, subMemoryCopy, 0x00, 0x00)
	cp = set(append(get(get(cp, d), c), 0x6A), d)
	cp = set(append(get(get(cp, s), c), 0x6A), s)
	cp = append(cp, opEnd)
	cp = append(get(cp, n), 0x0D, 0x00, opEnd) // br_if the loop while $n; end
	cp = append(ch.store(cp), opEnd)

	// fill(d, v, n)
	fl := append([]byte(nil), locals...)
	fl = append(pastEnd(fl, d), 0x04, 0x40)
	fl = append(get(get(get(fl, d), s), n), opPrefixFC, subMemoryFill, 0x00, opReturn, opEnd)
	fl = ch.load(fl)
	fl = append(fl, opLoop, 0x40)
	fl = chunk(fl)
	fl = append(get(get(get(fl, d), s), c), opPrefixFC, subMemoryFill, 0x00)
	fl = set(append(get(get(fl, d), c), 0x6A), d)
	fl = append(get(get(fl, n), c), 0x6B, 0x22) // $n -= $c (local.tee)
	fl = appendU32(fl, n)
	fl = append(fl, 0x0D, 0x00, opEnd) // br_if the loop while $n; end
	fl = append(ch.store(fl), opEnd)

	out := appendU32(nil, uint32(len(cp)))
	out = append(out, cp...)
	out = appendU32(out, uint32(len(fl)))
	return append(out, fl...)
}
