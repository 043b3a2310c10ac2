package wasmbin

import "sort"

// maxDataGap is the widest run of zeros mergeData writes between two
// segments to join them.
const maxDataGap = 4096

// mergeData joins a data section's active segments into as few as
// contiguous runs allow, the gaps between them (at most maxDataGap bytes)
// written as zeros, which is what fresh memory holds. Go emits one
// segment per symbol, tens of thousands, and wazero keeps a slice header
// per segment in every instance (over 1 MiB for examples/static). It
// returns the content unchanged unless every segment is active in memory
// 0 at an i32.const offset and no two overlap; the caller also keeps it
// unchanged when the module has a data count section (memory.init and
// data.drop name segments by index).
func mergeData(content []byte) []byte {
	type seg struct {
		off  uint32
		data []byte
	}
	r := &reader{b: content}
	n := r.u32()
	if r.err != nil || n < 2 {
		return content
	}
	segs := make([]seg, 0, n)
	for i := uint32(0); i < n; i++ {
		if r.u32() != 0 || r.byte() != 0x41 { // active, memory 0, i32.const
			return content
		}
		v, ok := r.s32()
		if !ok || r.byte() != 0x0B {
			return content
		}
		size := r.u32()
		if r.err != nil || int(size) > len(r.b)-r.off {
			return content
		}
		segs = append(segs, seg{off: uint32(v), data: r.b[r.off : r.off+int(size)]})
		r.off += int(size)
	}
	if r.err != nil || r.off != len(content) {
		return content
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].off < segs[j].off })
	var runs []seg
	for _, s := range segs {
		if len(runs) > 0 {
			last := &runs[len(runs)-1]
			end := uint64(last.off) + uint64(len(last.data))
			if uint64(s.off) < end {
				return content // overlapping: order would matter
			}
			if uint64(s.off)-end <= maxDataGap {
				last.data = append(last.data, make([]byte, uint64(s.off)-end)...)
				last.data = append(last.data, s.data...)
				continue
			}
		}
		runs = append(runs, seg{off: s.off, data: append([]byte(nil), s.data...)})
	}
	out := appendU32(make([]byte, 0, len(content)), uint32(len(runs)))
	for _, s := range runs {
		out = append(out, 0, 0x41)
		out = appendS64(out, int64(int32(s.off)))
		out = append(out, 0x0B)
		out = appendU32(out, uint32(len(s.data)))
		out = append(out, s.data...)
	}
	return out
}

// s32 reads a signed LEB128 of at most 32 bits.
func (r *reader) s32() (int32, bool) {
	var v int64
	shift := 0
	for i := 0; i < 5; i++ {
		c := r.byte()
		if r.err != nil {
			return 0, false
		}
		v |= int64(c&0x7F) << shift
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			if v < -1<<31 || v > 1<<31-1 {
				return 0, false
			}
			return int32(v), true
		}
	}
	return 0, false
}
