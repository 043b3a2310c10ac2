package api_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

func mysqlURI() string {
	// The connection API takes mysql:// URLs; the tests' DSN is the
	// driver's form root@tcp(127.0.0.1:3306)/test.
	return "mysql://root@127.0.0.1:3306/test"
}

func mongoURI() string {
	if v := os.Getenv("SLUICE_TEST_MONGO_URI"); v != "" {
		return strings.TrimSuffix(v, "/") + "/sluice_vocab"
	}
	return "mongodb://127.0.0.1:27017/sluice_vocab"
}

func hostcodesWasm(t testing.TB) []byte { return wasmbuild.Test(t, "testdata/hostcodes") }

// vocabConn puts a LAZY_MIGRATION connection of dbType with uri running
// the hostcodes guest.
func (e *env) vocabConn(key, name, dbType, uri string, env map[string]any, allow ...string) {
	e.t.Helper()
	if allow == nil {
		allow = []string{}
	}
	e.req("PUT", "/v1/connections/"+name, key, map[string]any{
		"mode": "LAZY_MIGRATION", "dbType": dbType, "connection": map[string]any{"uri": uri},
		"env": env, "egressAllowlist": allow,
	}).must(e.t, 201)
	e.upload(key, name, hostcodesWasm(e.t), "").must(e.t, 201)
}

// errorOf returns the code and message of an error answer.
func (r *resp) errorOf(t testing.TB) (code, message string) {
	t.Helper()
	er, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error in %s", r.body)
	}
	return er["code"].(string), er["message"].(string)
}

// TestHostCodesReachTheAPI: a host function's own code reaches the API
// with its status whether the connector passes the host's error on,
// wraps it in an error of its own, or traps; a connector that answers a
// contract code of its own keeps it. Every database kind and the HTTP
// host call are refused by the egress gate (the test services listen on
// loopback, which a tenant without a grant never reaches).
func TestHostCodesReachTheAPI(t *testing.T) {
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("{}")) }))
	defer web.Close()
	e := newEnv(t, sqliteSpec(t))
	_, key := e.newTenant("vocab")
	e.vocabConn(key, "pg", "postgres", pgDSN(), nil, "127.0.0.1:5432")
	e.vocabConn(key, "my", "mysql", mysqlURI(), nil, "127.0.0.1:3306")
	e.vocabConn(key, "mg", "mongodb", mongoURI(), nil, "127.0.0.1:27017")
	e.vocabConn(key, "web", "http", web.URL, map[string]any{"API_URL": web.URL + "/users"}, strings.TrimPrefix(web.URL, "http://"))

	for _, c := range []struct{ conn, call, target string }{
		{"pg", "sql", "127.0.0.1:5432"},
		{"my", "sql", "127.0.0.1:3306"},
		{"mg", "mongo", "127.0.0.1:27017"},
		{"web", "http", strings.TrimPrefix(web.URL, "http://")},
	} {
		for _, how := range []string{"pass", "wrap", "panic"} {
			t.Run(c.conn+"/"+how, func(t *testing.T) {
				r := e.req("POST", "/v1/connections/"+c.conn+"/login", key, map[string]any{"username": c.call, "password": how}).must(t, 502)
				if code, msg := r.errorOf(t); code != "egress_denied" || strings.Contains(msg, "egress_denied") {
					t.Fatalf("login: %s %q, want egress_denied with a plain message", code, msg)
				}
				// The console sees the code and the detail.
				d := e.req("POST", "/v1/connections/"+c.conn+"/debug", key, map[string]any{
					"function": "login", "input": map[string]any{"query": map[string]any{"username": c.call}, "password": how},
				}).must(t, 200).json(t)
				er := d["error"].(map[string]any)
				if er["code"] != "egress_denied" || !strings.Contains(er["message"].(string), c.target+" is loopback") {
					t.Fatalf("debug error %v, want egress_denied naming %s", er, c.target)
				}
				// What the connector said is kept beside the host's error.
				if details, _ := er["details"].(map[string]any); how == "wrap" && !strings.HasPrefix(fmt.Sprint(details["connectorMessage"]), "lookup failed: ") {
					t.Errorf("debug details %v, want the connector's message", details)
				}
				tr := e.req("POST", "/v1/connections/"+c.conn+"/test", key, map[string]any{"account": c.call, "password": how}).must(t, 200).json(t)
				if tr["error"].(map[string]any)["code"] != "egress_denied" {
					t.Fatalf("test route error %v, want egress_denied", tr["error"])
				}
			})
		}
	}
	t.Run("own code kept", func(t *testing.T) {
		// user_not_found of the connector's own: a failed login (401).
		r := e.req("POST", "/v1/connections/pg/login", key, map[string]any{"username": "sql", "password": "notfound"}).must(t, 401)
		if code, _ := r.errorOf(t); code != "wrong_password" {
			t.Fatalf("code %s, want the login's wrong_password", code)
		}
		d := e.req("POST", "/v1/connections/pg/debug", key, map[string]any{
			"function": "login", "input": map[string]any{"query": map[string]any{"username": "sql"}, "password": "notfound"},
		}).must(t, 200).json(t)
		if code := d["error"].(map[string]any)["code"]; code != "user_not_found" {
			t.Fatalf("debug code %v, want user_not_found", code)
		}
	})
	t.Run("a later host call worked", func(t *testing.T) {
		// The connector went on after the refusal (a fallback that
		// worked): its own failure is its own.
		r := e.req("POST", "/v1/connections/pg/login", key, map[string]any{"username": "sql", "password": "recover"}).must(t, 502)
		if code, _ := r.errorOf(t); code != "connector_error" {
			t.Fatalf("code %s, want connector_error", code)
		}
	})
}

