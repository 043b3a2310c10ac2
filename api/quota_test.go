package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func sleepCall(ms int) map[string]any {
	return map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "x"}, "password": "sleep:" + strconv.Itoa(ms)}}
}

// TestConcurrencyQuota: 50 concurrent calls that each sleep in the
// connector, with maxConcurrency 4: exactly 4 run, 46 are refused with
// 429 quota_exceeded and Retry-After.
func TestConcurrencyQuota(t *testing.T) {
	probe := probeWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tid, key := e.setup("acme", "c", probe)
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 4, "timeoutMs": 30000, "callsPerMinute": 1000}).must(t, 200)

		const n = 50
		start := make(chan struct{})
		results := make([]*resp, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i] = e.req("POST", "/v1/connections/c/debug", key, sleepCall(4000))
			}()
		}
		close(start)
		wg.Wait()
		ok, rejected := 0, 0
		for _, r := range results {
			switch r.status {
			case 200:
				if r.json(t)["ok"] != true {
					t.Errorf("admitted call failed: %s", r.body)
				}
				ok++
			case 429:
				if r.errCode(t) != "quota_exceeded" || r.header.Get("Retry-After") != "1" {
					t.Errorf("rejection: %v %s", r.header, r.body)
				}
				rejected++
			default:
				t.Errorf("status %d: %s", r.status, r.body)
			}
		}
		if ok != 4 || rejected != 46 {
			t.Errorf("%d succeeded and %d were rejected; want 4 and 46", ok, rejected)
		}
		// The quota is free again.
		e.req("POST", "/v1/connections/c/debug", key, sleepCall(0)).must(t, 200)
	})
}

// TestRateQuota: with callsPerMinute 5, a burst of 8 calls has exactly 3
// refused with Retry-After; raising the quota applies to the next call.
func TestRateQuota(t *testing.T) {
	probe := probeWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tid, key := e.setup("acme", "c", probe)
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 5}).must(t, 200)
		noop := map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"id": "1"}}}
		ok, rejected := 0, 0
		for range 8 {
			r := e.req("POST", "/v1/connections/c/debug", key, noop)
			switch r.status {
			case 200:
				ok++
			case 429:
				rejected++
				if r.errCode(t) != "quota_exceeded" {
					t.Errorf("rejection: %s", r.body)
				}
				if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 60 {
					t.Errorf("Retry-After %q", r.header.Get("Retry-After"))
				}
			default:
				t.Fatalf("status %d: %s", r.status, r.body)
			}
		}
		if ok != 5 || rejected != 3 {
			t.Errorf("%d passed, %d refused; want 5 and 3", ok, rejected)
		}
		// Test shares the quota with debug.
		e.req("POST", "/v1/connections/c/test", key, map[string]any{"account": "x", "password": "secret"}).must(t, 429)
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 1000}).must(t, 200)
		e.req("POST", "/v1/connections/c/debug", key, noop).must(t, 200)
		m := e.req("GET", "/metrics", "", nil).must(t, 200)
		if !contains(m.body, `sluice_quota_rejections_total{reason="rate",tenant="`+tid+`"} 4`) {
			t.Errorf("metrics lack the rate rejections")
		}
	})
}

// TestQuotaChangeNextCall: lowering and raising maxConcurrency applies to
// the next call, without a restart.
func TestQuotaChangeNextCall(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.setup("acme", "c", probeWasm(t))
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 1, "timeoutMs": 30000}).must(t, 200)
	done := make(chan *resp)
	go func() { done <- e.req("POST", "/v1/connections/c/debug", key, sleepCall(3000)) }()
	waitFor(t, func() bool { return e.engine.Stats().Busy == 1 })
	e.req("POST", "/v1/connections/c/debug", key, sleepCall(0)).must(t, 429)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 2}).must(t, 200)
	e.req("POST", "/v1/connections/c/debug", key, sleepCall(0)).must(t, 200)
	(<-done).must(t, 200)
}

// TestLimitsFromQuotas: the timeout quota becomes the call's time limit
// (the mapping of every quota is tested in internal/invoke).
func TestLimitsFromQuotas(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.setup("acme", "c", probeWasm(t))
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"timeoutMs": 200}).must(t, 200)
	d := e.req("POST", "/v1/connections/c/debug", key, sleepCall(5000)).must(t, 200).json(t)
	if d["ok"] != false || d["error"].(map[string]any)["code"] != "timeout" {
		t.Errorf("sleep past the timeout quota: %v", d)
	}
}

