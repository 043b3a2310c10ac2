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
