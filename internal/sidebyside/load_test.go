package sidebyside

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// TestRun drives a real HTTP server: every measured call is counted, the
// answers are checked, and a wrong one stops the run with ErrBadAnswer.
func TestRun(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.URL.Path == "/user/7" {
			http.Error(w, "gone", http.StatusNotFound)
			return
		}
		fmt.Fprintf(w, `{"id":%q}`, r.URL.Path[len("/user/"):])
	}))
	defer srv.Close()
	request := func(n int) (*http.Request, []byte) {
		req, _ := http.NewRequest("GET", fmt.Sprintf("%s/user/%d", srv.URL, n), nil)
		return req, fmt.Appendf(nil, `"id":"%d"`, n)
	}

	for _, tc := range []struct {
		name    string
		users   int
		wantErr error
	}{
		{"every answer right", 7, nil}, // users 0..6
		{"a 404 among them", 8, ErrBadAnswer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			served.Store(0)
			res, err := Run(context.Background(), Load{Clients: 4, Warmup: 20 * time.Millisecond, Duration: 200 * time.Millisecond,
				Users: tc.users, Request: request, Status: http.StatusOK, PID: os.Getpid()})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Run: %v, want %v", err, tc.wantErr)
			}
			if err != nil {
				return
			}
			if res.Calls == 0 || int64(res.Calls) > served.Load() {
				t.Errorf("%d calls measured, %d served", res.Calls, served.Load())
			}
			if p50, p99 := res.Percentile(50), res.Percentile(99); p50 <= 0 || p99 < p50 {
				t.Errorf("p50 %v, p99 %v", p50, p99)
			}
			if res.PerSecond() <= 0 || res.Elapsed != 200*time.Millisecond {
				t.Errorf("%v calls/s over %v", res.PerSecond(), res.Elapsed)
			}
			m := res.Merge(res)
			if m.Calls != 2*res.Calls || len(m.latencies) != 2*len(res.latencies) || m.Percentile(50) != res.Percentile(50) {
				t.Errorf("merged with itself: %d calls, p50 %v; alone %d, %v", m.Calls, m.Percentile(50), res.Calls, res.Percentile(50))
			}
		})
	}
}

// TestProcessCPU reads this process's CPU time, which grows while it spins.
func TestProcessCPU(t *testing.T) {
	before, err := ProcessCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Spin until a clock tick (10 ms) of CPU shows, or 5 s on a busy machine.
	after := before
	for end := time.Now().Add(5 * time.Second); after == before && time.Now().Before(end); {
		if after, err = ProcessCPU(os.Getpid()); err != nil {
			t.Fatal(err)
		}
	}
	if after <= before {
		t.Errorf("CPU time %v after spinning, %v before", after, before)
	}
	if _, err := ProcessCPU(-1); err == nil {
		t.Error("ProcessCPU(-1): no error")
	}
}