// TestGracefulShutdown: a call in flight when the server stops finishes.
func TestGracefulShutdown(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.setup("acme", "c", probeWasm(t))
	done := make(chan *resp)
	go func() { done <- e.req("POST", "/v1/connections/c/debug", key, sleepCall(1500)) }()
	waitFor(t, func() bool { return e.engine.Stats().Busy == 1 })
	ctx := context.Background()
	if err := e.ts.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.status != 200 || r.json(t)["ok"] != true {
		t.Errorf("the call in flight: %d %s", r.status, r.body)
	}
}

// TestRestart: a server started again on the same data directory has the
// tenants, connections, versions and keys, and serves the first call from
// the compile cache.
func TestRestart(t *testing.T) {
	spec := sqliteSpec(t)
	cache := filepath.Join(spec.cfg.DataDir, "cache")
	withCache := func(c *envConfig) { c.engine.CacheDir = cache }
	static := staticWasm(t)

	e := newEnv(t, spec, withCache)
	tid, key := e.setup("acme", "c", static)
	alice := map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}}
	e.req("POST", "/v1/connections/c/debug", key, alice).must(t, 200)
	e.close()

	before := cacheFiles(t, cache)
	if len(before) == 0 {
		t.Fatal("the compile cache is empty after the first server")
	}
	e = newEnv(t, spec, withCache)
	ts := e.req("GET", "/v1/admin/tenants", operatorToken, nil).must(t, 200).json(t)["tenants"].([]any)
	if len(ts) != 1 || ts[0].(map[string]any)["id"] != tid {
		t.Errorf("tenants after restart: %v", ts)
	}
	e.req("GET", "/v1/connections/c", key, nil).must(t, 200)
	vs := e.req("GET", "/v1/connections/c/versions", key, nil).must(t, 200).json(t)
	if vs["activeVersion"].(float64) != 1 {
		t.Errorf("versions after restart: %v", vs)
	}
	d := e.req("POST", "/v1/connections/c/debug", key, alice).must(t, 200).json(t)
	if d["ok"] != true {
		t.Errorf("first call after restart: %v", d)
	}
	after := cacheFiles(t, cache)
	if len(after) != len(before) {
		t.Errorf("the first call compiled again: cache had %d files, now %d", len(before), len(after))
	}
}

func cacheFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	return files
}

// TestTwoNodes: two servers on one PostgreSQL store; an upload on one is
// served by the other, and a new version activated on one is used by the
// other within its cache TTL (api.Config.CacheTTL).
func TestTwoNodes(t *testing.T) {
	spec := postgresSpec(t)
	a := newEnv(t, spec)
	b := newEnv(t, spec)
	_, key := a.newTenant("acme")
	a.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	a.upload(key, "c", staticWasm(t), "").must(t, 201)
	alice := map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}}
	d := b.req("POST", "/v1/connections/c/debug", key, alice).must(t, 200).json(t)
	if d["ok"] != true {
		t.Errorf("debug on the second node: %v", d)
	}
	a.upload(key, "c", probeWasm(t), "?activate=true").must(t, 201)
	waitFor(t, func() bool {
		d = b.req("POST", "/v1/connections/c/debug", key, map[string]any{"function": "searchUser", "input": map[string]any{}}).must(t, 200).json(t)
		return d["ok"] == false && d["error"].(map[string]any)["code"] == "not_implemented"
	})
}

func contains(b []byte, s string) bool { return strings.Contains(string(b), s) }

// TestReleasedModulesAreReloaded: the engine releases compiled modules
// nobody used for a while; the next call loads the module again.
func TestReleasedModulesAreReloaded(t *testing.T) {
	e := newEnv(t, sqliteSpec(t), func(c *envConfig) {
		c.engine.IdleTimeout = 40 * time.Millisecond
		c.engine.ModuleIdleTimeout = 40 * time.Millisecond
	})
	_, key := e.setup("acme", "c", staticWasm(t))
	alice := map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}}
	if d := e.req("POST", "/v1/connections/c/debug", key, alice).must(t, 200).json(t); d["ok"] != true {
		t.Fatalf("debug %v", d)
	}
	waitFor(t, func() bool { return e.engine.Stats().Modules == 0 })
	if d := e.req("POST", "/v1/connections/c/debug", key, alice).must(t, 200).json(t); d["ok"] != true {
		t.Fatalf("debug after the module was released: %v", d)
	}
}

