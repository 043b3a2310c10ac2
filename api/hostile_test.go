package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/hostile"
	"github.com/sluice-dev/sluice/store"
)

// TestHostileServer runs every shape of the hostile corpus through the
// server: a tenant with timeoutMs 200 uploads it (a compile bomb must be
// refused with 400 invalid_module, quickly), then the debug route and the
// login flow must answer with the shape's code and HTTP status within the
// deadline plus hostile.Bound, GET /healthz must keep answering within
// hostile.HealthzBound meanwhile, and a call whose client went away must
// give the tenant's concurrency slot back by the deadline plus the bound.
//
// Each shape runs in a child process (hostile.Isolated): a guest that never
// returns to Go would freeze the server and this test with it.
func TestHostileServer(t *testing.T) {
	for _, c := range hostile.Corpus() {
		t.Run(c.Name, func(t *testing.T) {
			hostile.Isolated(t, hostile.Options{Env: []string{"SLUICE_HOSTILE_API_CACHE=" + cacheDir}}, func(tb testing.TB, rep *hostile.Report) {
				serverAttack(tb.(*testing.T), rep, c)
			})
		})
	}
}

// hostileEnv is a server whose host calls may reach the local test
// databases, with a compile cache shared with the parent process. Its
// engine's default limits (those of the upload's probe instance) are the
// case's, as in the engine's TestHostileCorpus.
func hostileEnv(t testing.TB, c hostile.Case) *env {
	spec := storeSpec{name: "sqlite", cfg: store.Config{DataDir: t.TempDir(), MasterKey: testKey()}}
	// The server logs to a file, as a node does. Kept in memory, the log
	// of a benchmark child grew past 100 MB, and each doubling of the
	// buffer copied it in one memmove no preemption reaches: the GC's
	// stop-the-world waited for it, and /healthz with it, 110–130 ms (a
	// runtime trace of the slowest probe, BENCHMARKS.md).
	log, err := os.Create(filepath.Join(t.TempDir(), "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	return newEnv(t, spec, func(cfg *envConfig) {
		cfg.logTo = log
		cfg.engine.DefaultLimits = engine.Limits{Timeout: c.Limit(), MemoryBytes: uint64(c.Memory()) << 20}
		if d := os.Getenv("SLUICE_HOSTILE_API_CACHE"); d != "" {
			cfg.engine.CacheDir = d
		}
	})
}

// attackTenant makes a tenant with the case's quotas and a connection
// reaching the case's database; it returns the tenant's id and key.
func (e *env) attackTenant(name string, c hostile.Case, concurrency int) (string, string) {
	e.t.Helper()
	tid, key := e.newTenant(name)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{
		"timeoutMs": c.Limit().Milliseconds(), "memoryMB": c.Memory(), "maxConcurrency": concurrency,
		"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"},
		"callsPerMinute": hostile.AttackerRate(), "uploadsPerMinute": hostile.AttackerUploadRate(), "maxHostCalls": 100,
	}).must(e.t, 200)
	db := hostile.DBConn(c)
	e.req("PUT", "/v1/connections/c", key, map[string]any{
		"mode": "LAZY_MIGRATION", "dbType": db.DBType, "connection": map[string]any{"uri": db.URI},
		"egressAllowlist": []string{db.Allow},
	}).must(e.t, 201)
	return tid, key
}

func debugBody(c hostile.Case) map[string]any {
	return map[string]any{"function": c.Func(), "input": json.RawMessage(c.In())}
}

// loginBody is the login flow's request for the case's login input.
func loginBody(c hostile.Case) map[string]any {
	var in struct {
		Query    map[string]string `json:"query"`
		Password string            `json:"password"`
	}
	json.Unmarshal([]byte(c.In()), &in)
	body := map[string]any{"password": in.Password}
	for k, v := range in.Query {
		body[k] = v
	}
	return body
}

