package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// TestBadInput: every malformed request is a clear 4xx naming the
// problem, and nothing is stored.
func TestBadInput(t *testing.T) {
	static := staticWasm(t)
	badImport := wasmbuild.Test(t, "../engine/testdata/guests/badimport")
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tid, key := e.newTenant("acme")
		e.req("PUT", "/v1/connections/good", key, pgConn("pw")).must(t, 201)

		with := func(field string, v any) map[string]any {
			c := pgConn("pw")
			if v == nil {
				delete(c, field)
			} else {
				c[field] = v
			}
			return c
		}
		connWith := func(k string, v any) map[string]any {
			c := pgConn("pw")
			p := c["connection"].(map[string]any)
			p[k] = v
			return c
		}
		long := strings.Repeat("a", 1000)
		tests := []struct {
			name, method, path string
			body               any
			ctype              string
			status             int
			code, mentions     string
		}{
			{"malformed JSON", "PUT", "/v1/connections/c1", `{"mode": "LAZY_MIGRATION",`, "", 400, "invalid_input", "malformed"},
			{"not JSON", "PUT", "/v1/connections/c1", `mode=LAZY`, "", 400, "invalid_input", "malformed"},
			{"empty body", "PUT", "/v1/connections/c1", "", "", 400, "invalid_input", "empty"},
			{"two values", "PUT", "/v1/connections/c1", `{} {}`, "", 400, "invalid_input", "more than one"},
			{"unknown field", "PUT", "/v1/connections/c1", with("colour", "red"), "", 400, "invalid_input", "colour"},
			{"unknown nested field", "PUT", "/v1/connections/c1", connWith("sslmode", "off"), "", 400, "invalid_input", "sslmode"},
			{"missing mode", "PUT", "/v1/connections/c1", with("mode", nil), "", 400, "invalid_input", "mode"},
			{"missing dbType", "PUT", "/v1/connections/c1", with("dbType", nil), "", 400, "invalid_input", "dbType"},
			{"missing connection", "PUT", "/v1/connections/c1", with("connection", nil), "", 400, "invalid_input", "connection"},
			{"bad mode", "PUT", "/v1/connections/c1", with("mode", "EAGER"), "", 400, "invalid_input", "mode"},
			{"bad dbType", "PUT", "/v1/connections/c1", with("dbType", "oracle"), "", 400, "invalid_input", "dbType"},
			{"mode wrong type", "PUT", "/v1/connections/c1", with("mode", 7), "", 400, "invalid_input", "mode"},
			{"port wrong type", "PUT", "/v1/connections/c1", connWith("port", "5432"), "", 400, "invalid_input", "port"},
			{"port out of range", "PUT", "/v1/connections/c1", connWith("port", 70000), "", 400, "invalid_input", "connection.port"},
			{"uri and fields", "PUT", "/v1/connections/c1", connWith("uri", "postgres://a@b/c"), "", 400, "invalid_input", "not both"},
			{"empty connection", "PUT", "/v1/connections/c1", with("connection", map[string]any{}), "", 400, "invalid_input", "connection"},
			{"uri wrong scheme", "PUT", "/v1/connections/c1", with("connection", map[string]any{"uri": "mysql://u:p@h/db"}), "", 400, "invalid_input", "connection.uri"},
			{"bad allowlist entry", "PUT", "/v1/connections/c1", with("egressAllowlist", []string{"db.example.com:5432", "10.0.0.1/8"}), "", 400, "invalid_input", "egressAllowlist[1]"},
			{"allowlist wrong type", "PUT", "/v1/connections/c1", with("egressAllowlist", "db.example.com"), "", 400, "invalid_input", "egressAllowlist"},
			{"bad env name", "PUT", "/v1/connections/c1", with("env", map[string]any{"my-var": "x"}), "", 400, "invalid_input", "env.my-var"},
			{"reserved env name", "PUT", "/v1/connections/c1", with("env", map[string]any{"DB_PASSWORD": "x"}), "", 400, "invalid_input", "env.DB_PASSWORD"},
			{"env value wrong type", "PUT", "/v1/connections/c1", with("env", map[string]any{"A": 1}), "", 400, "invalid_input", "env"},
			{"name too long", "PUT", "/v1/connections/" + long, pgConn("pw"), "", 400, "invalid_input", "name"},
			{"name with dot", "PUT", "/v1/connections/a.b", pgConn("pw"), "", 400, "invalid_input", "name"},
			{"name with encoded slash", "PUT", "/v1/connections/a%2Fb", pgConn("pw"), "", 400, "invalid_input", "name"},
			{"name with slash", "PUT", "/v1/connections/a/b", pgConn("pw"), "", 404, "not_found", ""},
			{"get long name", "GET", "/v1/connections/" + long, nil, "", 404, "not_found", ""},
			{"tenant without name", "POST", "/v1/admin/tenants", map[string]any{}, "", 400, "invalid_input", "name"},
			{"tenant name wrong type", "POST", "/v1/admin/tenants", map[string]any{"name": 5}, "", 400, "invalid_input", "name"},
			{"quota unknown field", "PUT", "/v1/admin/tenants/" + tid + "/quotas", map[string]any{"cpu": 5}, "", 400, "invalid_input", "cpu"},
			{"quota out of range", "PUT", "/v1/admin/tenants/" + tid + "/quotas", map[string]any{"maxConcurrency": 100000}, "", 400, "invalid_input", "maxConcurrency"},
			{"upload not wasm", "POST", "/v1/connections/good/versions", []byte("this is not a wasm module"), "application/wasm", 400, "invalid_module", ""},
			{"upload unknown imports", "POST", "/v1/connections/good/versions", badImport, "application/wasm", 400, "invalid_module", "env.foo"},
			{"upload wrong content type", "POST", "/v1/connections/good/versions", static, "application/octet-stream", 415, "unsupported_media_type", "application/wasm"},
			{"upload empty", "POST", "/v1/connections/good/versions", []byte{}, "application/wasm", 400, "invalid_module", "empty"},
			{"upload to unknown connection", "POST", "/v1/connections/nope/versions", static, "application/wasm", 404, "not_found", ""},
			{"debug without function", "POST", "/v1/connections/good/debug", map[string]any{"input": map[string]any{}}, "", 400, "invalid_input", "function"},
			{"debug unknown function", "POST", "/v1/connections/good/debug", map[string]any{"function": "dropTables"}, "", 400, "invalid_input", "function"},
			{"debug input not object", "POST", "/v1/connections/good/debug", map[string]any{"function": "login", "input": []int{1}}, "", 400, "invalid_input", "input"},
			{"debug unknown field", "POST", "/v1/connections/good/debug", map[string]any{"function": "login", "inputs": map[string]any{}}, "", 400, "invalid_input", "inputs"},
			{"test without password", "POST", "/v1/connections/good/test", map[string]any{"account": "alice"}, "", 400, "invalid_input", "password"},
			{"test without account", "POST", "/v1/connections/good/test", map[string]any{"password": "x"}, "", 400, "invalid_input", "account"},
			{"unrouted method", "PATCH", "/v1/connections/good", map[string]any{}, "", 404, "not_found", ""},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				token := key
				if strings.HasPrefix(tc.path, "/v1/admin") {
					token = operatorToken
				}
				var hdr []string
				if tc.ctype != "" {
					hdr = []string{"Content-Type", tc.ctype}
				}
				r := e.req(tc.method, tc.path, token, tc.body, hdr...)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.body)
				}
				if code := r.errCode(t); code != tc.code {
					t.Errorf("code %q, want %q", code, tc.code)
				}
				if !strings.Contains(string(r.body), tc.mentions) {
					t.Errorf("message does not mention %q: %s", tc.mentions, r.body)
				}
			})
		}
		// Nothing was stored.
		conns, err := e.store.ListConnections(t.Context(), tid)
		if err != nil || len(conns) != 1 || conns[0].ConfigVersion != 1 {
			t.Errorf("connections after bad input: %+v %v", conns, err)
		}
		if vs, err := e.store.ListVersions(t.Context(), tid, "good"); err != nil || len(vs) != 0 {
			t.Errorf("versions after bad uploads: %+v %v", vs, err)
		}
		if ts, err := e.store.ListTenants(t.Context()); err != nil || len(ts) != 1 {
			t.Errorf("tenants after bad input: %d %v", len(ts), err)
		}
		tn, _ := e.store.GetTenant(t.Context(), tid)
		if !tn.Quotas.Equal(store.DefaultQuotas()) {
			t.Errorf("quotas changed by bad input: %+v", tn.Quotas)
		}
	})
}

