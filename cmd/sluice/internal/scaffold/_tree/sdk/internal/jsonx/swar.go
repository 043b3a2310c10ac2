package jsonx

import "unsafe"

// Word-at-a-time scanning. Compiled to wasm, Go spends several
// nanoseconds on each byte of a byte loop; these helpers test eight
// bytes with a few integer operations, so that runs of ordinary
// characters (most of every string in a profile or a result row) cost
// an eighth as much. A word test only ever stops early: the byte loop
// after it decides. The word loops are written out where they are used:
// a function call costs more than the loop saves.

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// load reads the 8 bytes at p (any alignment; wasm loads are unaligned).
func load(p *byte) uint64 { return *(*uint64)(unsafe.Pointer(p)) }

// hasByteWord reports whether some byte of x is c (no false negatives).
func hasByteWord(x uint64, c byte) uint64 {
	y := x ^ (ones * uint64(c))
	return (y - ones) &^ y & highs
}

// special reports whether some byte of x may be a control character,
// non-ASCII, a quote or a backslash: a byte a JSON string scan stops at.
func special(x uint64) uint64 {
	return ((x - ones*0x20) &^ x & highs) | x&highs | hasByteWord(x, '"') | hasByteWord(x, '\\')
}

// at is the byte at offset i of the memory p points to.
func at(p unsafe.Pointer, i int) *byte { return (*byte)(unsafe.Add(p, i)) }

// asString is b's bytes as a string, without a copy, for reading only.
func asString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
