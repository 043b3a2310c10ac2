package api_test

import (
	"fmt"
	"net/url"
	"testing"

	"github.com/sluice-dev/sluice/store"
)

// flowConn makes a tenant with a connection in mode running wasm.
func (e *env) flowConn(tenant, conn, mode string, wasm []byte) (id, key string) {
	e.t.Helper()
	id, key = e.newTenant(tenant)
	cfg := pgConn("pw")
	cfg["mode"] = mode
	e.req("PUT", "/v1/connections/"+conn, key, cfg).must(e.t, 201)
	if wasm != nil {
		e.upload(key, conn, wasm, "").must(e.t, 201)
	}
	return id, key
}

func TestLazyMigrationFlowsOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tenant, key := e.flowConn("acme", "legacy", "LAZY_MIGRATION", staticWasm(t))
		base := "/v1/connections/legacy"

		// Failed logins answer one generic 401, before and after migration.
		for _, body := range []map[string]any{
			{"account": "alice@example.com", "password": "nope"},
			{"email": "nobody@example.com", "password": "whatever"},
		} {
			r := e.req("POST", base+"/login", key, body).must(t, 401)
			if r.errCode(t) != "wrong_password" || r.json(t)["error"].(map[string]any)["message"] != "wrong account or password" {
				t.Fatalf("failed login: %s", r.body)
			}
		}
		first := e.req("POST", base+"/login", key, map[string]any{"account": "alice@example.com", "password": "wonderland"}).must(t, 200).json(t)
		if first["source"] != "connector" {
			t.Fatalf("first login: %v", first)
		}
		id := first["user"].(map[string]any)["id"].(string)
		second := e.req("POST", base+"/login", key, map[string]any{"username": "alice", "password": "wonderland"}).must(t, 200).json(t)
		if second["source"] != "local" || second["user"].(map[string]any)["id"] != id {
			t.Fatalf("second login: %v", second)
		}
		e.req("POST", base+"/login", key, map[string]any{"email": "alice@example.com", "password": "nope"}).must(t, 401)

		// Registration: legacy and local conflicts, then a new user.
		e.req("POST", base+"/register", key, map[string]any{"email": "bob@example.com", "password": "longenough"}).must(t, 409)
		e.req("POST", base+"/register", key, map[string]any{"username": "alice", "password": "longenough"}).must(t, 409)
		erin := e.req("POST", base+"/register", key, map[string]any{"email": "erin@example.com", "nickname": "Erin", "password": "longenough"}).must(t, 201).json(t)
		if erin["nickname"] != "Erin" || erin["id"] == "" {
			t.Fatalf("registered %v", erin)
		}

		// Migrated users are managed locally.
		list := e.req("GET", base+"/users?page=1&limit=10", key, nil).must(t, 200).json(t)
		if list["totalCount"].(float64) != 2 {
			t.Fatalf("list %v", list)
		}
		e.req("GET", base+"/users/search?keyword=erin", key, nil).must(t, 200)
		e.req("GET", base+"/users/"+id, key, nil).must(t, 200)
		e.req("PATCH", base+"/users/"+id, key, map[string]any{"nickname": "Al", "password": "looking-glass"}).must(t, 200)
		valid := e.req("POST", base+"/users/"+id+"/validate-password", key, map[string]any{"password": "looking-glass"}).must(t, 200).json(t)
		if valid["valid"] != true {
			t.Fatalf("validate %v", valid)
		}
		e.req("POST", base+"/login", key, map[string]any{"account": "alice@example.com", "password": "looking-glass"}).must(t, 200)

		// Progress, then finishing the migration.
		st := e.req("GET", base+"/migration", key, nil).must(t, 200).json(t)
		if st["migratedUsers"].(float64) != 2 || st["legacyTotal"].(float64) != 4 {
			t.Fatalf("migration %v", st)
		}
		e.req("POST", base+"/migration/finish", key, nil).must(t, 202)
		waitFor(t, func() bool {
			j, err := e.store.GetMigrationJob(t.Context(), tenant, "legacy")
			return err == nil && j.Status == store.JobDone
		})
		st = e.req("GET", base+"/migration", key, nil).must(t, 200).json(t)
		if st["migratedUsers"].(float64) != 5 || st["finish"].(map[string]any)["imported"].(float64) != 3 {
			t.Fatalf("after finish %v", st)
		}

		e.req("DELETE", base+"/users/"+id, key, nil).must(t, 200)
		e.req("GET", base+"/users/"+id, key, nil).must(t, 404)
		audit, _ := e.store.ListAudit(t.Context(), tenant, store.AuditQuery{Limit: 100})
		for _, a := range audit {
			if a.Action == "login" && a.Subject == "email:nobody@example.com" && a.Code != "user_not_found" {
				t.Errorf("audit of an unknown user %+v", a)
			}
		}
		if len(audit) < 10 {
			t.Errorf("audit has %d entries", len(audit))
		}
	})
}

