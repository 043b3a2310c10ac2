package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/hostile"
)

// BenchmarkHostileNeighbourHTTP: a neighbour tenant (callsPerMinute
// 1000000, so that its calls run; any answer but 200 fails) calls
// examples/static getUser through the debug route in a closed loop,
// alone and then while an attacking tenant (timeoutMs 200,
// maxConcurrency hostile.Attackers()) runs the shape at its full quota
// through the same server (calls, or
// uploads for a module the server refuses; a refused attacker waits for
// its Retry-After unless hostile.Flood), in hostile.Rounds() rounds of a
// second of each (after the first, the last attack's garbage collected
// first). It reports the median and the largest of the rounds' ratios of
// the neighbour's p99 under attack to its p99 alone (p99-ratio,
// p99-ratio-max), the slowest GET /healthz under attack and its p99
// (healthz-max-ms, healthz-p99-ms; a probe every 20 ms), and the attacks
// of all rounds together. Each shape runs
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
	nid, nkey := e.setup("neighbour", "c", staticWasm(tb))
	// The neighbour's closed loop makes thousands of calls a second: at
	// the default rate quota (600 a minute) nearly all of them would be
	// refused with 429 before reaching its connector, and the benchmark
	// would time refusals.
	e.req("PUT", "/v1/admin/tenants/"+nid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 1_000_000}).must(tb, 200)
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
		res, err := post(nkey, "/v1/connections/c/debug", nbody, "application/json")
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("status %d (%s): the neighbour's call did not run", res.StatusCode, res.Header.Get("Retry-After"))
		}
		return err
	}
	loop := func(d time.Duration) []time.Duration { return hostile.ClosedLoop(tb, d, neighbour) }
	loop(100 * time.Millisecond)

	abody, _ := json.Marshal(debugBody(c))
	var attacks, refused atomic.Int64
	flood := hostile.Flood()
	attack := func(stop chan struct{}) <-chan struct{} {
		return hostile.Repeat(hostile.Attackers(), stop, func() bool {
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
	}
	// Rounds of the neighbour alone, then under attack: the ratio of each
	// round compares windows a second apart, and the median of the
	// rounds' is reported.
	rec := hostile.StartRecorder(tb) // SLUICE_HOSTILE_TRACE: the slow probes' traces
	var ratios []float64
	var p99a, p99u time.Duration
	var health []time.Duration // every /healthz answer under attack
	var nAlone, nUnder int
	stopped := true
	for round := range hostile.Rounds() {
		if round > 0 {
			// Let the last round's attack settle (its garbage, the
			// neighbour's instances it had evicted) before measuring alone.
			runtime.GC()
			time.Sleep(200 * time.Millisecond)
			loop(100 * time.Millisecond)
		}
		alone := loop(httpWindow)
		stop := make(chan struct{})
		done := attack(stop)
		probe := startHealthProbe(e.ts.URL, rec)
		time.Sleep(50 * time.Millisecond)
		under := loop(httpWindow)
		close(stop)
		health = append(health, probe.end()...)
		select {
		case <-done:
		case <-time.After(c.Limit() + hostile.Bound() + hostile.LoadBound()):
			stopped = false
			tb.Errorf("round %d: the attacking requests did not end", round)
		}
		if !stopped {
			break // a next round's "alone" would not be
		}
		a, u := hostile.Percentile(alone, 99), hostile.Percentile(under, 99)
		if a > 0 {
			ratios = append(ratios, float64(u)/float64(a))
		}
		p99a, p99u = max(p99a, a), max(p99u, u)
		nAlone, nUnder = nAlone+len(alone), nUnder+len(under)
		rep.Logf("%s round %d: neighbour p99 %s alone, %s under attack", c.Name, round, a.Round(time.Microsecond), u.Round(time.Microsecond))
	}
	rep.Metric(hostile.Ms(p99a), "neighbour-p99-alone-max-ms")
	rep.Metric(hostile.Ms(p99u), "neighbour-p99-attack-max-ms")
	if len(ratios) > 0 {
		slices.Sort(ratios)
		n := len(ratios)
		rep.Metric((ratios[(n-1)/2]+ratios[n/2])/2, "p99-ratio") // the median
		rep.Metric(ratios[len(ratios)-1], "p99-ratio-max")
	}
	slowest := hostile.Percentile(health, 100)
	rep.Metric(hostile.Ms(slowest), "healthz-max-ms")
	rep.Metric(hostile.Ms(hostile.Percentile(health, 99)), "healthz-p99-ms")
	rep.Metric(float64(attacks.Load()), "attacks")
	rep.Metric(float64(refused.Load()), "refused-429")
	rep.Logf("%s: p99 ratios %.2f (sorted); neighbour p99 at most %s alone (%d calls), %s under attack (%d calls; %d attacks, %d refused 429, uploads %v, flood %v, stopped %v); slowest /healthz %s (p99 %s, %d answers)",
		c.Name, ratios, p99a.Round(time.Microsecond), nAlone, p99u.Round(time.Microsecond), nUnder, attacks.Load(), refused.Load(), uploads, flood, stopped, slowest.Round(time.Millisecond), hostile.Percentile(health, 99).Round(time.Millisecond), len(health))
}
