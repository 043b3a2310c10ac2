package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
)

// Compilation bounded in time and memory (RATIONALE.md, "Bounded
// compilation"). With Config.CompileWorker and a CacheDir, compile runs a
// child process first that compiles the same bytes, under an address-space
// and CPU limit it sets on itself and a timeout the parent enforces, into
// the same wazero file cache. The parent's own CompileModule is then a
// cache hit: wazero keys its file cache by a hash of the module's bytes,
// the ensure-termination flag (WithCloseOnContextDone), the function
// listeners (none here) and the CPU's features, so the worker must compile
// the exact bytes with the same runtime configuration
// (compileRuntimeConfig). A module whose compile dies, runs out of time
// or out of memory is refused with a *ModuleError; the node only loses a
// child process.

// Defaults of the compile worker's bounds.
const (
	DefaultCompileTimeout     = 30 * time.Second
	DefaultCompileMemoryBytes = 2 << 30
)

// compileSlots bounds the compile workers that run at once in this
// process, across engines: half the cores (at least one), so a burst of
// uploads leaves cores to the calls. Each worker runs on one core
// (GOMAXPROCS=1).
var compileSlots = make(chan struct{}, max(1, runtime.NumCPU()/2))

// workerEnv is set in a compile worker's environment. An engine in a
// process that has it never starts a worker of its own, so a
// misconfigured worker command cannot start workers without end.
const workerEnv = "SLUICE_COMPILE_WORKER"

// workerHello is the first line a worker writes, once its limits are set:
// output without it means the command is not a compile worker.
const workerHello = "sluice-compile-worker 1"

// compileRuntimeConfig is the runtime configuration modules are compiled
// with, less the cache. It must stay the one New gives its runtimes, or
// the parent's compile after the worker's misses the cache and compiles
// again, unbounded (TestCompileWorkerFillsTheCache checks it).
func compileRuntimeConfig(memoryLimitPages uint32, ensureTermination bool) wazero.RuntimeConfig {
	return wazero.NewRuntimeConfigCompiler().
		WithMemoryLimitPages(memoryLimitPages).
		WithCoreFeatures(api.CoreFeaturesV2).
		WithCloseOnContextDone(ensureTermination)
}

// withCompileDefaults applies the defaults of ModuleLimits and of the
// compile worker's bounds.
func (c Config) withCompileDefaults() Config {
	c.ModuleLimits = c.ModuleLimits.orDefaults()
	if c.CompileTimeout <= 0 {
		c.CompileTimeout = DefaultCompileTimeout
	}
	if c.CompileMemoryBytes == 0 {
		c.CompileMemoryBytes = DefaultCompileMemoryBytes
	}
	return c
}

// compileInWorker compiles code (as the runtime that will run it
// compiles it) in a compile worker, filling the cache the parent's
// compile then reads. It does nothing without a worker or a cache
// directory (the module compiles in-process, unbounded), or when the
// module was prepared before (cached): it compiled then.
func (e *Engine) compileInWorker(ctx context.Context, code []byte, ensureTermination, cached bool) error {
	if cached || len(e.cfg.CompileWorker) == 0 || e.cfg.CacheDir == "" || os.Getenv(workerEnv) != "" {
		return nil
	}
	_, err := runCompileWorker(ctx, e.cfg, code, ensureTermination)
	return err
}

// workerStats describe one worker run.
type workerStats struct {
	Wall, CPU time.Duration
	MaxRSS    int64 // the worker's peak RSS in bytes, as it reports it; 0 when unknown
}

// runCompileWorker runs one compile worker on code and reports how it
// went: nil, a *ModuleError for a module the worker could not compile
// within its bounds, or another error when the worker could not run.
func runCompileWorker(ctx context.Context, cfg Config, code []byte, ensureTermination bool) (workerStats, error) {
	var st workerStats
	select {
	case compileSlots <- struct{}{}:
	case <-ctx.Done():
		return st, ctx.Err()
	}
	defer func() { <-compileSlots }()

	cpuSeconds := uint64(math.Ceil(cfg.CompileTimeout.Seconds())) + 1
	args := append(cfg.CompileWorker[1:len(cfg.CompileWorker):len(cfg.CompileWorker)],
		"-cache-dir", cfg.CacheDir,
		"-memory-limit-pages", strconv.FormatUint(cfg.MaxMemoryBytes/65536, 10),
		"-ensure-termination="+strconv.FormatBool(ensureTermination),
		"-memory-bytes", strconv.FormatUint(cfg.CompileMemoryBytes, 10),
		"-cpu-seconds", strconv.FormatUint(cpuSeconds, 10),
	)
	wctx, cancel := context.WithTimeout(ctx, cfg.CompileTimeout)
	defer cancel()
	cmd := exec.CommandContext(wctx, cfg.CompileWorker[0], args...)
	cmd.Stdin = bytes.NewReader(code)
	stdout, stderr := &capBuffer{max: 64 << 10}, &capBuffer{max: 16 << 10}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Nothing of the server's environment (its secrets among it): the
	// worker needs none of it.
	cmd.Env = []string{workerEnv + "=1"}
	cmd.WaitDelay = 2 * time.Second
	setWorkerProcAttr(cmd)
	start := time.Now()
	err := cmd.Run()
	st.Wall = time.Since(start)
	if cmd.ProcessState == nil {
		return st, fmt.Errorf("engine: compile worker %s: %w", cfg.CompileWorker[0], err)
	}
	st.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()

	tooSlow := &ModuleError{Reason: fmt.Sprintf("compiling the module took longer than %s (compileTimeout)", cfg.CompileTimeout)}
	tooBig := &ModuleError{Reason: fmt.Sprintf("compiling the module needed more than %s of memory (compileMemory)", formatBytes(cfg.CompileMemoryBytes))}
	if errors.Is(wctx.Err(), context.DeadlineExceeded) {
		return st, tooSlow
	}
	hello, result, _ := strings.Cut(stdout.String(), "\n")
	if hello != workerHello {
		return st, fmt.Errorf("engine: compile worker %s is not one (%v): %s", cfg.CompileWorker[0], err, firstLine(stderr.String()))
	}
	result, rest, _ := strings.Cut(result, "\n")
	if v, ok := strings.CutPrefix(rest, "peak-rss "); ok {
		st.MaxRSS, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	}
	switch {
	case result == "ok" && err == nil:
		return st, nil
	case strings.HasPrefix(result, "invalid "):
		reason := strings.TrimPrefix(result, "invalid ")
		if outOfMemory(reason) {
			return st, tooBig
		}
		return st, &ModuleError{Reason: reason}
	case outOfMemory(stderr.String()):
		return st, tooBig
	case st.CPU >= time.Duration(cpuSeconds)*time.Second:
		return st, tooSlow
	}
	return st, &ModuleError{Reason: fmt.Sprintf("the compiler failed on the module (%v): %s", err, firstLine(stderr.String()))}
}