func TestUserFlowInputValidation(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.flowConn("acme", "legacy", "LAZY_MIGRATION", staticWasm(t))
	base := "/v1/connections/legacy"
	tests := []struct {
		name, method, path string
		body               any
		status             int
	}{
		{"unknown field", "POST", "/login", map[string]any{"account": "a@b.co", "password": "x", "admin": true}, 400},
		{"no identifier", "POST", "/login", map[string]any{"password": "x"}, 400},
		{"two identifiers", "POST", "/login", map[string]any{"email": "a@b.co", "username": "a", "password": "x"}, 400},
		{"bad email", "POST", "/login", map[string]any{"email": "a@", "password": "x"}, 400},
		{"bad phone", "POST", "/login", map[string]any{"phone": "+0123", "password": "x"}, 400},
		{"empty password", "POST", "/login", map[string]any{"email": "a@b.co", "password": ""}, 400},
		{"long password", "POST", "/login", map[string]any{"email": "a@b.co", "password": fmt.Sprintf("%0200d", 0)}, 400},
		{"wrong type", "POST", "/login", map[string]any{"email": 42, "password": "x"}, 400},
		{"malformed JSON", "POST", "/register", "{nope", 400},
		{"short new password", "POST", "/register", map[string]any{"email": "n@example.com", "password": "short"}, 400},
		{"page 0", "GET", "/users?page=0", nil, 400},
		{"limit too big", "GET", "/users?limit=1000", nil, 400},
		{"limit not a number", "GET", "/users?limit=ten", nil, 400},
		{"no keyword", "GET", "/users/search", nil, 400},
		{"patch unknown field", "PATCH", "/users/x", map[string]any{"role": "admin"}, 400},
		{"validate without password", "POST", "/users/x/validate-password", map[string]any{}, 400},
		{"unknown user", "GET", "/users/" + url.PathEscape("no-such-id"), nil, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.req(tt.method, base+tt.path, key, tt.body).must(t, tt.status)
		})
	}
	if _, total, _ := e.store.ListUsers(t.Context(), "x", "legacy", 1, 10); total != 0 {
		t.Fatal("bad input stored a user")
	}
}

func TestCustomUserStoreOverHTTP(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tenant, key := e.flowConn("acme", "users", "CUSTOM_USER_STORE", staticWasm(t))
		base := "/v1/connections/users"
		login := e.req("POST", base+"/login", key, map[string]any{"account": "bob", "password": "canwefixit"}).must(t, 200).json(t)
		if login["source"] != "connector" || login["user"].(map[string]any)["id"] != "2" {
			t.Fatalf("login %v", login)
		}
		e.req("POST", base+"/login", key, map[string]any{"account": "bob", "password": "nope"}).must(t, 401)
		e.req("POST", base+"/register", key, map[string]any{"email": "carol@example.org", "password": "longenough"}).must(t, 409)
		created := e.req("POST", base+"/users", key, map[string]any{"email": "erin@example.com", "username": "erin", "password": "longenough"}).must(t, 201).json(t)
		id := created["id"].(string)
		if l := e.req("GET", base+"/users?page=1&limit=2", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 5 || len(l["list"].([]any)) != 2 {
			t.Fatalf("list %v", l)
		}
		if l := e.req("GET", base+"/users/search?keyword=erin", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 1 {
			t.Fatalf("search %v", l)
		}
		e.req("GET", base+"/users/"+id, key, nil).must(t, 200)
		if u := e.req("PATCH", base+"/users/"+id, key, map[string]any{"nickname": "E"}).must(t, 200).json(t); u["nickname"] != "E" {
			t.Fatalf("patch %v", u)
		}
		if v := e.req("POST", base+"/users/"+id+"/validate-password", key, map[string]any{"password": "longenough"}).must(t, 200).json(t); v["valid"] != true {
			t.Fatalf("validate %v", v)
		}
		e.req("DELETE", base+"/users/"+id, key, nil).must(t, 200)
		e.req("GET", base+"/users/"+id, key, nil).must(t, 404)
		e.req("GET", base+"/migration", key, nil).must(t, 400)
		if _, total, err := e.store.ListUsers(t.Context(), tenant, "users", 1, 100); err != nil || total != 0 {
			t.Fatalf("CUSTOM_USER_STORE kept %d users locally (%v)", total, err)
		}
	})
}

