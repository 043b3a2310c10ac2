package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime/trace"
	"sync"
	"testing"
	"time"
)

// Recorder keeps the last two seconds of the process's execution trace
// (a runtime/trace flight recorder) and writes them out when something
// was slow, so that a rare stall can be read afterwards with go tool
// trace. It is on when SLUICE_HOSTILE_TRACE names a directory; a nil
// Recorder does nothing.
type Recorder struct {
	fr   *trace.FlightRecorder
	path string
	over time.Duration

	mu sync.Mutex
	n  int
}

// maxTraces is how many traces one Recorder writes at most.
const maxTraces = 3

// StartRecorder starts the flight recorder for tb when SLUICE_HOSTILE_TRACE
// is set: Slow then writes a trace for each wait of at least
// SLUICE_HOSTILE_TRACE_OVER (60ms), up to three, to
// $SLUICE_HOSTILE_TRACE/<test>-<n>-<ms>ms.trace. It stops with tb.
func StartRecorder(tb testing.TB) *Recorder {
	dir := os.Getenv("SLUICE_HOSTILE_TRACE")
	if dir == "" {
		return nil
	}
	fr := trace.NewFlightRecorder(trace.FlightRecorderConfig{MinAge: 2 * time.Second})
	if err := fr.Start(); err != nil {
		tb.Logf("flight recorder: %v", err)
		return nil
	}
	tb.Cleanup(fr.Stop)
	name := regexp.MustCompile(`[^A-Za-z0-9_.-]+`).ReplaceAllString(tb.Name(), "_")
	return &Recorder{fr: fr, path: filepath.Join(dir, name), over: envDuration("SLUICE_HOSTILE_TRACE_OVER", 60*time.Millisecond)}
}

// Slow writes the trace out when d is over the recorder's threshold.
func (r *Recorder) Slow(d time.Duration) {
	if r == nil || d < r.over {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n >= maxTraces {
		return
	}
	r.n++
	f, err := os.Create(fmt.Sprintf("%s-%d-%dms.trace", r.path, r.n, d.Milliseconds()))
	if err != nil {
		return
	}
	defer f.Close()
	r.fr.WriteTo(f)
}
