package sidebyside

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Load is one closed-loop run: Clients callers, each sending its next
// request as soon as the last one is answered, for Warmup and then
// Duration (the measured part).
type Load struct {
	Clients  int
	Warmup   time.Duration
	Duration time.Duration
	// Users is how many users Request picks from (at random).
	Users int
	// Request makes the request for user n (0 <= n < Users) and the
	// bytes its answer must contain.
	Request func(n int) (*http.Request, []byte)
	// Status is the status every answer must have.
	Status int
	// PID is the server's process, whose CPU time is measured; 0 for none.
	PID int
}

// Result is what a Load measured.
type Result struct {
	Calls   int
	Elapsed time.Duration
	// CPU is the user+system time the server process spent meanwhile.
	CPU time.Duration
	// latencies of the measured calls, sorted.
	latencies []time.Duration
}

// PerSecond is the throughput.
func (r Result) PerSecond() float64 { return float64(r.Calls) / r.Elapsed.Seconds() }

// CPUPerCall is the server's CPU time per call.
func (r Result) CPUPerCall() time.Duration {
	if r.Calls == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Calls)
}

// Percentile is the p-th percentile (0 < p < 100) of the latencies.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	return r.latencies[min(len(r.latencies)-1, int(float64(len(r.latencies))*p/100))]
}

// Merge adds o's calls, time and latencies to r.
func (r Result) Merge(o Result) Result {
	lat := append(slices.Clone(r.latencies), o.latencies...)
	slices.Sort(lat)
	return Result{Calls: r.Calls + o.Calls, Elapsed: r.Elapsed + o.Elapsed, CPU: r.CPU + o.CPU, latencies: lat}
}

// ErrBadAnswer is a Run's failure when an answer had the wrong status or
// lacked the bytes it should contain.
var ErrBadAnswer = errors.New("bad answer")

// Run runs l and returns what it measured. It fails at the first bad
// answer or transport error.
func Run(ctx context.Context, l Load) (Result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: l.Clients, MaxIdleConnsPerHost: l.Clients, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()

	begin := time.Now()
	start, stop := begin.Add(l.Warmup), begin.Add(l.Warmup+l.Duration)
	var cpuStart, cpuStop time.Duration
	var cpuErr error
	var marks sync.WaitGroup
	marks.Go(func() {
		for _, m := range []struct {
			at  time.Time
			cpu *time.Duration
		}{{start, &cpuStart}, {stop, &cpuStop}} {
			select {
			case <-time.After(time.Until(m.at)):
			case <-ctx.Done():
				return
			}
			if l.PID != 0 {
				v, err := ProcessCPU(l.PID)
				if err != nil {
					cpuErr = err
				}
				*m.cpu = v
			}
		}
	})

	lat := make([][]time.Duration, l.Clients)
	var clients sync.WaitGroup
	for c := range l.Clients {
		clients.Go(func() {
			rnd := rand.New(rand.NewPCG(uint64(c), uint64(begin.UnixNano())))
			for ctx.Err() == nil {
				req, want := l.Request(rnd.IntN(l.Users))
				t0 := time.Now()
				if !t0.Before(stop) {
					return
				}
				if err := call(client, req.WithContext(ctx), l.Status, want); err != nil {
					cancel(err)
					return
				}
				// A call counts when it ends in the measured window (as
				// wrk counts), so long calls are not undercounted.
				if t1 := time.Now(); t1.After(start) && t1.Before(stop) {
					lat[c] = append(lat[c], t1.Sub(t0))
				}
			}
		})
	}
	clients.Wait()
	marks.Wait()
	if err := context.Cause(ctx); err != nil {
		return Result{}, err
	}
	if cpuErr != nil {
		return Result{}, cpuErr
	}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	slices.Sort(all)
	if len(all) == 0 {
		return Result{}, fmt.Errorf("no call ended within the %v measured: make the duration longer", l.Duration)
	}
	return Result{Calls: len(all), Elapsed: l.Duration, CPU: cpuStop - cpuStart, latencies: all}, nil
}

func call(client *http.Client, req *http.Request, status int, want []byte) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != status || !bytes.Contains(body, want) {
		return fmt.Errorf("%w: %s %s: %d %.300s (want %d containing %q)", ErrBadAnswer, req.Method, req.URL, res.StatusCode, body, status, want)
	}
	return nil
}

// clockTick is Linux's USER_HZ, the unit of /proc/PID/stat's times (100
// on every architecture Go supports).
const clockTick = 10 * time.Millisecond

// ProcessCPU is the user+system CPU time process pid has used (all its
// threads, from /proc/PID/stat; resolution 10 ms).
func ProcessCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces:
	// the fields after its closing one start at field 3 (state).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	var ticks int64
	for _, s := range f[11:13] { // utime (14), stime (15)
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/stat: %w", pid, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}