// outOfMemory tells whether a worker's error or stderr says it ran out of
// address space: the Go runtime's fatal errors, or a failed mmap.
func outOfMemory(s string) bool {
	for _, m := range []string{"out of memory", "cannot allocate memory", "failed to create new OS thread", "memory allocation failed"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// RunCompileWorker is the compile worker's main: `sluice compile-worker`
// calls it in a process of its own, started by an engine whose
// Config.CompileWorker names that command. It limits the whole process
// (address space, CPU time, one core), reads a module from stdin,
// compiles it into the cache directory it is given and writes the
// outcome to stdout. A module the compiler refuses is an outcome, not an
// error; an error means the worker could not do its job.
func RunCompileWorker(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("compile-worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cacheDir := fs.String("cache-dir", "", "wazero compilation cache directory")
	pages := fs.Uint("memory-limit-pages", 0, "the runtime's memory limit in pages")
	ensureTermination := fs.Bool("ensure-termination", false, "compile with WithCloseOnContextDone")
	memoryBytes := fs.Uint64("memory-bytes", DefaultCompileMemoryBytes, "memory the compile may use")
	cpuSeconds := fs.Uint64("cpu-seconds", 0, "CPU seconds the process may use; 0: no limit")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("compile-worker: %w", err)
	}
	if *cacheDir == "" || *pages == 0 || *pages > 65536 {
		return errors.New("compile-worker: -cache-dir and -memory-limit-pages (1..65536) are required")
	}
	runtime.GOMAXPROCS(1)
	debug.SetMemoryLimit(int64(min(*memoryBytes, math.MaxInt64)))
	if err := limitWorker(*memoryBytes, *cpuSeconds); err != nil {
		return fmt.Errorf("compile-worker: %w", err)
	}
	out := bufio.NewWriter(stdout)
	fmt.Fprintln(out, workerHello)
	if err := out.Flush(); err != nil {
		return err
	}
	// Past the bound the soft memory limit makes the collector run
	// without pause at half the CPU, and a compile that cannot fit would
	// crawl for its whole timeout before the address-space limit ended
	// it (26 s for a 16 MiB bound on a busy machine): when a collection
	// finds more live heap than the bound, the module is refused at once.
	go func() {
		if over := watchLiveHeap(*memoryBytes, 5*time.Millisecond); over > 0 {
			fmt.Fprintf(stdout, "invalid out of memory: %d bytes of live heap, over the compile's bound\n", over)
			os.Exit(0)
		}
	}()
	code, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("compile-worker: reading the module: %w", err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(*cacheDir)
	if err != nil {
		return fmt.Errorf("compile-worker: %w", err)
	}
	defer cache.Close(ctx)
	r := wazero.NewRuntimeWithConfig(ctx, compileRuntimeConfig(uint32(*pages), *ensureTermination).WithCompilationCache(cache))
	defer r.Close(ctx)
	if _, err := r.CompileModule(ctx, code); err != nil {
		fmt.Fprintln(out, "invalid "+firstLine(err.Error()))
	} else {
		fmt.Fprintln(out, "ok")
	}
	if peak := peakRSS(); peak > 0 {
		fmt.Fprintf(out, "peak-rss %d\n", peak)
	}
	return out.Flush()
}

// capBuffer keeps the first max bytes written to it.
type capBuffer struct {
	bytes.Buffer
	max int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// formatBytes writes 2 GiB, 512 MiB or 1000 bytes.
func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// watchLiveHeap polls the heap the last collection found live, every
// interval, and returns it once it is over bound.
func watchLiveHeap(bound uint64, interval time.Duration) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for {
		time.Sleep(interval)
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if live := sample[0].Value.Uint64(); live > bound {
				return live
			}
		}
	}
}