// TestHostTimeoutReachesTheAPI: a query past the host's per-query time
// limit is the host's timeout (504), however the connector fails.
func TestHostTimeoutReachesTheAPI(t *testing.T) {
	e := newEnv(t, sqliteSpec(t), func(c *envConfig) { c.hosts.QueryTimeout = 300 * time.Millisecond })
	id, key := e.newTenant("slow")
	e.req("PUT", "/v1/admin/tenants/"+id+"/quotas", operatorToken, map[string]any{
		"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"},
	}).must(t, 200)
	e.vocabConn(key, "pg", "postgres", pgDSN(), nil, "127.0.0.1:5432")
	for _, how := range []string{"pass", "wrap", "panic"} {
		t.Run(how, func(t *testing.T) {
			r := e.req("POST", "/v1/connections/pg/login", key, map[string]any{"username": "sqlsleep", "password": how}).must(t, 504)
			if code, _ := r.errorOf(t); code != "timeout" {
				t.Fatalf("code %s, want timeout", code)
			}
		})
	}
}

// TestDuplicateKeyIsUserExists: a duplicate key is db_error to the guest
// (with its SQLSTATE, error number or mongoCode, for connectors that
// decide on them) and stands for user_exists: a connector that then
// fails generically answers 409 user_exists.
func TestDuplicateKeyIsUserExists(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	id, key := e.newTenant("dup")
	e.grantLoopback(id)
	e.vocabConn(key, "pg", "postgres", pgDSN(), nil, "127.0.0.1:5432")
	e.vocabConn(key, "my", "mysql", mysqlURI(), map[string]any{"DB": "mysql"}, "127.0.0.1:3306")
	e.vocabConn(key, "mg", "mongodb", mongoURI(), nil, "127.0.0.1:27017")
	for _, c := range []struct{ conn, call, detail string }{
		{"pg", "sqldup", "23505"},
		{"my", "sqldup", "1062"},
		{"mg", "mongodup", "11000"},
	} {
		for _, how := range []string{"pass", "wrap", "panic"} {
			t.Run(c.conn+"/"+how, func(t *testing.T) {
				r := e.req("POST", "/v1/connections/"+c.conn+"/login", key, map[string]any{"username": c.call, "password": how}).must(t, 409)
				if code, msg := r.errorOf(t); code != "user_exists" || msg != "the user already exists" {
					t.Fatalf("login: %s", r.body)
				}
				d := e.req("POST", "/v1/connections/"+c.conn+"/debug", key, map[string]any{
					"function": "login", "input": map[string]any{"query": map[string]any{"username": c.call}, "password": how},
				}).must(t, 200)
				er := d.json(t)["error"].(map[string]any)
				if er["code"] != "user_exists" || !contains(d.body, c.detail) {
					t.Fatalf("debug: %s, want user_exists with %s", d.body, c.detail)
				}
			})
		}
	}
}

