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
	segs, ok := activeSegments(content)
	if !ok || len(segs) < 2 {
		return content
	}
	sort.SliceStable(segs, func(i, j int) bool { return segs[i].Offset < segs[j].Offset })
	var runs []seg
	for _, s := range segs {
		if len(runs) > 0 {
			last := &runs[len(runs)-1]
			end := uint64(last.Offset) + uint64(len(last.Data))
			if uint64(s.Offset) < end {
				return content // overlapping: order would matter
			}
			if uint64(s.Offset)-end <= maxDataGap {
				last.Data = append(last.Data, make([]byte, uint64(s.Offset)-end)...)
				last.Data = append(last.Data, s.Data...)
				continue
			}
		}
		runs = append(runs, seg{Offset: s.Offset, Data: append([]byte(nil), s.Data...)})
	}
	out := appendU32(make([]byte, 0, len(content)), uint32(len(runs)))
	for _, s := range runs {
		out = append(out, 0, 0x41)
		out = appendS64(out, int64(int32(s.Offset)))
		out = append(out, 0x0B)
		out = appendU32(out, uint32(len(s.Data)))
		out = append(out, s.Data...)
	}
	return out
}

type seg = DataSegment

// DataSegment is an active data segment of memory 0: Data is written at
// Offset when an instance starts.
type DataSegment struct {
	Offset uint32
	Data   []byte
}

// activeSegments parses a data section whose every segment is active in
// memory 0 at an i32.const offset; ok is false for any other.
func activeSegments(content []byte) (segs []DataSegment, ok bool) {
	r := &reader{b: content}
	n := r.u32()
	if r.err != nil {
		return nil, false
	}
	segs = make([]DataSegment, 0, min(n, 1<<16))
	for i := uint32(0); i < n; i++ {
		if r.u32() != 0 || r.byte() != 0x41 { // active, memory 0, i32.const
			return nil, false
		}
		v, ok := r.s32()
		if !ok || r.byte() != 0x0B {
			return nil, false
		}
		size := r.u32()
		if r.err != nil || int(size) > len(r.b)-r.off {
			return nil, false
		}
		segs = append(segs, DataSegment{Offset: uint32(v), Data: r.b[r.off : r.off+int(size)]})
		r.off += int(size)
	}
	if r.err != nil || r.off != len(content) {
		return nil, false
	}
	return segs, true
}

// SplitData returns the module without its data section, and the data
// section's segments, for a host that lays the memory's first bytes out
// itself (a copy-on-write mapping of one image shared by every
// instance). ok is false, and the module must run as it is, unless: it
// defines (not imports) one memory; every segment is active in memory 0
// at an i32.const offset, none overlapping another; there is no data count
// section (memory.init and data.drop name segments); and every segment
// lies within the memory's initial size, so that instantiating could not
// have failed on one. The segments alias code.
func SplitData(code []byte) (stripped []byte, segs []DataSegment, ok bool) {
	if _, err := Parse(code); err != nil {
		return nil, nil, false
	}
	var minPages uint64
	memories := 0
	dataStart, dataEnd := -1, -1
	r := &reader{b: code, off: 8}
	for r.off < len(code) && r.err == nil {
		start := r.off
		id := r.byte()
		size := r.u32()
		body := r.off
		if r.err != nil || int(size) > len(code)-body {
			return nil, nil, false
		}
		r.off += int(size)
		switch id {
		case secImport:
			ir := &reader{b: code[body:r.off]}
			n := ir.u32()
			for i := uint32(0); i < n && ir.err == nil; i++ {
				ir.skipName()
				ir.skipName()
				switch kind := ir.byte(); kind {
				case KindFunc:
					ir.u32()
				default:
					return nil, nil, false // only functions may be imported here
				}
			}
		case secMemory:
			mr := &reader{b: code[body:r.off]}
			n := mr.u32()
			memories += int(n)
			if n == 1 {
				minPages, _, _ = mr.limitValues()
			}
			if mr.err != nil {
				return nil, nil, false
			}
		case secDataCount:
			return nil, nil, false
		case secData:
			if dataStart >= 0 {
				return nil, nil, false
			}
			dataStart, dataEnd = start, r.off
			var good bool
			if segs, good = activeSegments(code[body:r.off]); !good {
				return nil, nil, false
			}
		}
	}
	if r.err != nil || memories != 1 || dataStart < 0 {
		return nil, nil, false
	}
	sorted := append([]DataSegment(nil), segs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Offset < sorted[j].Offset })
	var end uint64
	for _, s := range sorted {
		if uint64(s.Offset) < end {
			return nil, nil, false
		}
		end = uint64(s.Offset) + uint64(len(s.Data))
	}
	if end > minPages*65536 {
		return nil, nil, false
	}
	stripped = append(append(make([]byte, 0, len(code)-(dataEnd-dataStart)), code[:dataStart]...), code[dataEnd:]...)
	return stripped, sorted, true
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