// TestRunnerErrorAnswers: what stops a call in the Runner (internal/invoke)
// answers through the one error handler with the status, code, message
// and Retry-After of docs/contract.md. The steps run in order on one tenant.
func TestRunnerErrorAnswers(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.newTenant("acme")
	e.req("PUT", "/v1/connections/empty", key, pgConn("pw")).must(t, 201)
	e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	e.upload(key, "c", probeWasm(t), "").must(t, 201)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 1}).must(t, 200)
	noop := map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"id": "1"}}}
	steps := []struct {
		name       string
		conn       string
		body       map[string]any
		status     int
		code       string
		message    string
		retryAfter string
	}{
		{"no active version: the seed's 200 not_implemented, no quota used", "empty", noop, 200, "", "", ""},
		{"no such version", "c", map[string]any{"function": "getUser", "version": 9, "input": map[string]any{}}, 404, "not_found", "connection c has no version 9", ""},
		{"the quota's one call", "c", noop, 200, "", "", ""},
		{"rate quota", "c", noop, 429, "quota_exceeded", "the tenant's rate quota of 1 calls per minute is used up", "60"},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.req("POST", "/v1/connections/"+s.conn+"/debug", key, s.body).must(t, s.status)
			if s.status == 200 {
				return
			}
			msg, _ := r.json(t)["error"].(map[string]any)["message"].(string)
			if r.errCode(t) != s.code || msg != s.message {
				t.Errorf("answer %s, want %s %q", r.body, s.code, s.message)
			}
			if got := r.header.Get("Retry-After"); got != s.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, s.retryAfter)
			}
		})
	}
}

// TestUploadsCountAgainstTheRateQuota: an upload runs the tenant's code
// once (the probe), so it takes a call of the tenant's quotas, before
// its body is read, even when the bytes are a version the connection
// has (200): a flood of uploads is refused with 429, and another tenant
// still uploads.
func TestUploadsCountAgainstTheRateQuota(t *testing.T) {
	wasm := staticWasm(t)
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.setup("flooder", "c", wasm)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 2}).must(t, 200)
	e.upload(key, "c", wasm, "").must(t, 200)
	e.upload(key, "c", wasm, "").must(t, 200)
	r := e.upload(key, "c", wasm, "").must(t, 429)
	if r.json(t)["error"].(map[string]any)["code"] != "quota_exceeded" || r.header.Get("Retry-After") == "" {
		t.Fatalf("third upload: %s (Retry-After %q)", r.body, r.header.Get("Retry-After"))
	}
	_, other := e.setup("neighbour", "c", wasm)
	e.upload(other, "c", wasm, "").must(t, 200)
}

// TestUploadQuota: uploads have a quota of their own, counted in the
// store, beside the call quotas they also take: past uploadsPerMinute an
// upload is refused before its body is read, while the tenant's calls go
// on; 0 is unlimited.
func TestUploadQuota(t *testing.T) {
	wasm := staticWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tid, key := e.setup("uploader", "c", wasm) // the first upload
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"uploadsPerMinute": 3}).must(t, 200)
		e.upload(key, "c", wasm, "").must(t, 200)
		e.upload(key, "c", []byte("not a module"), "").must(t, 400) // refused uploads count too
		r := e.upload(key, "c", wasm, "").must(t, 429)
		body := r.json(t)["error"].(map[string]any)
		if body["code"] != "quota_exceeded" || !strings.Contains(body["message"].(string), "upload quota of 3") || r.header.Get("Retry-After") == "" {
			t.Fatalf("fourth upload: %s (Retry-After %q)", r.body, r.header.Get("Retry-After"))
		}
		// Calls are not uploads.
		e.req("POST", "/v1/connections/c/debug", key, map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"email": "alice@example.com"}}}).must(t, 200)
		// Another tenant's uploads are its own.
		_, other := e.setup("neighbour", "c", wasm)
		e.upload(other, "c", wasm, "").must(t, 200)
		// 0 is unlimited.
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"uploadsPerMinute": 0}).must(t, 200)
		for range 3 {
			e.upload(key, "c", wasm, "").must(t, 200)
		}
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"uploadsPerMinute": -1}).must(t, 400)
	})
}