// countingReader yields n zero bytes and counts what was read.
type countingReader struct{ n, read int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	if r.read >= r.n {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n-r.read {
		p = p[:r.n-r.read]
	}
	clear(p)
	r.read += int64(len(p))
	return len(p), nil
}

// TestHugeBody: a 200 MB body is refused with 413 having read at most a
// little more than the limit, with or without a Content-Length.
func TestHugeBody(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.newTenant("acme")
	e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	const size = 200 << 20
	for _, tc := range []struct {
		name, method, path, ctype string
		known                     bool
	}{
		{"save with length", "PUT", "/v1/connections/c", "application/json", true},
		{"save chunked", "PUT", "/v1/connections/c", "application/json", false},
		{"debug chunked", "POST", "/v1/connections/c/debug", "application/json", false},
		{"upload with length", "POST", "/v1/connections/c/versions", "application/wasm", true},
		{"upload chunked", "POST", "/v1/connections/c/versions", "application/wasm", false},
		{"admin chunked", "POST", "/v1/admin/tenants", "application/json", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := &countingReader{n: size}
			req := httptest.NewRequest(tc.method, tc.path, body)
			req.ContentLength = -1
			if tc.known {
				req.ContentLength = size
			}
			req.Header.Set("Content-Type", tc.ctype)
			tok := key
			if strings.HasPrefix(tc.path, "/v1/admin") {
				tok = operatorToken
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			e.srv.Handler().ServeHTTP(rec, req)
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("status %d, want 413: %s", rec.Code, rec.Body)
			}
			var eb struct{ Error struct{ Code string } }
			json.Unmarshal(rec.Body.Bytes(), &eb)
			if eb.Error.Code != "too_large" {
				t.Errorf("code %q: %s", eb.Error.Code, rec.Body)
			}
			if body.read > 20<<20 {
				t.Errorf("read %d bytes of the body before refusing it", body.read)
			}
		})
	}
	// Through a real connection too: the answer arrives.
	r := e.req("PUT", "/v1/connections/c", key, bytes.Repeat([]byte(" "), 3<<20))
	if r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("3 MB save: %d", r.status)
	}
}

