package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// noLoginWasm implements getUser only: it serves neither mode.
func noLoginWasm(t testing.TB) []byte { return wasmbuild.Test(t, "testdata/nologin") }

// modeRefusal asserts a 409 mode_not_satisfied answer and returns its
// details.
func modeRefusal(t *testing.T, r *resp) map[string]any {
	t.Helper()
	r.must(t, 409)
	if code := r.errCode(t); code != "mode_not_satisfied" {
		t.Fatalf("code %s, want mode_not_satisfied: %s", code, r.body)
	}
	d, ok := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
	if !ok {
		t.Fatalf("no details: %s", r.body)
	}
	return d
}

// activeVersion is the connection's active version as GET shows it.
func (e *env) activeVersion(key, conn string) int {
	e.t.Helper()
	return int(e.req("GET", "/v1/connections/"+conn, key, nil).must(e.t, 200).json(e.t)["activeVersion"].(float64))
}

// TestActivationNeedsTheModesFunctions: a version that cannot serve the
// connection's mode is never made active unless forced, on any route.
func TestActivationNeedsTheModesFunctions(t *testing.T) {
	static, probe, noLogin := staticWasm(t), probeWasm(t), noLoginWasm(t)
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.newTenant("acme")
	// Many uploads in a minute: the upload quota is TestUploadQuota's.
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"uploadsPerMinute": 0}).must(t, 200)
	conn := func(name, mode string) {
		t.Helper()
		cfg := pgConn("pw")
		cfg["mode"] = mode
		e.req("PUT", "/v1/connections/"+name, key, cfg).must(t, 201)
	}
	alice := map[string]any{"account": "alice@example.com", "password": "wonderland"}

	t.Run("activate", func(t *testing.T) {
		conn("act", "LAZY_MIGRATION")
		e.upload(key, "act", static, "").must(t, 201)
		v := e.upload(key, "act", noLogin, "").must(t, 201).json(t)
		if v["version"].(float64) != 2 || v["active"] != false || fmt.Sprint(v["missingForMode"]) != "[login]" {
			t.Fatalf("upload: %v", v)
		}
		d := modeRefusal(t, e.req("POST", "/v1/connections/act/versions/2/activate", key, nil))
		if d["missing"] != "login" || d["mode"] != "LAZY_MIGRATION" || d["version"] != "2" {
			t.Fatalf("details %v", d)
		}
		if got := e.activeVersion(key, "act"); got != 1 {
			t.Fatalf("active version %d after a refused activation", got)
		}
		e.req("POST", "/v1/connections/act/login", key, alice).must(t, 200)
		e.req("POST", "/v1/connections/act/versions/2/activate?force=maybe", key, nil).must(t, 400)
		e.req("POST", "/v1/connections/act/versions/2/activate?force=true", key, nil).must(t, 200)
		if got := e.activeVersion(key, "act"); got != 2 {
			t.Fatalf("active version %d after a forced activation", got)
		}
		e.req("POST", "/v1/connections/act/versions/1/activate", key, nil).must(t, 200)
	})

	t.Run("upload with activate", func(t *testing.T) {
		conn("up", "LAZY_MIGRATION")
		e.upload(key, "up", static, "").must(t, 201)
		d := modeRefusal(t, e.upload(key, "up", noLogin, "?activate=true"))
		if d["missing"] != "login" || d["version"] != nil {
			t.Fatalf("details %v", d)
		}
		vl := e.req("GET", "/v1/connections/up/versions", key, nil).must(t, 200).json(t)
		if n := len(vl["versions"].([]any)); n != 1 || vl["activeVersion"].(float64) != 1 {
			t.Fatalf("a refused upload was stored: %v", vl)
		}
		v := e.upload(key, "up", noLogin, "?activate=true&force=true").must(t, 201).json(t)
		if v["active"] != true || e.activeVersion(key, "up") != 2 {
			t.Fatalf("forced upload: %v", v)
		}
	})

	t.Run("first upload", func(t *testing.T) {
		conn("first", "LAZY_MIGRATION")
		v := e.upload(key, "first", noLogin, "").must(t, 201).json(t)
		if v["active"] != false || v["notActivated"] == nil || e.activeVersion(key, "first") != 0 {
			t.Fatalf("first upload that cannot serve the mode: %v", v)
		}
		if msg := v["notActivated"].(string); !contains([]byte(msg), "login") || !contains([]byte(msg), "LAZY_MIGRATION") {
			t.Fatalf("notActivated %q", msg)
		}
		// The first version that can serve the mode is activated.
		v = e.upload(key, "first", static, "").must(t, 201).json(t)
		if v["active"] != true || v["notActivated"] != nil || e.activeVersion(key, "first") != 2 {
			t.Fatalf("next upload: %v", v)
		}
		e.req("POST", "/v1/connections/first/login", key, alice).must(t, 200)

		conn("forced", "LAZY_MIGRATION")
		if v := e.upload(key, "forced", noLogin, "?force=true").must(t, 201).json(t); v["active"] != true || v["notActivated"] != nil {
			t.Fatalf("forced first upload: %v", v)
		}
	})

	t.Run("custom user store needs all eight", func(t *testing.T) {
		conn("custom", "CUSTOM_USER_STORE")
		v := e.upload(key, "custom", probe, "").must(t, 201).json(t)
		if v["active"] != false || len(v["missingForMode"].([]any)) != 6 {
			t.Fatalf("probe on CUSTOM_USER_STORE: %v", v)
		}
		e.upload(key, "custom", static, "").must(t, 201)
		d := modeRefusal(t, e.req("POST", "/v1/connections/custom/versions/1/activate", key, nil))
		if d["missing"] != "searchUser,createUser,updateUser,deleteUser,listUsers,validatePassword" || d["mode"] != "CUSTOM_USER_STORE" {
			t.Fatalf("details %v", d)
		}
	})

	t.Run("mode change", func(t *testing.T) {
		conn("mode", "LAZY_MIGRATION")
		e.upload(key, "mode", probe, "").must(t, 201)
		cfg := pgConn("pw")
		cfg["mode"] = "CUSTOM_USER_STORE"
		d := modeRefusal(t, e.req("PUT", "/v1/connections/mode", key, cfg))
		if d["version"] != "1" || d["mode"] != "CUSTOM_USER_STORE" || len(d["missing"].(string)) == 0 {
			t.Fatalf("details %v", d)
		}
		if m := e.req("GET", "/v1/connections/mode", key, nil).must(t, 200).json(t)["mode"]; m != "LAZY_MIGRATION" {
			t.Fatalf("refused mode change saved: %v", m)
		}
		e.req("PUT", "/v1/connections/mode?force=true", key, cfg).must(t, 200)
		// Saving again in the same mode is not a mode change.
		e.req("PUT", "/v1/connections/mode", key, cfg).must(t, 200)
		// A version that can serve the new mode allows it.
		e.upload(key, "mode", static, "?activate=true").must(t, 201)
		cfg["mode"] = "LAZY_MIGRATION"
		e.req("PUT", "/v1/connections/mode", key, cfg).must(t, 200)
	})
}