// TestRefusedDestinationsAreEgressDenied: unix sockets, a file: URL and
// a missing host (the connection API refuses MongoDB socket paths and
// MySQL unix(...) DSNs before they are stored; hostfuncs' tests cover
// them) are refused by the gate as egress_denied (502) with a
// message saying why, never as a driver's parse error.
func TestRefusedDestinationsAreEgressDenied(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	id, key := e.newTenant("sockets")
	// Even a tenant allowed every private range never reaches a socket.
	e.req("PUT", "/v1/admin/tenants/"+id+"/quotas", operatorToken, map[string]any{"allowPrivateNetworks": true}).must(t, 200)
	for _, c := range []struct {
		name, dbType, uri, call string
		env                     map[string]any
		want                    string
	}{
		{"pg-socket-dir", "postgres", "postgres:///test?host=/var/run/postgresql", "sql", nil, "/var/run/postgresql is a unix socket"},
		{"pg-tmp", "postgres", "postgres://postgres@localhost/test?host=/tmp", "sql", nil, "/tmp is a unix socket"},
		{"http-file", "http", "http://api.example.com", "http", map[string]any{"API_URL": "file:///etc/passwd"}, "file:///etc/passwd is not a network address"},
		{"http-no-host", "http", "http://api.example.com", "http", map[string]any{"API_URL": "http:///users"}, "has no host"},
	} {
		e.vocabConn(key, c.name, c.dbType, c.uri, c.env, "0.0.0.0/0")
		t.Run(c.name, func(t *testing.T) {
			r := e.req("POST", "/v1/connections/"+c.name+"/login", key, map[string]any{"username": c.call, "password": "pass"}).must(t, 502)
			if code, _ := r.errorOf(t); code != "egress_denied" {
				t.Fatalf("login: %s, want egress_denied", r.body)
			}
			d := e.req("POST", "/v1/connections/"+c.name+"/debug", key, map[string]any{
				"function": "login", "input": map[string]any{"query": map[string]any{"username": c.call}, "password": "pass"},
			}).must(t, 200).json(t)
			er := d["error"].(map[string]any)
			if er["code"] != "egress_denied" || !strings.Contains(er["message"].(string), c.want) {
				t.Fatalf("debug error %v, want egress_denied with %q", er, c.want)
			}
			denied := false
			for _, hc := range d["hostCalls"].([]any) {
				denied = denied || hc.(map[string]any)["denied"] == true
			}
			if !denied {
				t.Fatalf("no denied host call in the trace: %v", d["hostCalls"])
			}
		})
	}
}

// TestMissingFunctionSameAnswer: a connection without an active version
// runs the seed, which implements no function: /login, /register, the
// user list and migration answer 501 not_implemented "Please implement
// the ... script for this database connection", and /test and /debug
// show that same error in their answer (200, as every connector error),
// never 409 no_active_version. A module lacking a function answers the
// same on debug.
func TestMissingFunctionSameAnswer(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.newTenant("seed")
	e.req("PUT", "/v1/connections/lazy", key, pgConn("pw")).must(t, 201)
	custom := pgConn("pw")
	custom["mode"] = "CUSTOM_USER_STORE"
	e.req("PUT", "/v1/connections/custom", key, custom).must(t, 201)
	const loginMsg = "Please implement the Login script for this database connection"

	for _, c := range []struct {
		name, method, path string
		body               any
		message            string
	}{
		{"login", "POST", "/v1/connections/lazy/login", map[string]any{"username": "ann", "password": "pw"}, loginMsg},
		{"login custom", "POST", "/v1/connections/custom/login", map[string]any{"username": "ann", "password": "pw"}, loginMsg},
		{"register", "POST", "/v1/connections/lazy/register", map[string]any{"email": "ann@example.com", "password": "pw-long-enough"}, "Please implement the GetUser script for this database connection"},
		{"list users", "GET", "/v1/connections/custom/users", nil, "Please implement the ListUsers script for this database connection"},
		{"finish migration", "POST", "/v1/connections/lazy/migration/finish", nil, "Please implement the ListUsers script for this database connection"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.req(c.method, c.path, key, c.body).must(t, 501)
			if code, msg := r.errorOf(t); code != "not_implemented" || msg != c.message {
				t.Fatalf("%s %q, want not_implemented %q", code, msg, c.message)
			}
		})
	}
	for _, c := range []struct {
		name, path string
		body       map[string]any
		message    string
	}{
		{"test", "/v1/connections/lazy/test", map[string]any{"account": "ann", "password": "pw"}, loginMsg},
		{"debug login", "/v1/connections/lazy/debug", map[string]any{"function": "login", "input": map[string]any{}}, loginMsg},
		{"debug deleteUser", "/v1/connections/custom/debug", map[string]any{"function": "deleteUser", "input": map[string]any{"id": "1"}}, "Please implement the DeleteUser script for this database connection"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := e.req("POST", c.path, key, c.body).must(t, 200).json(t)
			er, _ := d["error"].(map[string]any)
			if d["ok"] != false || er["code"] != "not_implemented" || er["message"] != c.message {
				t.Fatalf("answer %v, want not_implemented %q", d, c.message)
			}
		})
	}
	e.upload(key, "lazy", probeWasm(t), "").must(t, 201)
	t.Run("module without the function", func(t *testing.T) {
		d := e.req("POST", "/v1/connections/lazy/debug", key, map[string]any{"function": "deleteUser", "input": map[string]any{"id": "1"}}).must(t, 200).json(t)
		if er, _ := d["error"].(map[string]any); er["code"] != "not_implemented" || er["message"] != "Please implement the DeleteUser script for this database connection" {
			t.Fatalf("debug %v", d)
		}
	})
}

