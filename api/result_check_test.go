package api_test

import (
	"testing"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestDebugWarnsOfRefusedResults: a result the user-flow routes refuse
// with 502 connector_error passes the debug route (ok, the console shows
// it) with a "warning" holding the message the routes' check gives
// (userflow.CheckResult, as `sluice call` reports it).
func TestDebugWarnsOfRefusedResults(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	_, key := e.flowConn("acme", "echo", "CUSTOM_USER_STORE", wasmbuild.Test(t, "../cmd/sluice/testdata/echo"))
	for _, tc := range []struct {
		name   string
		result string // what the connector's login answers
		status int    // of the user-flow login
		want   string // the warning's message ("": none)
	}{
		{"a user", `{"id":"u1","email":"a@example.com"}`, 200, ""},
		{"without id", `{"email":"a@example.com"}`, 502, `login returned a user without an "id"`},
		{"numeric id", `{"id":42,"email":"a@example.com"}`, 502, `login returned "id" as a JSON number, want string`},
		{"id in a list", `{"id":["u1"]}`, 502, `login returned "id" as a JSON array, want string`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The echo connector answers a password that is a JSON object.
			r := e.req("POST", "/v1/connections/echo/login", key, map[string]any{"username": "u", "password": tc.result}).must(t, tc.status)
			if tc.status != 200 && r.errCode(t) != "connector_error" {
				t.Fatalf("login: %s", r.body)
			}
			d := e.req("POST", "/v1/connections/echo/debug", key, map[string]any{
				"function": "login", "input": map[string]any{"query": map[string]any{"username": "u"}, "password": tc.result},
			}).must(t, 200).json(t)
			if d["ok"] != true || d["result"] == nil {
				t.Fatalf("debug: %v", d)
			}
			w, _ := d["warning"].(map[string]any)
			switch {
			case tc.want == "" && w != nil:
				t.Errorf("debug warns of a good result: %v", w)
			case tc.want != "" && (w == nil || w["code"] != "connector_error" || w["message"] != tc.want):
				t.Errorf("debug warning %v, want connector_error %q", w, tc.want)
			}
		})
	}
}
