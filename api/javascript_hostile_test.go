package api_test

import (
	"strings"
	"testing"
)

// TestHostileScripts: each hostile script ends with the right code,
// inside the wasm sandbox's limits (the engine's fuel, memory cap and
// deadline apply to goja as to any guest), and the neighbour tenant's
// script answers throughout.
func TestHostileScripts(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("hostile")
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken, map[string]any{"timeoutMs": 1000, "memoryMB": 64, "uploadsPerMinute": 100}).must(t, 200)
	// The memory cases fill 32 MiB first; the GC near the cap takes a
	// while on a busy machine: a tenant with a longer time limit.
	mtenant, mkey := e.newTenant("hostilemem")
	e.req("PUT", "/v1/admin/tenants/"+mtenant+"/quotas", operatorToken, map[string]any{"timeoutMs": 10000, "memoryMB": 32, "uploadsPerMinute": 100}).must(t, 200)
	_, nkey := e.newTenant("neighbour")
	e.req("PUT", "/v1/connections/n", nkey, pgConn("pw")).must(t, 201)
	e.uploadJS(nkey, "n", []byte(`async function login(q, p, c) { return { id: '1', nickname: String(({}).polluted) }; }
async function getUser(q, c) { return null; }`), "").must(t, 201)
	neighbour := func() {
		t.Helper()
		d := e.req("POST", "/v1/connections/n/debug", nkey, map[string]any{"function": "login",
			"input": map[string]any{"query": map[string]any{"email": "a@b.c"}, "password": "x"}}).must(t, 200).json(t)
		if d["ok"] != true || d["result"].(map[string]any)["nickname"] != "undefined" {
			t.Fatalf("the neighbour: %v", d)
		}
	}
	neighbour()
	// A literal require of an unsupported module is refused at upload.
	e.req("PUT", "/v1/connections/lit", key, pgConn("pw")).must(t, 201)
	if c := e.uploadJS(key, "lit", []byte("const cp = require('child_process');\nasync function login() { cp.exec('id'); }\n"), "").must(t, 400).errCode(t); c != "invalid_module" {
		t.Fatalf("upload requiring child_process: %s", c)
	}
	for i, tc := range []struct {
		name, body string
		code, msg  string
		mem        bool
	}{
		{"endless loop", `for (;;) {}`, "timeout", "time limit", false},
		{"while(true) in a promise chain", `return Promise.resolve(1).then(() => { while (true) {} });`, "timeout", "time limit", false},
		{"endless timers", `return new Promise(() => { const f = () => setTimeout(f, 0); f(); });`, "timeout", "time limit", false},
		{"a promise that never settles", `return new Promise(() => {});`, "connector_error", "never settled", false},
		{"huge string", `let s = 'x'; for (;;) s += s; `, "resource_exhausted", "memory", true},
		{"huge array", `const a = []; for (;;) a.push([a.length, 1, 2, 3, 4, 5, 6, 7]);`, "resource_exhausted", "memory", true},
		{"deep recursion", `function f(n) { return f(n + 1) + 1; } return f(0);`, "connector_error", "call stack", false},
		{"prototype pollution", `Object.prototype.polluted = 'yes'; Array.prototype.push = null; throw new Error('User not exists!');`, "user_not_found", "User not exists", false},
		{"eval", `return eval('for (;;) {}');`, "timeout", "time limit", false},
		{"Function", `return new Function('return require("child" + "_process")')();`, "connector_error", "Cannot find module 'child_process'", false},
		{"dynamic require of fs", `const m = 'f' + 's'; return require(m).readFileSync('/etc/passwd');`, "connector_error", "Cannot find module 'fs'", false},
		{"require of net", `return require('n' + 'et').connect(5432);`, "connector_error", "Cannot find module 'net'", false},
		{"process.exit", `process.exit(1);`, "connector_error", "process.exit is not available", false},
		{"globalThis tampering", `globalThis.__sluice = 1; delete globalThis.require; return require('f' + 's');`, "connector_error", "require is not defined", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, key := "h"+string(rune('a'+i)), key
			if tc.mem {
				key = mkey
			}
			e.req("PUT", "/v1/connections/"+conn, key, pgConn("pw")).must(t, 201)
			src := "async function login(query, password, context) {\n" + tc.body + "\n}\nasync function getUser(q, c) { return null; }\n"
			e.uploadJS(key, conn, []byte(src), "").must(t, 201)
			d := e.req("POST", "/v1/connections/"+conn+"/debug", key, map[string]any{"function": "login",
				"input": map[string]any{"query": map[string]any{"email": "a@b.c"}, "password": "x"}}).must(t, 200).json(t)
			er, _ := d["error"].(map[string]any)
			if d["ok"] != false || er["code"] != tc.code || !strings.Contains(er["message"].(string), tc.msg) {
				t.Fatalf("want %s (%q), got %v", tc.code, tc.msg, d)
			}
			neighbour()
		})
	}
}
