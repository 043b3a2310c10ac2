package hostile

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	childEnv  = "SLUICE_HOSTILE_CHILD"
	reportEnv = "SLUICE_HOSTILE_REPORT"
	markEnv   = "SLUICE_HOSTILE_MARK"
)

// Prep is how long a child may take to get ready (build its guests,
// compile them, start a server) before its attack starts: 5m, or
// SLUICE_HOSTILE_PREP.
func Prep() time.Duration { return envDuration("SLUICE_HOSTILE_PREP", 5*time.Minute) }

// AttackStarts tells the parent that the child's preparations are over:
// the watchdog counts from now. A no-op outside a child.
func AttackStarts(tb testing.TB) {
	tb.Helper()
	if path := os.Getenv(markEnv); path != "" && os.Getenv(childEnv) == tb.Name() {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

// Bound is how far past its deadline a hostile call may end, and how
// long the process may stall: 1s, or SLUICE_HOSTILE_BOUND. The tests run
// beside the whole suite on two cores, so the bound catches what the
// sandbox must never do (calls that run on for seconds, a frozen
// process); the figures the issue sets (50 ms past the deadline) are
// measured by the benchmarks (BenchmarkHostileDeadline).
func Bound() time.Duration { return envDuration("SLUICE_HOSTILE_BOUND", time.Second) }

// LoadBound is how long refusing a module at upload (or loading a module
// whose attack is in instantiation) may take: 3s, or
// SLUICE_HOSTILE_LOAD_BOUND.
func LoadBound() time.Duration { return envDuration("SLUICE_HOSTILE_LOAD_BOUND", 3*time.Second) }

// Watchdog is how long a child may run before it is killed as hung.
func Watchdog(tb testing.TB) time.Duration {
	def := 12 * time.Second // just over the engine's fixed 10s caps, to tell them from a hang
	if _, ok := tb.(*testing.B); ok {
		def = 120 * time.Second
	}
	return envDuration("SLUICE_HOSTILE_WATCHDOG", def)
}

// Runs is the number of calls per shape in the deadline benchmark.
func Runs() int { return envInt("SLUICE_HOSTILE_RUNS", 10) }

// Rounds is how many times the HTTP neighbour benchmark measures the
// neighbour alone and then under attack, in turn: 3, or
// SLUICE_HOSTILE_ROUNDS. Its ratio is the median of the rounds', so one
// hiccup of a shared machine in one window does not decide it.
func Rounds() int { return max(1, envInt("SLUICE_HOSTILE_ROUNDS", 3)) }

// Attackers is the number of concurrent attacking calls in the neighbour
// benchmarks (the attacking tenant's concurrency quota).
func Attackers() int { return envInt("SLUICE_HOSTILE_ATTACKERS", 2) }

// AttackerRate is the attacking tenant's callsPerMinute quota in the
// server tests and benchmarks: unlimited by default, so that a flood of
// calls that fail at once is not stopped by the rate quota.
func AttackerRate() int { return envInt("SLUICE_HOSTILE_RATE", 1_000_000) }

// AttackerUploadRate is the attacking tenant's uploadsPerMinute in the
// server tests and benchmarks: 10, a tenant's default quota, unless
// SLUICE_HOSTILE_UPLOAD_RATE says.
func AttackerUploadRate() int { return envInt("SLUICE_HOSTILE_UPLOAD_RATE", 10) }

// Flood reports whether the neighbour benchmark's attackers keep sending
// when they are refused with 429 (SLUICE_HOSTILE_FLOOD=1). By default
// they wait for the Retry-After they are given, as a client using its
// full quota does; a flood of refused requests measures the HTTP server
// and the benchmark's own client rather than the sandbox.
func Flood() bool { return os.Getenv("SLUICE_HOSTILE_FLOOD") == "1" }

// asLimitKiB is the child's address-space limit in KiB, or 0 for none.
func asLimitKiB() uint64 {
	v := os.Getenv("SLUICE_HOSTILE_AS_LIMIT")
	if v == "unlimited" {
		return 0
	}
	if v == "" {
		return 6 << 20 // 6 GiB
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(v, "GiB"), 10, 64)
	if err != nil || n == 0 {
		panic("SLUICE_HOSTILE_AS_LIMIT: want a number of GiB or unlimited, got " + v)
	}
	return n << 20
}

func envDuration(name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		panic(name + ": " + err.Error())
	}
	return d
}

func envInt(name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		panic(name + ": want a positive number, got " + v)
	}
	return n
}