// TestUploadOfKnownBytes: the same module again is the version the
// connection has, not a new one.
func TestUploadOfKnownBytes(t *testing.T) {
	static, probe := staticWasm(t), probeWasm(t)
	e := newEnv(t, sqliteSpec(t))
	_, key := e.setup("acme", "c", static)
	v := e.upload(key, "c", static, "").must(t, 200).json(t)
	if v["version"].(float64) != 1 || v["active"] != true {
		t.Fatalf("same bytes again: %v", v)
	}
	v = e.upload(key, "c", probe, "").must(t, 201).json(t)
	if v["version"].(float64) != 2 || v["active"] != false {
		t.Fatalf("probe: %v", v)
	}
	// A later upload stays inactive, and the answer says so and how to
	// put it live.
	if msg, _ := v["notActivated"].(string); !strings.Contains(msg, "version 1 serves") || !strings.Contains(msg, "/v1/connections/c/versions/2/activate") {
		t.Fatalf("notActivated of a later upload: %q", msg)
	}
	for range 3 {
		e.upload(key, "c", probe, "").must(t, 200)
	}
	v = e.upload(key, "c", probe, "?activate=true").must(t, 200).json(t)
	if v["version"].(float64) != 2 || v["active"] != true || e.activeVersion(key, "c") != 2 {
		t.Fatalf("known bytes with activate: %v", v)
	}
	// Back to version 1 by its bytes.
	if v = e.upload(key, "c", static, "?activate=true").must(t, 200).json(t); v["version"].(float64) != 1 || e.activeVersion(key, "c") != 1 {
		t.Fatalf("rollback by bytes: %v", v)
	}
	vl := e.req("GET", "/v1/connections/c/versions", key, nil).must(t, 200).json(t)
	if n := len(vl["versions"].([]any)); n != 2 {
		t.Fatalf("%d versions, want 2: %v", n, vl)
	}
}

