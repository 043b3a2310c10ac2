package api_test

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/testpg"
)

// uploadJS sends a script and returns the answer.
func (e *env) uploadJS(key, conn string, src []byte, query string) *resp {
	e.t.Helper()
	return e.req("POST", "/v1/connections/"+conn+"/versions"+query, key, src, "Content-Type", "application/javascript")
}

// seedPG makes a schema holding testdata/js/seed-postgres.sql's users
// table with one user, ada (password testpg.Password), and returns its URI.
func seedPG(t *testing.T) string {
	t.Helper()
	uri := testpg.Schema(t, "jsseed")
	db, err := sql.Open("pgx", uri)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ddl, err := os.ReadFile("testdata/js/seed-postgres.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(ddl)); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO users (email, username, phone, password, nickname) VALUES ('ada@example.com', 'ada', '+15550001', $1, 'Ada')`, testpg.Hash()); err != nil {
		t.Fatal(err)
	}
	return uri
}

func (e *env) jsConn(key, name, mode, uri string, script []byte) *resp {
	e.t.Helper()
	e.req("PUT", "/v1/connections/"+name, key, map[string]any{
		"mode": mode, "dbType": "postgres", "connection": map[string]any{"uri": uri},
		"egressAllowlist": []string{"127.0.0.1:5432"},
	}).must(e.t, 201)
	return e.uploadJS(key, name, script, "")
}

