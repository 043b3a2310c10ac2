package hostile

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Monitor watches that the process keeps making progress during an
// attack: a goroutine ticks every 2ms and records the longest gap between
// two ticks, and another runs runtime.GC() over and over. A guest that
// never returns to Go blocks the stop-the-world of the next collection,
// and with it every other goroutine: the gap grows and no GC completes.
type Monitor struct {
	start  time.Time
	stop   chan struct{}
	wg     sync.WaitGroup
	ticks  atomic.Int64
	gcs    atomic.Int64
	last   atomic.Int64 // unix nanoseconds of the last tick
	maxGap atomic.Int64
}

// Progress is what a Monitor saw.
type Progress struct {
	Elapsed time.Duration
	Ticks   int64
	GCs     int64
	MaxGap  time.Duration // the longest time the ticking goroutine did not run
}

// StartMonitor starts watching.
func StartMonitor() *Monitor {
	m := &Monitor{start: time.Now(), stop: make(chan struct{})}
	m.last.Store(m.start.UnixNano())
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		for {
			select {
			case <-m.stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			m.tick()
		}
	}()
	go func() {
		defer m.wg.Done()
		for {
			select {
			case <-m.stop:
				return
			default:
			}
			runtime.GC()
			m.gcs.Add(1)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return m
}

func (m *Monitor) tick() {
	now := time.Now().UnixNano()
	if gap := now - m.last.Swap(now); gap > m.maxGap.Load() {
		m.maxGap.Store(gap)
	}
	m.ticks.Add(1)
}

// Stop ends the watch and returns what it saw.
func (m *Monitor) Stop() Progress {
	m.tick() // a gap still open now counts too
	close(m.stop)
	m.wg.Wait()
	return Progress{Elapsed: time.Since(m.start), Ticks: m.ticks.Load(), GCs: m.gcs.Load(), MaxGap: time.Duration(m.maxGap.Load())}
}

// Check fails tb when the process stalled for longer than Bound, or when
// no garbage collection completed in a watch of 100ms or more.
func (p Progress) Check(tb testing.TB) {
	tb.Helper()
	if p.MaxGap > Bound() {
		tb.Errorf("the process stalled: a ticking goroutine did not run for %s (bound %s)", p.MaxGap.Round(time.Millisecond), Bound())
	}
	if p.Elapsed >= 100*time.Millisecond && p.GCs == 0 {
		tb.Errorf("no garbage collection completed in %s of attack", p.Elapsed.Round(time.Millisecond))
	}
}

// Percentile returns the p-th percentile (0-100) of ds.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// Ms is d in milliseconds.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// RSS returns this process's resident set size and its peak (VmRSS and
// VmHWM of /proc/self/status), in bytes.
func RSS() (rss, peak uint64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak
}

// ResetPeakRSS resets VmHWM to the current RSS, so that RSS reports the
// peak of what follows.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// ClosedLoop calls f one call after another for d and returns each
// call's latency; it stops at the first error, reported on tb.
func ClosedLoop(tb testing.TB, d time.Duration, f func() error) []time.Duration {
	var lat []time.Duration
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		start := time.Now()
		if err := f(); err != nil {
			tb.Errorf("neighbour call: %v", err)
			return lat
		}
		lat = append(lat, time.Since(start))
	}
	return lat
}

// Repeat calls f over and over in n goroutines until stop is closed or f
// returns false, and returns a channel closed once all of them ended.
func Repeat(n int, stop <-chan struct{}, f func() bool) <-chan struct{} {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if !f() {
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}