// TestModuleQuota: a module over the tenant's maxModuleBytes is 413.
func TestModuleQuota(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.newTenant("acme")
	e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxModuleBytes": 1 << 20}).must(t, 200)
	if code := e.upload(key, "c", staticWasm(t), "").must(t, 413).errCode(t); code != "too_large" {
		t.Errorf("code %s", code)
	}
	if vs, _ := e.store.ListVersions(t.Context(), tid, "c"); len(vs) != 0 {
		t.Errorf("stored %d versions", len(vs))
	}
}

// TestSecrets: the database password and env values appear in no answer,
// no log line, and not in plaintext in the SQLite file.
func TestSecrets(t *testing.T) {
	const password = "Pa55-very-secret-zq"
	spec := sqliteSpec(t)
	e := newEnv(t, spec)
	tid, key := e.setup("acme", "c", staticWasm(t))
	var bodies []string
	keep := func(r *resp) *resp { bodies = append(bodies, string(r.body)); return r }
	keep(e.req("PUT", "/v1/connections/c", key, pgConn(password)).must(t, 200))
	uriConn := map[string]any{"mode": "LAZY_MIGRATION", "dbType": "postgres",
		"connection": map[string]any{"uri": "postgres://app:" + password + "@db.example.com:5432/users?sslmode=require&password=" + password}}
	r := keep(e.req("PUT", "/v1/connections/u", key, uriConn).must(t, 201))
	if got := r.json(t)["connection"].(map[string]any)["uri"]; got != "postgres://app:********@db.example.com:5432/users?password=%2A%2A%2A%2A%2A%2A%2A%2A&sslmode=require" &&
		got != "postgres://app:********@db.example.com:5432/users?password=********&sslmode=require" {
		t.Errorf("masked uri %q", got)
	}
	keep(e.req("GET", "/v1/connections/c", key, nil).must(t, 200))
	keep(e.req("GET", "/v1/connections/u", key, nil).must(t, 200))
	keep(e.req("GET", "/v1/connections", key, nil).must(t, 200))
	keep(e.req("POST", "/v1/connections/c/debug", key, map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}}).must(t, 200))
	keep(e.req("POST", "/v1/connections/c/test", key, map[string]any{"account": "alice", "password": "wonderland"}).must(t, 200))
	keep(e.req("POST", "/v1/connections/c/versions/1/activate", key, nil).must(t, 200))
	keep(e.req("GET", "/v1/admin/tenants", operatorToken, nil).must(t, 200))
	for _, b := range bodies {
		if strings.Contains(b, password) {
			t.Errorf("an answer shows the password: %s", b)
		}
	}
	if strings.Contains(e.logs.String(), password) || strings.Contains(e.logs.String(), key) {
		t.Errorf("the log shows a secret")
	}
	// The store still has it, for the connector.
	c, err := e.store.GetConnection(t.Context(), tid, "c")
	if err != nil || c.Connection.Password != password {
		t.Fatalf("stored password %q, %v", c.Connection.Password, err)
	}
	e.close()
	files, _ := filepath.Glob(filepath.Join(spec.cfg.DataDir, store.SQLiteFile+"*"))
	if len(files) == 0 {
		t.Fatal("no SQLite files")
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{password, "tok-" + password, key} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds %q in plaintext", filepath.Base(f), secret)
			}
		}
	}
}