// TestInvalidUTF8Bodies: a JSON body that is not UTF-8, or whose \u
// escapes are lone surrogates (encoding/json would store U+FFFD), is a
// 400 invalid_input on every route that takes one, and nothing is stored.
func TestInvalidUTF8Bodies(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.newTenant("utf8")
	flowKey := key
	e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	e.upload(key, "c", probeWasm(t), "").must(t, 201)

	conn := `{"mode":"LAZY_MIGRATION","dbType":"postgres","connection":{"uri":"postgres://app@db.example.com/users"},"env":{"TABLE":"%s"}}`
	for _, bad := range []struct{ name, text string }{
		{"latin-1 byte", "caf\xe9"},
		{"truncated sequence", "\xe2\x82"},
		{"overlong encoding", "\xc0\xaf"},
		{"lone high surrogate", `\ud800`},
		{"lone low surrogate", `\udc00x`},
		{"reversed pair", `\udc00\ud800`},
	} {
		t.Run(bad.name, func(t *testing.T) {
			for _, r := range []struct{ method, path, key, body string }{
				{"PUT", "/v1/connections/bad", key, strings.ReplaceAll(conn, "%s", bad.text)},
				{"POST", "/v1/connections/c/login", flowKey, `{"username":"ann","password":"` + bad.text + `"}`},
				{"POST", "/v1/connections/c/register", flowKey, `{"email":"ann@example.com","nickname":"` + bad.text + `","password":"long-enough-pw"}`},
				{"POST", "/v1/connections/c/users/1/validate-password", flowKey, `{"password":"` + bad.text + `"}`},
				{"POST", "/v1/connections/c/debug", flowKey, `{"function":"getUser","input":{"query":{"email":"` + bad.text + `"}}}`},
				{"POST", "/v1/connections/c/test", flowKey, `{"account":"ann","password":"` + bad.text + `"}`},
				{"POST", "/v1/admin/tenants", operatorToken, `{"name":"` + bad.text + `"}`},
			} {
				res := e.req(r.method, r.path, r.key, r.body).must(t, 400)
				if code, msg := res.errorOf(t); code != "invalid_input" || !strings.Contains(msg, "UTF-8") {
					t.Errorf("%s %s: %s %q, want invalid_input about UTF-8", r.method, r.path, code, msg)
				}
			}
		})
	}
	e.req("GET", "/v1/connections/bad", key, nil).must(t, 404)
	// Valid text, escapes and pairs included, is taken as it is.
	e.req("PUT", "/v1/connections/good", key, strings.ReplaceAll(conn, "%s", `caf\u00e9 \ud83d\ude00 é`)).must(t, 201)
	d := e.req("POST", "/v1/connections/c/debug", key, `{"function":"login","input":{"query":{"username":"\u00e9\ud83d\ude00"},"password":"secret"}}`).must(t, 200).json(t)
	if u, _ := d["result"].(map[string]any); u["username"] != "é😀" {
		t.Fatalf("debug with escapes: %v", d)
	}
}