// TestVersionCap: with --max-versions 2 an upload prunes the oldest
// inactive version and its module bytes; the active one stays.
func TestVersionCap(t *testing.T) {
	static, probe, noLogin := staticWasm(t), probeWasm(t), noLoginWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec, func(c *envConfig) { c.api.MaxVersions = 2 })
		_, key := e.setup("acme", "c", static) // v1, active
		p := e.upload(key, "c", probe, "").must(t, 201).json(t)
		if p["pruned"] != nil {
			t.Fatalf("pruned under the cap: %v", p)
		}
		v := e.upload(key, "c", noLogin, "").must(t, 201).json(t)
		if v["version"].(float64) != 3 || fmt.Sprint(v["pruned"]) != "[2]" {
			t.Fatalf("third upload: %v", v)
		}
		versions := func() string {
			var out []int
			for _, v := range e.req("GET", "/v1/connections/c/versions", key, nil).must(t, 200).json(t)["versions"].([]any) {
				out = append(out, int(v.(map[string]any)["version"].(float64)))
			}
			return fmt.Sprint(out)
		}
		if got := versions(); got != "[1 3]" {
			t.Fatalf("versions %s, want [1 3]", got)
		}
		if _, err := e.store.ModuleBytes(t.Context(), p["sha256"].(string)); err == nil {
			t.Fatal("the pruned version's module bytes are still stored")
		}
		e.req("POST", "/v1/connections/c/versions/2/activate", key, nil).must(t, 404)
		// The pruned bytes again are a new version; the active v1 stays.
		if v := e.upload(key, "c", probe, "").must(t, 201).json(t); v["version"].(float64) != 4 || fmt.Sprint(v["pruned"]) != "[3]" {
			t.Fatalf("re-upload: %v", v)
		}
		if got := versions(); got != "[1 4]" || e.activeVersion(key, "c") != 1 {
			t.Fatalf("versions %s, active %d", got, e.activeVersion(key, "c"))
		}
		e.req("POST", "/v1/connections/c/login", key, map[string]any{"account": "alice@example.com", "password": "wonderland"}).must(t, 200)
	})
}

// TestMaxVersionsConfig: a cap of 1 cannot hold the active version and
// an upload, so New refuses it.
func TestMaxVersionsConfig(t *testing.T) {
	ctx := t.Context()
	st, err := store.Open(ctx, sqliteSpec(t).cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	eng, err := engine.New(ctx, engine.Config{CacheDir: cacheDir})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close(ctx)
	hosts := hostfuncs.New(hostfuncs.Config{})
	defer hosts.Close()
	runner, err := invoke.New(invoke.Config{Engine: eng, Store: st, Hosts: hosts})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		max int
		ok  bool
	}{{1, false}, {2, true}, {0, true}, {-1, true}} {
		t.Run(fmt.Sprint(tc.max), func(t *testing.T) {
			_, err := api.New(api.Config{Runner: runner, Store: st, MaxVersions: tc.max})
			if (err == nil) != tc.ok {
				t.Fatalf("MaxVersions %d: %v", tc.max, err)
			}
		})
	}
}
