package wasmbin

import (
	"bytes"
	"testing"
)

// activeSeg encodes an active data segment of memory 0 at off.
func activeSeg(off int32, data string) []byte {
	b := []byte{0, 0x41}
	b = appendS64(b, int64(off))
	b = append(b, 0x0B)
	b = appendU32(b, uint32(len(data)))
	return append(b, data...)
}

func dataSection(segs ...[]byte) []byte {
	b := appendU32(nil, uint32(len(segs)))
	for _, s := range segs {
		b = append(b, s...)
	}
	return b
}

func TestMergeData(t *testing.T) {
	passive := append(append([]byte{1}, appendU32(nil, 2)...), "zz"...)
	tests := []struct {
		name string
		in   []byte
		want []byte // nil: unchanged
	}{
		{"adjacent and near runs join, zeros between, far ones stay apart",
			dataSection(activeSeg(20000, "far"), activeSeg(4, "cd"), activeSeg(0, "ab"), activeSeg(8, "e")),
			dataSection(activeSeg(0, "ab\x00\x00cd\x00\x00e"), activeSeg(20000, "far"))},
		{"a negative-looking offset beyond 2 GiB reads back as itself",
			dataSection(activeSeg(-65536, "x"), activeSeg(-65535, "y")),
			dataSection(activeSeg(-65536, "xy"))},
		{"overlapping segments keep their order", dataSection(activeSeg(0, "abcd"), activeSeg(2, "xy")), nil},
		{"a passive segment", dataSection(activeSeg(0, "ab"), passive), nil},
		{"one segment", dataSection(activeSeg(0, "ab")), nil},
		{"truncated", dataSection(activeSeg(0, "ab"), activeSeg(4, "cd"))[:9], nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := tc.want
			if want == nil {
				want = tc.in
			}
			if got := mergeData(tc.in); !bytes.Equal(got, want) {
				t.Fatalf("got %x, want %x", got, want)
			}
		})
	}
}