// TestUserFlowAnswersHideInternals: a user flow whose connector call
// fails answers the code and a plain message, never the driver's
// message, the SQLSTATE, the constraint, the database user or the
// resolver; the debug route, the audit entry and the server log keep
// the detail for the tenant and the operator.
func TestUserFlowAnswersHideInternals(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.newTenant("internals")
	e.grantLoopback(tid)
	e.legacyConn(key, "legacy", "CUSTOM_USER_STORE", uri)
	e.legacyConn(key, "badrole", "CUSTOM_USER_STORE", "postgres://sluice_no_such_role:pw@127.0.0.1:5432/test?sslmode=disable")
	e.req("PUT", "/v1/connections/nxhost", key, map[string]any{
		"mode": "CUSTOM_USER_STORE", "dbType": "postgres", "connection": map[string]any{"uri": "postgres://postgres@db.sluice-nx.invalid:5432/test"},
		"egressAllowlist": []string{"db.sluice-nx.invalid:5432"},
	}).must(t, 201)
	e.upload(key, "nxhost", wasmbuild.Test(t, "../examples/postgres"), "").must(t, 201)

	for _, c := range []struct {
		name, method, path string
		body               any
		status             int
		code, message      string
		action             string // the audit entry's action
		detail             []string
		debug              map[string]any
	}{
		{
			name: "duplicate email", method: "PATCH", path: "/v1/connections/legacy/users/1",
			body: map[string]any{"email": "user2@legacy.example.com"}, status: 409,
			code: "user_exists", message: "the user already exists", action: "updateUser",
			detail: []string{"duplicate key", "users_email_key", "23505"},
			debug:  map[string]any{"function": "updateUser", "input": map[string]any{"id": "1", "updates": map[string]any{"email": "user2@legacy.example.com"}}},
		},
		{
			name: "unknown database role", method: "POST", path: "/v1/connections/badrole/login",
			body: map[string]any{"username": "user1", "password": testpg.Password}, status: 502,
			code: "connector_error", message: "the connector failed", action: "login",
			detail: []string{"sluice_no_such_role", "28000"},
			debug:  map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "user1"}, "password": "x"}},
		},
		{
			name: "validate-password, unknown role", method: "POST", path: "/v1/connections/badrole/users/1/validate-password",
			body: map[string]any{"password": "some-password"}, status: 502,
			code: "connector_error", message: "the connector failed", action: "validatePassword",
			detail: []string{"sluice_no_such_role", "28000"},
			debug:  map[string]any{"function": "validatePassword", "input": map[string]any{"id": "1", "password": "x"}},
		},
		{
			name: "unresolvable host", method: "POST", path: "/v1/connections/nxhost/login",
			body: map[string]any{"username": "user1", "password": testpg.Password}, status: 502,
			code: "connector_error", message: "the connector failed", action: "login",
			detail: []string{"db.sluice-nx.invalid"},
			debug:  map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"username": "user1"}, "password": "x"}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.req(c.method, c.path, key, c.body).must(t, c.status)
			if code, msg := r.errorOf(t); code != c.code || msg != c.message {
				t.Fatalf("answer %s, want %s %q", r.body, c.code, c.message)
			}
			if _, ok := r.json(t)["error"].(map[string]any)["details"]; ok {
				t.Errorf("answer has details: %s", r.body)
			}
			for _, leak := range append(c.detail, "SQLSTATE", "db_error", "lookup", "127.0.0.1") {
				if contains(r.body, leak) {
					t.Errorf("answer leaks %q: %s", leak, r.body)
				}
			}
			rid := r.header.Get("X-Request-Id")
			entries, err := e.store.ListAudit(t.Context(), tid, store.AuditQuery{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			var entry *store.AuditEntry
			for i := range entries {
				if entries[i].RequestID == rid && entries[i].Action == c.action {
					entry = &entries[i]
				}
			}
			if entry == nil || entry.Code != c.code {
				t.Fatalf("audit entry of %s: %+v", rid, entry)
			}
			logs := e.logs.String()
			for _, d := range c.detail {
				if !strings.Contains(entry.Detail, d) {
					t.Errorf("audit detail %q lacks %q", entry.Detail, d)
				}
				if !strings.Contains(logs, d) {
					t.Errorf("server log lacks %q", d)
				}
			}
			conn := strings.Split(c.path, "/")[3]
			d := e.req("POST", "/v1/connections/"+conn+"/debug", key, c.debug).must(t, 200)
			for _, want := range c.detail {
				if !contains(d.body, want) {
					t.Errorf("debug lacks %q: %s", want, d.body)
				}
			}
		})
	}
	t.Run("finish migration job", func(t *testing.T) {
		e.legacyConn(key, "lazybad", "LAZY_MIGRATION", "postgres://sluice_no_such_role:pw@127.0.0.1:5432/test?sslmode=disable")
		e.req("POST", "/v1/connections/lazybad/migration/finish", key, nil).must(t, 202)
		var job store.MigrationJob
		waitFor(t, func() bool {
			var err error
			job, err = e.store.GetMigrationJob(t.Context(), tid, "lazybad")
			return err == nil && job.Status == store.JobFailed
		})
		st := e.req("GET", "/v1/connections/lazybad/migration", key, nil).must(t, 200)
		finish := st.json(t)["finish"].(map[string]any)
		if finish["error"] != "connector_error: the connector failed" || contains(st.body, "sluice_no_such_role") || contains(st.body, "SQLSTATE") {
			t.Fatalf("migration status %s", st.body)
		}
		entries, _ := e.store.ListAudit(t.Context(), tid, store.AuditQuery{Connection: "lazybad"})
		if len(entries) == 0 || entries[0].Action != "finishMigration" || !strings.Contains(entries[0].Detail, "sluice_no_such_role") {
			t.Fatalf("audit %+v, want the finishMigration failure in full", entries)
		}
	})
}

