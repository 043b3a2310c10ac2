package api_test

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestPlainEnvValues: env values are secrets unless marked plain; plain
// ones are shown as they are, secrets stay masked and are kept when sent
// back masked or without a value, and the connector sees both.
func TestPlainEnvValues(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tid, key := e.newTenant("acme")
		withEnv := func(env map[string]any) map[string]any {
			cfg := pgConn("pw")
			cfg["env"] = env
			return cfg
		}
		envOf := func(r *resp) string {
			t.Helper()
			b, _ := json.Marshal(r.json(t)["env"])
			return string(b)
		}
		const shown = `{"API_KEY":"********","REGION":"********","TABLE":{"secret":false,"value":"users"}}`
		r := e.req("PUT", "/v1/connections/c", key, withEnv(map[string]any{
			"TABLE":   map[string]any{"value": "users", "secret": false},
			"API_KEY": "s3cret",
			"REGION":  map[string]any{"value": "eu"}, // secret by default
		})).must(t, 201)
		if got := envOf(r); got != shown {
			t.Fatalf("saved env %s, want %s", got, shown)
		}
		if got := envOf(e.req("GET", "/v1/connections/c", key, nil).must(t, 200)); got != shown {
			t.Fatalf("GET env %s", got)
		}
		list := e.req("GET", "/v1/connections", key, nil).must(t, 200).json(t)["connections"].([]any)
		if b, _ := json.Marshal(list[0].(map[string]any)["env"]); string(b) != shown {
			t.Fatalf("list env %s", b)
		}

		// The connector sees every value.
		e.upload(key, "c", noLoginWasm(t), "?force=true").must(t, 201)
		seen := func() string {
			t.Helper()
			d := e.req("POST", "/v1/connections/c/debug", key, map[string]any{
				"function": "getUser", "input": map[string]any{"query": map[string]any{"username": "TABLE,API_KEY,REGION"}},
			}).must(t, 200).json(t)
			if d["ok"] != true {
				t.Fatalf("debug: %v", d)
			}
			b, _ := json.Marshal(d["result"].(map[string]any)["customData"])
			return string(b)
		}
		if got := seen(); got != `{"API_KEY":"s3cret","REGION":"eu","TABLE":"users"}` {
			t.Fatalf("connector env %s", got)
		}

		// What GET showed, saved back, changes nothing.
		back := e.req("GET", "/v1/connections/c", key, nil).must(t, 200).json(t)
		for _, k := range []string{"name", "activeVersion", "configVersion", "createdAt", "updatedAt"} {
			delete(back, k)
		}
		if got := envOf(e.req("PUT", "/v1/connections/c", key, back).must(t, 200)); got != shown {
			t.Fatalf("env after saving back %s", got)
		}
		stored, err := e.store.GetConnection(t.Context(), tid, "c")
		if err != nil || stored.Env["API_KEY"] != "s3cret" || stored.Env["REGION"] != "eu" || stored.Env["TABLE"] != "users" || fmt.Sprint(stored.PlainEnv) != "[TABLE]" {
			t.Fatalf("stored after saving back: %v %v %v", stored.Env, stored.PlainEnv, err)
		}

		// A value left out keeps the stored one, secret or plain.
		e.req("PUT", "/v1/connections/c", key, withEnv(map[string]any{
			"TABLE": map[string]any{"secret": false}, "API_KEY": map[string]any{"secret": true}, "REGION": map[string]any{},
		})).must(t, 200)
		if got := seen(); got != `{"API_KEY":"s3cret","REGION":"eu","TABLE":"users"}` {
			t.Fatalf("connector env after values left out %s", got)
		}

		for _, tc := range []struct {
			name string
			env  map[string]any
		}{
			{"secret made plain without its value", map[string]any{"API_KEY": map[string]any{"secret": false}}},
			{"secret made plain with the mask", map[string]any{"API_KEY": map[string]any{"value": "********", "secret": false}}},
			{"new secret without a value", map[string]any{"NEW": map[string]any{"secret": true}}},
			{"new plain without a value", map[string]any{"NEW": map[string]any{"secret": false}}},
			{"number", map[string]any{"TABLE": 42}},
			{"null", map[string]any{"TABLE": nil}},
			{"unknown field", map[string]any{"TABLE": map[string]any{"value": "users", "plain": true}}},
			{"value not a string", map[string]any{"TABLE": map[string]any{"value": 1}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.req("PUT", "/v1/connections/c", key, withEnv(tc.env)).must(t, 400)
				if code := r.errCode(t); code != "invalid_input" {
					t.Fatalf("code %s", code)
				}
			})
		}
		if got := seen(); got != `{"API_KEY":"s3cret","REGION":"eu","TABLE":"users"}` {
			t.Fatalf("a refused save changed the env: %s", got)
		}

		// A secret made plain with its value is shown; a plain value made
		// secret is masked.
		r = e.req("PUT", "/v1/connections/c", key, withEnv(map[string]any{
			"API_KEY": map[string]any{"value": "s3cret", "secret": false}, "TABLE": "accounts",
		})).must(t, 200)
		if got := envOf(r); got != `{"API_KEY":{"secret":false,"value":"s3cret"},"TABLE":"********"}` {
			t.Fatalf("env after flipping %s", got)
		}
		if got := seen(); got != `{"API_KEY":"s3cret","TABLE":"accounts"}` {
			t.Fatalf("connector env after flipping %s", got)
		}
	})
}
