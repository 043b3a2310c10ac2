//go:build linux

package engine

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// reserveAddressSpace maps n bytes of address space, readable and
// writable, that the kernel backs with zeroed pages only as they are
// touched (MAP_NORESERVE): a linear memory can then grow in place to its
// cap without being copied, its pages never pass through the Go heap
// (no garbage collection of tens of megabytes per discarded instance),
// and unmapping gives them back to the OS at once. It returns nil when
// the mapping fails; the caller then uses the Go heap.
func reserveAddressSpace(n uint64) (region []byte, release func()) {
	if n == 0 || n > 1<<32 {
		return nil, nil
	}
	b, err := unix.Mmap(-1, 0, int(n), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE)
	if err != nil {
		return nil, nil
	}
	return b, func() { _ = unix.Munmap(b) }
}

// populate backs b with pages now, so that the guest does not take the
// page faults of its first writes itself (see cappedMemory.populate). It
// reports whether the kernel did; where it cannot (before Linux 5.14),
// pages are backed as they are touched.
//
// It is a raw syscall: the goroutine keeps its P, as it would faulting
// the pages in itself, and b is small enough (populateChunk) that the
// runtime's stop-the-world waits at most that long for it. Through
// syscall.Syscall the runtime handed the P to another goroutine while
// the kernel zeroed pages on the same cores, and a neighbour tenant's
// p99 under a 1 GiB memory stream rose from 3.1-3.5x to 5.2-7.0x.
func populate(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	_, _, errno := unix.RawSyscall(unix.SYS_MADVISE, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MADV_POPULATE_WRITE)
	return errno == 0
}

// newImageFile puts a memory image in an anonymous in-memory file (a
// memfd) of size bytes, for mapImage.
func newImageFile(flat []byte, size uint64) (int, bool) {
	fd, err := unix.MemfdCreate("sluice-memory-image", unix.MFD_CLOEXEC)
	if err != nil {
		return -1, false
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, false
	}
	for off := 0; off < len(flat); {
		n, err := unix.Pwrite(fd, flat[off:], int64(off))
		if err != nil || n <= 0 {
			unix.Close(fd)
			return -1, false
		}
		off += n
	}
	return fd, true
}

// mapImage maps the first size bytes of the image file fd over the start
// of region, privately: the memory reads the image and a write copies
// only the page it touches. Unmapping region unmaps it too.
func mapImage(region []byte, fd int, size uint64) bool {
	if size == 0 || size > uint64(len(region)) {
		return size == 0
	}
	_, err := unix.MmapPtr(fd, 0, unsafe.Pointer(&region[0]), uintptr(size),
		unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_FIXED)
	return err == nil
}

func readImageFile(fd int, buf []byte) bool {
	for off := 0; off < len(buf); {
		n, err := unix.Pread(fd, buf[off:], int64(off))
		if err != nil || n <= 0 {
			return false
		}
		off += n
	}
	return true
}

func closeImageFile(fd int) { _ = unix.Close(fd) }