// TestMongoFailureHidesServerInternals: FerretDB answers an update to a
// taken email with an InternalError naming its own source files and
// functions; the user flow answers the code and a plain message, and
// debug shows what the server said.
func TestMongoFailureHidesServerInternals(t *testing.T) {
	ctx := t.Context()
	client, err := mongo.Connect(options.Client().ApplyURI(os.Getenv("SLUICE_TEST_MONGO_URI")).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	dbName := fmt.Sprintf("sluice_vocab_%d", time.Now().UnixNano())
	db := client.Database(dbName)
	t.Cleanup(func() { db.Drop(context.Background()) })
	users := db.Collection("users")
	if _, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{Keys: bson.D{{Key: "email", Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)}); err != nil {
		t.Fatalf("no MongoDB-wire server (SLUICE_TEST_MONGO_URI): %v", err)
	}
	var ids []string
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		res, err := users.InsertOne(ctx, bson.D{{Key: "email", Value: email}, {Key: "created_at", Value: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.InsertedID.(bson.ObjectID).Hex())
	}

	e := newEnv(t, sqliteSpec(t))
	tid, key := e.newTenant("mongo-internals")
	e.grantLoopback(tid)
	e.req("PUT", "/v1/connections/mg", key, map[string]any{
		"mode": "CUSTOM_USER_STORE", "dbType": "mongodb", "connection": map[string]any{"uri": "mongodb://127.0.0.1:27017/" + dbName},
		"egressAllowlist": []string{"127.0.0.1:27017"},
	}).must(t, 201)
	e.upload(key, "mg", wasmbuild.Test(t, "../examples/mongodb"), "").must(t, 201)

	r := e.req("PATCH", "/v1/connections/mg/users/"+ids[0], key, map[string]any{"email": "bob@example.com"})
	plain := map[string]string{"user_exists": "the user already exists", "connector_error": "the connector failed"}
	code, msg := r.errorOf(t)
	if want, ok := plain[code]; !ok || msg != want {
		t.Fatalf("answer %d %s, want user_exists or connector_error with a plain message", r.status, r.body)
	}
	for _, leak := range []string{".go:", "InternalError", "E11000", "db_error", "127.0.0.1"} {
		if contains(r.body, leak) {
			t.Errorf("answer leaks %q: %s", leak, r.body)
		}
	}
	d := e.req("POST", "/v1/connections/mg/debug", key, map[string]any{
		"function": "updateUser", "input": map[string]any{"id": ids[0], "updates": map[string]any{"email": "bob@example.com"}},
	}).must(t, 200).json(t)
	er := d["error"].(map[string]any)
	if er["code"] != code || er["message"] == msg {
		t.Fatalf("debug error %v, want %s with the server's message", er, code)
	}
	t.Logf("the tenant sees: %s", er["message"])
}
