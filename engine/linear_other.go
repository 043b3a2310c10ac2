//go:build !linux

package engine

// reserveAddressSpace is only implemented on Linux; elsewhere linear
// memories live in the Go heap (see linear_linux.go), and memory images
// are copied into them.
func reserveAddressSpace(uint64) ([]byte, func()) { return nil, nil }

func populate([]byte) bool                    { return false }
func newImageFile([]byte, uint64) (int, bool) { return -1, false }
func mapImage([]byte, int, uint64) bool       { return false }
func readImageFile(int, []byte) bool          { return false }
func closeImageFile(int)                      {}
