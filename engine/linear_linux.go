//go:build linux

package engine

import "golang.org/x/sys/unix"

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
