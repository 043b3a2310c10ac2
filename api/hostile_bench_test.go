package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/hostile"
)

// BenchmarkHostileNeighbourHTTP: a neighbour tenant calls examples/static
// getUser through the debug route in a closed loop, alone and then while
// an attacking tenant (timeoutMs 200, maxConcurrency hostile.Attackers())
// runs the shape at its full quota through the same server (calls, or
// uploads for a module the server refuses; a refused attacker waits for
// its Retry-After unless hostile.Flood). It reports the
// neighbour's p99 in both phases of the same run and their ratio
// (p99-ratio), and the slowest GET /healthz under attack. Each shape runs
// in a child process (hostile.Isolated); read the custom metrics, not ns/op.
func BenchmarkHostileNeighbourHTTP(b *testing.B) {
	for _, c := range hostile.Corpus() {
		b.Run(c.Name, func(b *testing.B) {
			hostile.Isolated(b, hostile.Options{Env: []string{"SLUICE_HOSTILE_API_CACHE=" + cacheDir}}, func(tb testing.TB, rep *hostile.Report) {
				neighbourHTTP(tb, rep, c)
			})
		})
	}
}

const httpWindow = time.Second

func neighbourHTTP(tb testing.TB, rep *hostile.Report, c hostile.Case) {
	e := hostileEnv(tb, c)
	_, nkey := e.setup("neighbour", "c", staticWasm(tb))
	_, akey := e.attackTenant("attacker", c, hostile.Attackers())
	wasm := hostile.Wasm(tb, c)
	if c.Stage != hostile.Run {
		hostile.AttackStarts(tb)
	}
	uploads := e.upload(akey, "c", wasm, "?force=true").status != 201 // active whatever it implements
	hostile.AttackStarts(tb)

	client := &http.Client{Timeout: 30 * time.Second}
	post := func(key, path string, body []byte, contentType string) (*http.Response, error) {
		req, _ := http.NewRequest("POST", e.ts.URL+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", contentType)
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res, nil
	}
	nbody, _ := json.Marshal(map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"id": "1"}}})
	neighbour := func() error {
		_, err := post(nkey, "/v1/connections/c/debug", nbody, "application/json")
		return err
	}
	loop := func(d time.Duration) []time.Duration { return hostile.ClosedLoop(tb, d, neighbour) }
	loop(100 * time.Millisecond)
	alone := loop(httpWindow)

	abody, _ := json.Marshal(debugBody(c))
	stop := make(chan struct{})
	var attacks, refused atomic.Int64
	flood := hostile.Flood()
	done := hostile.Repeat(hostile.Attackers(), stop, func() bool {
		var res *http.Response
		if uploads {
			res, _ = post(akey, "/v1/connections/c/versions", wasm, "application/wasm")
		} else {
			res, _ = post(akey, "/v1/connections/c/debug", abody, "application/json")
		}
		attacks.Add(1)
		if res == nil || res.StatusCode != http.StatusTooManyRequests {
			return true
		}
		refused.Add(1)
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && !flood {
			select {
			case <-stop:
			case <-time.After(time.Duration(s) * time.Second):
			}
		}
		return true
	})
	probe := startHealthProbe(e.ts.URL)
	time.Sleep(50 * time.Millisecond)
	under := loop(httpWindow)
	close(stop)
	slowest, _ := probe.stop()
	stopped := true
	select {
	case <-done:
	case <-time.After(c.Limit() + hostile.Bound() + hostile.LoadBound()):
		stopped = false
		tb.Errorf("the attacking requests did not end")
	}
	p99a, p99u := hostile.Percentile(alone, 99), hostile.Percentile(under, 99)
	rep.Metric(hostile.Ms(p99a), "neighbour-p99-alone-ms")
	rep.Metric(hostile.Ms(p99u), "neighbour-p99-attack-ms")
	if p99a > 0 {
		rep.Metric(float64(p99u)/float64(p99a), "p99-ratio")
	}
	rep.Metric(hostile.Ms(slowest), "healthz-max-ms")
	rep.Metric(float64(attacks.Load()), "attacks")
	rep.Metric(float64(refused.Load()), "refused-429")
	rep.Logf("%s: neighbour p99 %s alone (%d calls), %s under attack (%d calls; %d attacks, %d refused 429, uploads %v, flood %v, stopped %v); slowest /healthz %s",
		c.Name, p99a.Round(time.Microsecond), len(alone), p99u.Round(time.Microsecond), len(under), attacks.Load(), refused.Load(), uploads, flood, stopped, slowest.Round(time.Millisecond))
}