// Report is what an isolated body hands back to its parent: metrics (for
// benchmarks) and lines (logged by the parent, for the record).
type Report struct {
	mu      sync.Mutex
	Metrics []Metric `json:"metrics"`
	Lines   []string `json:"lines"`
}

// Metric is one b.ReportMetric of the child.
type Metric struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Metric records a metric; the parent benchmark reports it.
func (r *Report) Metric(value float64, unit string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Metrics = append(r.Metrics, Metric{Value: value, Unit: unit})
}

// Logf records a line that the parent logs.
func (r *Report) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Lines = append(r.Lines, fmt.Sprintf(format, args...))
}

// Options change how Isolated runs its child.
type Options struct {
	// Env is added to the child's environment.
	Env []string
}

// IsChild reports whether this process is the child Isolated started for
// tb (or attacks run in-process).
func IsChild(tb testing.TB) bool {
	return os.Getenv(childEnv) == tb.Name() || os.Getenv("SLUICE_HOSTILE_INPROCESS") == "1"
}

// Isolated runs body in a child process: this test binary re-run on tb
// alone, under the address-space limit, killed by a watchdog when it does
// not finish. In the child, Isolated runs body itself. The parent fails tb
// when the child fails, crashes or hangs, logs the child's report lines and,
// for a benchmark, reports its metrics. It returns the child's report, nil
// when the child left none.
func Isolated(tb testing.TB, opts Options, body func(tb testing.TB, rep *Report)) (rep *Report) {
	tb.Helper()
	if IsChild(tb) {
		rep = &Report{}
		path := os.Getenv(reportEnv)
		defer func() {
			if path == "" {
				publish(tb, rep)
				return
			}
			b, _ := json.Marshal(rep)
			os.WriteFile(path, b, 0o644)
		}()
		body(tb, rep)
		return rep
	}

	_, isBench := tb.(*testing.B)
	if isBench {
		// The benchmark framework calls a benchmark again with a larger
		// b.N when a run was quick: the child ran already, report its
		// figures again.
		benchMu.Lock()
		first, ran := benchReports[tb.Name()]
		benchMu.Unlock()
		if ran {
			if first != nil {
				for _, m := range first.Metrics {
					tb.(*testing.B).ReportMetric(m.Value, m.Unit)
				}
			} else {
				tb.Error("the child failed (see the first run)")
			}
			return first
		}
		defer func() {
			benchMu.Lock()
			benchReports[tb.Name()] = rep
			benchMu.Unlock()
		}()
	}
	tmp := tb.TempDir()
	reportFile, markFile := filepath.Join(tmp, "report.json"), filepath.Join(tmp, "attack-started")
	watchdog := Watchdog(tb)
	args := []string{"-test.count=1", "-test.v", "-test.timeout=" + (Prep() + watchdog + time.Minute).String()}
	if isBench {
		args = append(args, "-test.run=^$", "-test.bench="+namePattern(tb.Name()), "-test.benchtime=1x")
	} else {
		args = append(args, "-test.run="+namePattern(tb.Name()))
	}
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	var cmd *exec.Cmd
	if kib := asLimitKiB(); kib > 0 {
		cmd = exec.Command("bash", append([]string{"-c", `ulimit -v "$0" && exec "$@"`, strconv.FormatUint(kib, 10), exe}, args...)...)
	} else {
		cmd = exec.Command(exe, args...)
	}
	cmd.Env = append(os.Environ(), childEnv+"="+tb.Name(), reportEnv+"="+reportFile, markEnv+"="+markFile)
	cmd.Env = append(cmd.Env, opts.Env...)
	out := &tailBuffer{max: 1 << 20}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var waitErr error
	hung, attacked := false, time.Time{}
	limit := start.Add(Prep())
	tick := time.NewTicker(20 * time.Millisecond)
wait:
	for {
		select {
		case waitErr = <-done:
			break wait
		case now := <-tick.C:
			if attacked.IsZero() {
				if _, err := os.Stat(markFile); err == nil {
					attacked, limit = now, now.Add(watchdog)
				}
			}
			if now.After(limit) {
				hung = true
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the child's own process group
				waitErr = <-done
				break wait
			}
		}
	}
	tick.Stop()
	took := time.Since(start)

	if b, err := os.ReadFile(reportFile); err == nil {
		rep = &Report{}
		if err := json.Unmarshal(b, rep); err != nil {
			tb.Errorf("hostile: child report: %v", err)
		}
	}
	if rep != nil {
		publish(tb, rep)
	}
	switch {
	case hung && attacked.IsZero():
		tb.Errorf("the child's preparations took over %s; it was killed (SLUICE_HOSTILE_PREP)\n%s", Prep(), out.excerpt())
	case hung:
		tb.Errorf("HUNG: the attack did not end within the watchdog of %s and was killed (it froze the process or outlasted the watchdog; SLUICE_HOSTILE_WATCHDOG)\n%s", watchdog, out.excerpt())
	case waitErr != nil:
		tb.Errorf("the child failed after %s: %v\n%s", took.Round(time.Millisecond), waitErr, out.excerpt())
	case rep == nil:
		tb.Errorf("the child left no report: it ran nothing (its -test filter matched no test?)\n%s", out.tail(3000))
	}
	return rep
}