func TestUserFlowsCarryContext(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.flowConn("acme", "probe", "CUSTOM_USER_STORE", nil)
	e.upload(key, "probe", probeWasm(t), "?force=true").must(t, 201) // login is all it needs here
	r := e.req("POST", "/v1/connections/probe/login", key, map[string]any{"username": "ada", "password": "secret"},
		"User-Agent", "platform-backend/1.0", "X-Request-ID", "req-42").must(t, 200).json(t)
	cd := r["user"].(map[string]any)["customData"].(map[string]any)
	want := map[string]any{"tenant": tenant, "connection": "probe", "requestId": "req-42", "ip": "127.0.0.1", "userAgent": "platform-backend/1.0"}
	for k, v := range want {
		if cd[k] != v {
			t.Errorf("context %s = %v, want %v", k, cd[k], v)
		}
	}
}

func TestDisabledAndEmptyConnections(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.flowConn("acme", "legacy", "LAZY_MIGRATION", staticWasm(t))
	base := "/v1/connections/legacy"
	e.req("POST", base+"/login", key, map[string]any{"account": "alice@example.com", "password": "wonderland"}).must(t, 200)

	cfg := pgConn("pw")
	cfg["enabled"] = false
	e.req("PUT", "/v1/connections/legacy", key, cfg).must(t, 200)
	// Migrated users still log in; others cannot reach the connector.
	if r := e.req("POST", base+"/login", key, map[string]any{"account": "alice@example.com", "password": "wonderland"}).must(t, 200).json(t); r["source"] != "local" {
		t.Fatalf("local login on a disabled connection: %v", r)
	}
	if code := e.req("POST", base+"/login", key, map[string]any{"account": "bob@example.com", "password": "canwefixit"}).must(t, 409).errCode(t); code != "connection_disabled" {
		t.Fatalf("code %s", code)
	}

	// A connection without a module answers with the product's message.
	_, key2 := e.flowConn("beta", "empty", "CUSTOM_USER_STORE", nil)
	r := e.req("POST", "/v1/connections/empty/login", key2, map[string]any{"account": "a@b.co", "password": "x"}).must(t, 501).json(t)
	if msg := r["error"].(map[string]any)["message"]; msg != "Please implement the Login script for this database connection" {
		t.Fatalf("message %v", msg)
	}
}

// TestAuditRoute: the tenant reads a connection's audit log, newest
// first, with the precise codes and the detail the flows' callers never
// see; another tenant's connection is not found.
func TestAuditRoute(t *testing.T) {
	wasm := staticWasm(t)
	e := newEnv(t, sqliteSpec(t))
	_, key := e.setup("acme", "c", wasm)
	e.req("POST", "/v1/connections/c/login", key, map[string]any{"email": "nobody@example.com", "password": "whatever-it-is"}).must(t, 401)
	e.req("POST", "/v1/connections/c/login", key, map[string]any{"email": "alice@example.com", "password": "wonderland"}).must(t, 200)
	r := e.req("GET", "/v1/connections/c/audit?limit=10", key, nil).must(t, 200).json(t)
	entries := r["entries"].([]any)
	if len(entries) != 2 {
		t.Fatalf("entries %v", entries)
	}
	newest, oldest := entries[0].(map[string]any), entries[1].(map[string]any)
	if newest["action"] != "login" || newest["code"] != nil || oldest["code"] != "user_not_found" || oldest["subject"] != "email:nobody@example.com" {
		t.Fatalf("entries %v", entries)
	}
	e.req("GET", "/v1/connections/c/audit?limit=0", key, nil).must(t, 400)
	_, other := e.setup("other", "d", wasm)
	e.req("GET", "/v1/connections/c/audit", other, nil).must(t, 404)
}
