package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// BenchmarkDebug measures HTTP debug calls of a no-op function (the probe's
// getUser) at 1, 16 and 64 concurrent clients, and the same call made on
// the engine directly, reporting calls/s and p50/p99 latency.
func BenchmarkDebug(b *testing.B) {
	spec := storeSpec{name: "sqlite", cfg: store.Config{DataDir: b.TempDir(), MasterKey: testKey()}}
	e := newEnv(b, spec)
	tid, key := e.setup("bench", "c", probeWasm(b))
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 64, "callsPerMinute": 1000000}).must(e.t, 200)
	body := []byte(`{"function":"getUser","input":{"query":{"id":"1"}}}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	url := e.ts.URL + "/v1/connections/c/debug"

	conn, err := e.store.GetConnection(context.Background(), tid, "c")
	if err != nil {
		b.Fatal(err)
	}
	mod, err := e.engine.Load(context.Background(), probeWasm(b))
	if err != nil {
		b.Fatal(err)
	}
	input := []byte(`{"query":{"id":"1"},"context":{"tenant":"` + tid + `","connection":"c","requestId":"r"}}`)
	limits := engine.Limits{MaxInstances: 64}

	// The floor: the same request to a bare net/http server that answers a
	// fixed body, to tell HTTP itself from what Sluice adds to it.
	floor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true,"result":null,"logs":[],"hostCalls":[],"durationMs":0.01}`))
	}))
	defer floor.Close()

	for _, clients := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("http-floor/clients=%d", clients), func(b *testing.B) {
			run(b, clients, func() error {
				res, err := client.Post(floor.URL, "application/json", bytes.NewReader(body))
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				return nil
			})
		})
		b.Run(fmt.Sprintf("http/clients=%d", clients), func(b *testing.B) {
			run(b, clients, func() error {
				req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := client.Do(req)
				if err != nil {
					return err
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != 200 {
					return fmt.Errorf("status %d", res.StatusCode)
				}
				return nil
			})
		})
		b.Run(fmt.Sprintf("engine/clients=%d", clients), func(b *testing.B) {
			run(b, clients, func() error {
				_, err := e.engine.Call(context.Background(), mod, engine.Request{
					Tenant: tid, Pool: fmt.Sprintf("c@%d-bench", conn.ConfigVersion), Function: "getUser", Input: input, Limits: limits,
				})
				return err
			})
		})
	}
}

// run makes b.N calls of f from clients goroutines and reports calls/s,
// p50 and p99.
func run(b *testing.B, clients int, f func() error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, b.N)
		wg    sync.WaitGroup
		first atomic.Value
	)
	b.ResetTimer()
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/clients+1)
			for next.Add(1) <= int64(b.N) {
				t0 := time.Now()
				if err := f(); err != nil {
					first.CompareAndSwap(nil, err)
					return
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if err, ok := first.Load().(error); ok {
		b.Fatal(err)
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return
	}
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}