var (
	benchMu      sync.Mutex
	benchReports = map[string]*Report{} // by benchmark name: the child's report, nil when it failed
)

// publish logs the report's lines and reports its metrics on a benchmark.
func publish(tb testing.TB, rep *Report) {
	tb.Helper()
	for _, l := range rep.Lines {
		tb.Log(l)
	}
	if b, ok := tb.(*testing.B); ok {
		for _, m := range rep.Metrics {
			b.ReportMetric(m.Value, m.Unit)
		}
	}
}

// namePattern is a -test.run (or -test.bench) pattern matching exactly the
// test or benchmark called name.
func namePattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-t.max:]...)
	}
	return len(p), nil
}

// excerpt is the output around a crash (its first "fatal error", "panic"
// or "runtime:" line) and the output's end.
func (t *tailBuffer) excerpt() string {
	t.mu.Lock()
	b := string(t.buf)
	t.mu.Unlock()
	return Excerpt(b)
}

// Excerpt is the part of a process's output worth showing: around its
// first "fatal error", "panic" or "runtime:" line, and its last lines.
func Excerpt(b string) string {
	b = "\n" + b
	at := -1
	for _, mark := range []string{"\nruntime: ", "\nfatal error: ", "\npanic: "} {
		if i := strings.Index(b, mark); i >= 0 && (at < 0 || i < at) {
			at = i
		}
	}
	if at < 0 || len(b)-at < 6000 {
		return lastLines(b[1:], 6000)
	}
	return b[at+1:at+2000] + "\n...\n" + lastLines(b, 3000)
}

func lastLines(b string, n int) string {
	if len(b) <= n {
		return b
	}
	b = b[len(b)-n:]
	if i := strings.IndexByte(b, '\n'); i >= 0 {
		b = b[i+1:]
	}
	return b
}

func (t *tailBuffer) tail(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.buf
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

// HealthzBound is how long GET /healthz may take while an attack runs:
// 1s, or SLUICE_HOSTILE_HEALTHZ_BOUND (100ms is the figure, which
// BenchmarkHostileNeighbourHTTP reports as healthz-max-ms; see Bound).
func HealthzBound() time.Duration {
	return envDuration("SLUICE_HOSTILE_HEALTHZ_BOUND", time.Second)
}

// Command is what RunCommand saw.
type Command struct {
	Code           int // exit status; -1 when killed
	Stdout, Stderr string
	Took           time.Duration
	Hung           bool // killed by the watchdog
}

// RunCommand runs name with args under the address-space limit, killing
// it (and its process group) when it outlasts watchdog.
func RunCommand(tb testing.TB, watchdog time.Duration, env []string, name string, args ...string) Command {
	tb.Helper()
	var cmd *exec.Cmd
	if kib := asLimitKiB(); kib > 0 {
		cmd = exec.Command("bash", append([]string{"-c", `ulimit -v "$0" && exec "$@"`, strconv.FormatUint(kib, 10), name}, args...)...)
	} else {
		cmd = exec.Command(name, args...)
	}
	cmd.Env = append(os.Environ(), env...)
	stdout, stderr := &tailBuffer{max: 1 << 20}, &tailBuffer{max: 1 << 20}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	res := Command{}
	select {
	case <-done:
	case <-time.After(watchdog):
		res.Hung = true
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
	res.Took = time.Since(start)
	res.Code = cmd.ProcessState.ExitCode()
	res.Stdout, res.Stderr = stdout.tail(1<<20), stderr.tail(1<<20)
	return res
}