// TestTenantIsolation: tenant B cannot read, debug, upload to, activate
// or delete tenant A's connection, and gets the same 404 as for a
// connection that does not exist.
func TestTenantIsolation(t *testing.T) {
	static := staticWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		aID, aKey := e.setup("a", "shared-name", static)
		_, bKey := e.newTenant("b")
		for _, tc := range []struct {
			method, path string
			body         any
			hdr          []string
		}{
			{"GET", "/v1/connections/shared-name", nil, nil},
			{"GET", "/v1/connections/shared-name/versions", nil, nil},
			{"POST", "/v1/connections/shared-name/debug", map[string]any{"function": "login", "input": map[string]any{}}, nil},
			{"POST", "/v1/connections/shared-name/test", map[string]any{"account": "alice", "password": "wonderland"}, nil},
			{"POST", "/v1/connections/shared-name/versions", static, []string{"Content-Type", "application/wasm"}},
			{"POST", "/v1/connections/shared-name/versions/1/activate", nil, nil},
			{"DELETE", "/v1/connections/shared-name", nil, nil},
		} {
			got := e.req(tc.method, tc.path, bKey, tc.body, tc.hdr...)
			missing := e.req(tc.method, strings.Replace(tc.path, "shared-name", "no-such-name", 1), bKey, tc.body, tc.hdr...)
			if got.status != 404 || got.errCode(t) != "not_found" {
				t.Errorf("B %s %s: %d %s", tc.method, tc.path, got.status, got.body)
			}
			if string(got.body) != string(missing.body) {
				t.Errorf("B %s %s answers differently from a missing connection: %s vs %s", tc.method, tc.path, got.body, missing.body)
			}
		}
		list := e.req("GET", "/v1/connections", bKey, nil).must(t, 200).json(t)
		if n := len(list["connections"].([]any)); n != 0 {
			t.Errorf("B lists %d connections", n)
		}
		// A's connection is untouched.
		c, err := e.store.GetConnection(t.Context(), aID, "shared-name")
		if err != nil || c.ActiveVersion != 1 || c.ConfigVersion != 2 {
			t.Errorf("A's connection after B: %+v %v", c, err)
		}
		if vs, _ := e.store.ListVersions(t.Context(), aID, "shared-name"); len(vs) != 1 {
			t.Errorf("A has %d versions", len(vs))
		}
		e.req("POST", "/v1/connections/shared-name/debug", aKey, map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}}).must(t, 200)
		// A tenant key is not an operator token, and the reverse.
		e.req("GET", "/v1/admin/tenants", aKey, nil).must(t, 401)
		e.req("GET", "/v1/connections", operatorToken, nil).must(t, 401)
	})
}
