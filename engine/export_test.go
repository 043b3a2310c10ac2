package engine

import (
	"context"
	"time"
)

// WorkerStats are what one compile-worker run cost.
type WorkerStats = workerStats

// CompileInWorkerForTest runs one compile worker of cfg (with defaults
// applied) on code, as compile does.
func CompileInWorkerForTest(ctx context.Context, cfg Config, code []byte, ensureTermination bool) (WorkerStats, error) {
	return runCompileWorker(ctx, cfg.withDefaults(), code, ensureTermination)
}

// CompileRuntimeConfigForTest is compileRuntimeConfig.
var CompileRuntimeConfigForTest = compileRuntimeConfig

// DefaultMemoryLimitPagesForTest is the runtime memory limit, in pages,
// of an engine with the default MaxMemoryBytes.
func DefaultMemoryLimitPagesForTest() uint32 {
	return uint32(Config{}.withDefaults().MaxMemoryBytes / 65536)
}

// EvictIdleForTest closes the instances idle since before cutoff, as the
// janitor does every IdleTimeout/4.
func EvictIdleForTest(e *Engine, cutoff time.Time) { e.evictIdle(cutoff) }

// MemoryImageForTest reports whether the module's instances start from a
// memory image (image.go) rather than wazero's copy of its data, and
// whether that image is mapped rather than copied.
func MemoryImageForTest(m *Module) (image, mapped bool) {
	return m.image != nil, m.image != nil && m.image.fd >= 0
}

// CopyMemoryImageForTest makes the module's instances copy its memory
// image, as where it cannot be mapped (no memfd, not Linux).
func CopyMemoryImageForTest(m *Module) {
	im := m.image
	if im.fd >= 0 {
		flat := make([]byte, im.end)
		if !readImageFile(im.fd, flat) {
			panic("cannot read the image file")
		}
		im.close()
		im.flat = flat
	}
}