// TestSeedPostgresTemplate runs the seed product's PostgreSQL template,
// unchanged, in both modes over the HTTP API against real PostgreSQL.
func TestSeedPostgresTemplate(t *testing.T) {
	script, err := os.ReadFile("testdata/js/seed-postgres.js")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)

	t.Run("LAZY_MIGRATION", func(t *testing.T) {
		uri := seedPG(t)
		up := e.jsConn(key, "lazy", "LAZY_MIGRATION", uri, script).must(t, 201).json(t)
		if fns := up["functions"].([]any); len(fns) != 8 || up["active"] != true || len(up["missingForMode"].([]any)) != 0 {
			t.Fatalf("upload %v", up)
		}
		base := "/v1/connections/lazy"
		login := func(account, pw string) *resp {
			return e.req("POST", base+"/login", key, map[string]any{"account": account, "password": pw})
		}
		if c := login("ada@example.com", "wrong").must(t, 401).errCode(t); c != "wrong_password" {
			t.Fatalf("wrong password: %s", c)
		}
		login("nobody@example.com", "x").must(t, 401)
		// The debug route tells the two apart, as the script did.
		for pw, want := range map[string]string{"x": "user_not_found"} {
			d := e.req("POST", base+"/debug", key, map[string]any{"function": "login",
				"input": map[string]any{"query": map[string]any{"email": "nobody@example.com"}, "password": pw}}).must(t, 200).json(t)
			if d["ok"] != false || d["error"].(map[string]any)["code"] != want || len(d["hostCalls"].([]any)) != 1 {
				t.Fatalf("debug login of an unknown user: %v", d)
			}
		}
		first := login("ada@example.com", testpg.Password).must(t, 200).json(t)
		if first["source"] != "connector" || first["user"].(map[string]any)["nickname"] != "Ada" {
			t.Fatalf("first login %v", first)
		}
		if r := login("ada", testpg.Password).must(t, 200).json(t); r["source"] != "local" {
			t.Fatalf("second login %v", r)
		}
		e.req("POST", base+"/register", key, map[string]any{"username": "ada", "password": "longenough"}).must(t, 409)
		e.req("POST", base+"/register", key, map[string]any{"email": "new@example.com", "password": "longenough"}).must(t, 201)
	})

	t.Run("CUSTOM_USER_STORE", func(t *testing.T) {
		uri := seedPG(t)
		e.jsConn(key, "users", "CUSTOM_USER_STORE", uri, script).must(t, 201)
		base := "/v1/connections/users"
		r := e.req("POST", base+"/login", key, map[string]any{"username": "ada", "password": testpg.Password}).must(t, 200).json(t)
		if u := r["user"].(map[string]any); r["source"] != "connector" || u["email"] != "ada@example.com" || u["phone"] != "+15550001" {
			t.Fatalf("login %v", r)
		}
		e.req("POST", base+"/login", key, map[string]any{"username": "ada", "password": "nope"}).must(t, 401)
		e.req("POST", base+"/register", key, map[string]any{"email": "ada@example.com", "password": "longenough"}).must(t, 409)
		created := e.req("POST", base+"/register", key, map[string]any{"email": "erin@example.com", "username": "erin", "password": "longenough"}).must(t, 201).json(t)
		id := created["id"].(string)
		e.req("POST", base+"/login", key, map[string]any{"account": "erin@example.com", "password": "longenough"}).must(t, 200)
		if l := e.req("GET", base+"/users?page=1&limit=1", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 2 || len(l["list"].([]any)) != 1 {
			t.Fatalf("list %v", l)
		}
		if l := e.req("GET", base+"/users/search?keyword=erin", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 1 {
			t.Fatalf("search %v", l)
		}
		if u := e.req("GET", base+"/users/"+id, key, nil).must(t, 200).json(t); u["email"] != "erin@example.com" {
			t.Fatalf("get %v", u)
		}
		if u := e.req("PATCH", base+"/users/"+id, key, map[string]any{"nickname": "E", "password": "newpassword"}).must(t, 200).json(t); u["nickname"] != "E" {
			t.Fatalf("patch %v", u)
		}
		if v := e.req("POST", base+"/users/"+id+"/validate-password", key, map[string]any{"password": "newpassword"}).must(t, 200).json(t); v["valid"] != true {
			t.Fatalf("validate %v", v)
		}
		if v := e.req("POST", base+"/users/"+id+"/validate-password", key, map[string]any{"password": "longenough"}).must(t, 200).json(t); v["valid"] != false {
			t.Fatalf("validate the old password %v", v)
		}
		e.req("POST", base+"/users", key, map[string]any{"username": "erin", "password": "longenough"}).must(t, 409)
		e.req("DELETE", base+"/users/"+id, key, nil).must(t, 200)
		e.req("GET", base+"/users/"+id, key, nil).must(t, 404)
		if _, total, err := e.store.ListUsers(t.Context(), tenant, "users", 1, 100); err != nil || total != 0 {
			t.Fatalf("CUSTOM_USER_STORE kept %d users locally (%v)", total, err)
		}
	})
}

// TestScriptUploadValidation: a script that does not parse, or requires
// a module without a shim, is refused at upload saying where and what.
func TestScriptUploadValidation(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.newTenant("acme")
	e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
	for _, tc := range []struct {
		name, src string
		status    int
		code      string
		details   map[string]string
		message   string
	}{
		{"syntax", "async function login(query, password, context) {\n  const x = ;\n}\n", 400, "invalid_module",
			map[string]string{"line": "2", "column": "13"}, "syntax error at line 2, column 13"},
		{"module", "const fs = require('fs');\nasync function login(q, p, c) { return require('child_process'); }\n", 400, "invalid_module",
			map[string]string{"modules": "fs,child_process"}, "it provides axios, bcrypt, bcryptjs, crypto, mongodb, mysql, mysql2, mysql2/promise, node-fetch, pg"},
		{"no functions", "function hello() {}\n", 400, "invalid_module", nil, "defines none of the connector functions"},
		{"not text", "async function login() {}\x00", 400, "invalid_module", nil, "UTF-8 text without NUL"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.uploadJS(key, "c", []byte(tc.src), "").must(t, tc.status)
			m := r.json(t)["error"].(map[string]any)
			if m["code"] != tc.code || !strings.Contains(m["message"].(string), tc.message) {
				t.Fatalf("answer %s", r.body)
			}
			for k, v := range tc.details {
				if d, _ := m["details"].(map[string]any); d == nil || d[k] != v {
					t.Fatalf("details %v, want %s=%s", m["details"], k, v)
				}
			}
		})
	}
	// A partial script: the functions found, and what the mode lacks.
	r := e.uploadJS(key, "c", []byte("async function login(q, p, c) { throw new Error('User not exists!'); }\n"), "").must(t, 201).json(t)
	if fns := r["functions"].([]any); len(fns) != 1 || fns[0] != "login" || r["missingForMode"].([]any)[0] != "getUser" || r["active"] != false {
		t.Fatalf("partial upload %v", r)
	}
}