func serverAttack(t *testing.T, rep *hostile.Report, c hostile.Case) {
	wasm := hostile.Wasm(t, c)
	e := hostileEnv(t, c)
	tid, key := e.attackTenant("attacker", c, 2)
	// A module whose attack is in its call is uploaded (compiled) before the
	// watchdog starts; for the others, the upload is the attack.
	var up *resp
	var took time.Duration
	if c.Stage == hostile.Run {
		start := time.Now()
		up = e.upload(key, "c", wasm, "?force=true") // active whatever it implements
		took = time.Since(start)
	}
	hostile.AttackStarts(t)
	mon := hostile.StartMonitor()
	probe := startHealthProbe(e.ts.URL, nil)
	defer func() {
		maxLatency, n := probe.stop()
		p := mon.Stop()
		rep.Logf("%s: /healthz answered %d times, slowest %s; max stall %s, %d GCs", c.Name, n, maxLatency.Round(time.Millisecond), p.MaxGap.Round(time.Millisecond), p.GCs)
		if maxLatency > hostile.HealthzBound() {
			t.Errorf("GET /healthz took %s during the attack, over %s", maxLatency.Round(time.Millisecond), hostile.HealthzBound())
		}
		p.Check(t)
	}()

	if up == nil {
		start := time.Now()
		up = e.upload(key, "c", wasm, "?force=true") // active whatever it implements
		took = time.Since(start)
	}
	switch {
	case up.status == 400 && up.errCode(t) == "invalid_module":
		rep.Logf("%s: upload refused after %s: %.200s", c.Name, took.Round(time.Millisecond), up.body)
		if !c.Allows(hostile.InvalidModule) {
			t.Errorf("the upload was refused: %s; want %v", up.body, c.Want)
		}
		if took > hostile.LoadBound() {
			t.Errorf("refusing the upload took %s, over %s", took.Round(time.Millisecond), hostile.LoadBound())
		}
		return
	case up.status != 201:
		t.Fatalf("upload: %d %s", up.status, up.body)
	case c.MustRefuse():
		t.Fatalf("the upload of a compile bomb was accepted after %s; want 400 invalid_module", took.Round(time.Millisecond))
	case c.Stage != hostile.Run && took > hostile.LoadBound():
		t.Errorf("the upload took %s, over %s", took.Round(time.Millisecond), hostile.LoadBound())
	}

	// The console's debug route: 200 with the connector's error.
	start := time.Now()
	r := e.req("POST", "/v1/connections/c/debug", key, debugBody(c)).must(t, 200)
	took = time.Since(start)
	var dbg struct {
		OK    bool
		Error *engine.Error
	}
	json.Unmarshal(r.body, &dbg)
	got := hostile.OK
	if !dbg.OK && dbg.Error != nil {
		got = hostile.Outcome(dbg.Error.Code)
	}
	rep.Logf("%s: debug answered %s after %s", c.Name, got, took.Round(time.Millisecond))
	if !c.Allows(got) {
		t.Errorf("debug answered %s: %.300s; want %v", got, r.body, c.Want)
	}
	checkTook(t, "debug", c, took)

	// The login flow: the code's HTTP status.
	if c.Func() == "login" {
		start = time.Now()
		r = e.req("POST", "/v1/connections/c/login", key, loginBody(c))
		took = time.Since(start)
		got = hostile.OK
		if r.status != 200 {
			got = hostile.Outcome(r.errCode(t))
			if want := api.StatusOf(engine.Code(got)); r.status != want {
				t.Errorf("login answered %s with status %d, want %d", got, r.status, want)
			}
		}
		rep.Logf("%s: login answered %d %s after %s", c.Name, r.status, got, took.Round(time.Millisecond))
		if !c.Allows(got) {
			t.Errorf("login answered %d: %.300s; want %v", r.status, r.body, c.Want)
		}
		checkTook(t, "login", c, took)
	}

	// A client that goes away: its call must give the tenant's only slot
	// back by the deadline plus the bound.
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 1}).must(t, 200)
	start = time.Now()
	leave(t, e.ts.URL+"/v1/connections/c/debug", key, debugBody(c), 50*time.Millisecond)
	time.Sleep(time.Until(start.Add(c.Limit() + hostile.Bound())))
	r = e.req("POST", "/v1/connections/c/debug", key, debugBody(c))
	rep.Logf("%s: the call after the client left answered %d", c.Name, r.status)
	if r.status == 429 {
		t.Errorf("the tenant's slot was still taken %s after its client left: %s", time.Since(start).Round(time.Millisecond), r.body)
	}
	deadline := time.Now().Add(c.Limit() + hostile.Bound())
	for e.engine.Stats().Busy != 0 {
		if time.Now().After(deadline) {
			t.Errorf("instances still busy after the attack: %+v", e.engine.Stats())
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkTook(t *testing.T, what string, c hostile.Case, took time.Duration) {
	t.Helper()
	if limit := c.Limit() + hostile.Bound(); took > limit {
		t.Errorf("%s took %s, over the %s deadline plus %s", what, took.Round(time.Millisecond), c.Limit(), hostile.Bound())
	}
}

// leave sends a request and gives up on it after wait, as a client that
// goes away.
func leave(t *testing.T, url, key string, body any, wait time.Duration) {
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", url, strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
	}
}

// healthProbe asks GET /healthz every 20ms and keeps how long each
// answer took.
type healthProbe struct {
	quit chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	lat  []time.Duration
}

func startHealthProbe(base string, rec *hostile.Recorder) *healthProbe {
	p := &healthProbe{quit: make(chan struct{})}
	client := &http.Client{Timeout: 30 * time.Second}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			select {
			case <-p.quit:
				return
			case <-time.After(20 * time.Millisecond):
			}
			start := time.Now()
			res, err := client.Get(base + "/healthz")
			d := time.Since(start)
			if err == nil {
				res.Body.Close()
			}
			if err != nil || res.StatusCode != 200 {
				d = time.Hour // a failed probe is as bad as no answer
			}
			rec.Slow(d)
			p.mu.Lock()
			p.lat = append(p.lat, d)
			p.mu.Unlock()
		}
	}()
	return p
}

// stop ends the probe and returns the slowest answer and the number of
// answers.
func (p *healthProbe) stop() (time.Duration, int) {
	lat := p.end()
	return hostile.Percentile(lat, 100), len(lat)
}

// end ends the probe and returns every answer's time.
func (p *healthProbe) end() []time.Duration {
	close(p.quit)
	p.wg.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lat
}
