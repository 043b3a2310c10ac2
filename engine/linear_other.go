//go:build !linux

package engine

// reserveAddressSpace is only implemented on Linux; elsewhere linear
// memories live in the Go heap (see linear_linux.go).
func reserveAddressSpace(uint64) ([]byte, func()) { return nil, nil }
