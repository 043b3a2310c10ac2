package engine_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// procStatusKiB reads one "Name:   N kB" line of /proc/self/status.
func procStatusKiB(b *testing.B, name string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Skip("no /proc/self/status: RSS is measured on Linux only")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+":"); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatalf("no %s in /proc/self/status", name)
	return 0
}

// BenchmarkThousandConnections is issue 10's memory figure, engine side:
// 1 000 connections of one module (examples/static, Go SDK), each with
// its own env, each called once under the default engine configuration
// (idle cap 256). It reports the process's peak RSS over the calls, and
// its RSS 30 s after the idle instances were evicted (as the janitor
// evicts those idle past IdleTimeout), in
// MB. It takes over 30 s: make bench runs it, go test does not.
func BenchmarkThousandConnections(b *testing.B) {
	const conns = 1000
	wasm := wasmbuild.Test(b, "../examples/static")
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		// No idle timeout passes during the calls: the eviction below is
		// the janitor's, run when the calls are done.
		e := newEngine(b, engine.Config{IdleTimeout: time.Hour})
		m, err := e.Load(ctx, wasm)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		base := procStatusKiB(b, "VmRSS")
		// Reset the peak (VmHWM) to the RSS of now.
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			b.Logf("cannot reset VmHWM: %v", err)
		}
		start := time.Now()
		for c := 0; c < conns; c++ {
			req := engine.Request{Tenant: "t", Pool: fmt.Sprint("conn", c), Function: "getUser",
				Input: []byte(`{"query":{"id":"3"}}`), Env: map[string]string{"CONNECTION": fmt.Sprint("conn", c), "SECRET": fmt.Sprint("s3cret-", c)}}
			if _, err := e.Call(ctx, m, req); err != nil {
				b.Fatal(err)
			}
		}
		elapsed := time.Since(start)
		peak := procStatusKiB(b, "VmHWM")
		after := procStatusKiB(b, "VmRSS")
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-inuse-MB")
		b.ReportMetric(float64(ms.HeapSys-ms.HeapReleased)/(1<<20), "heap-resident-MB")
		b.ReportMetric(float64(e.MemoryInUse())/(1<<20), "guest-memory-MB")
		runtime.GC()
		runtime.ReadMemStats(&ms)
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "live-heap-MB")
		evictStart, cpuEvict := time.Now(), cpuTime()
		engine.EvictIdleForTest(e, time.Now())
		b.ReportMetric(float64(time.Since(evictStart).Microseconds())/1000, "eviction-ms")
		b.ReportMetric(float64((cpuTime()-cpuEvict).Microseconds())/1000, "eviction-cpu-ms")
		if n := e.Stats().Idle; n > 0 {
			b.Fatalf("%d instances still idle after eviction", n)
		}
		evicted := time.Now()
		under150 := -1.0 // never
		for time.Since(evicted) < 30*time.Second {
			if under150 < 0 && procStatusKiB(b, "VmRSS") < 150*1024 {
				under150 = time.Since(evicted).Seconds()
			}
			time.Sleep(250 * time.Millisecond)
		}
		rss30 := procStatusKiB(b, "VmRSS")
		b.ReportMetric(base/1024, "base-RSS-MB")
		b.ReportMetric(peak/1024, "peak-RSS-MB")
		b.ReportMetric(after/1024, "RSS-after-calls-MB")
		b.ReportMetric(rss30/1024, "RSS-30s-after-eviction-MB")
		b.ReportMetric(under150, "s-to-under-150MB")
		b.ReportMetric(float64(elapsed.Microseconds())/conns, "µs/first-call")
		e.Close(ctx)
	}
}
