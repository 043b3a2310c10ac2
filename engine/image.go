package engine

import "github.com/sluice-dev/sluice/engine/internal/wasmbin"

// memImage is the first bytes of a module's linear memory as its data
// segments lay them out, made once per compiled module. wazero is given
// the module without its data section (wasmbin.SplitData), and every
// instance's memory starts as a private copy-on-write mapping of the
// image (mapImage): no bytes are copied when an instance is made, pages
// are shared until the instance writes them, and a page it never touches
// costs it nothing. For examples/static that is most of the 1.5 MiB of
// data, which each instance otherwise copied (1 ms, BENCHMARKS.md).
//
// The image depends on the module's bytes alone: it holds nothing of a
// tenant, a connection or an instance (no env, no random seed), so
// every instance of the module may share it. The module's start
// function and _initialize still run in each instance (RATIONALE.md).
type memImage struct {
	end  uint64 // bytes the segments span, from 0
	size uint64 // end rounded up to the OS page
	fd   int    // the image in an anonymous file; -1: none
	flat []byte // the image, when there is no file
}

func newMemImage(segs []wasmbin.DataSegment) *memImage {
	im := &memImage{fd: -1}
	for _, s := range segs {
		im.end = max(im.end, uint64(s.Offset)+uint64(len(s.Data)))
	}
	im.size = (im.end + osPage - 1) &^ (osPage - 1)
	flat := make([]byte, im.end)
	for _, s := range segs {
		copy(flat[s.Offset:], s.Data)
	}
	if im.end < minMappedImage {
		im.flat = flat // copied: cheaper than a mapping's system calls
	} else if fd, ok := newImageFile(flat, im.size); ok {
		im.fd = fd
	} else {
		im.flat = flat
	}
	return im
}

// osPage is the granularity of a mapping.
const osPage = 4096

// minMappedImage is the smallest image mapped rather than copied.
const minMappedImage = 64 << 10

// copyInto writes the image to the start of buf, which holds zeros and
// is at least im.end long: for a memory that could not map it.
func (im *memImage) copyInto(buf []byte) {
	if im.fd >= 0 {
		if readImageFile(im.fd, buf[:im.end]) {
			return
		}
	}
	copy(buf, im.flat)
}

// close releases the file; mappings made from it stay valid.
func (im *memImage) close() {
	if im != nil && im.fd >= 0 {
		closeImageFile(im.fd)
		im.fd = -1
	}
}
