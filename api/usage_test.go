package api_test

import (
	"testing"
)

// TestUsage: the operator's usage route counts a tenant's calls, its
// errors by code and its quota rejections, and nothing of another
// tenant's; it needs the operator token and a known tenant.
func TestUsage(t *testing.T) {
	probe := probeWasm(t)
	e := newEnv(t, sqliteSpec(t))
	tid, key := e.setup("acme", "c", probe)
	other, otherKey := e.setup("other", "c", probe)
	e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"callsPerMinute": 4}).must(t, 200)

	getUser := map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"id": "1"}}}
	e.req("POST", "/v1/connections/c/debug", key, getUser).must(t, 200)
	e.req("POST", "/v1/connections/c/debug", key, getUser).must(t, 200)
	// The probe's login refuses any password but "secret".
	e.req("POST", "/v1/connections/c/debug", key, map[string]any{"function": "login", "input": map[string]any{"query": map[string]any{"email": "a@example.com"}, "password": "x"}}).must(t, 200)
	e.req("POST", "/v1/connections/c/debug", key, getUser).must(t, 200)
	e.req("POST", "/v1/connections/c/debug", key, getUser).must(t, 429) // the fifth call this minute
	e.req("POST", "/v1/connections/c/debug", otherKey, getUser).must(t, 200)

	u := e.req("GET", "/v1/admin/tenants/"+tid+"/usage", operatorToken, nil).must(t, 200).json(t)
	if u["tenant"] != tid || u["windowSeconds"] != float64(3600) || u["since"] == "" {
		t.Errorf("usage header: %v", u)
	}
	if u["calls"] != float64(4) {
		t.Errorf("calls = %v, want 4", u["calls"])
	}
	fns, _ := u["functions"].(map[string]any)
	if fns["getUser"] != float64(3) || fns["login"] != float64(1) {
		t.Errorf("functions = %v, want getUser 3, login 1", fns)
	}
	if errs, _ := u["errors"].(map[string]any); errs["wrong_password"] != float64(1) || len(errs) != 1 {
		t.Errorf("errors = %v, want wrong_password: 1", errs)
	}
	if rej, _ := u["quotaRejections"].(map[string]any); rej["rate"] != float64(1) || len(rej) != 1 {
		t.Errorf("quotaRejections = %v, want rate: 1", rej)
	}
	if o := e.req("GET", "/v1/admin/tenants/"+other+"/usage", operatorToken, nil).must(t, 200).json(t); o["calls"] != float64(1) {
		t.Errorf("the other tenant's calls = %v, want 1", o["calls"])
	}

	for _, tc := range []struct {
		name, path, token string
		status            int
		code              string
	}{
		{"tenant key", "/v1/admin/tenants/" + tid + "/usage", key, 401, "unauthorized"},
		{"no token", "/v1/admin/tenants/" + tid + "/usage", "", 401, "unauthorized"},
		{"unknown tenant", "/v1/admin/tenants/tn_nope/usage", operatorToken, 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.req("GET", tc.path, tc.token, nil)
			if r.status != tc.status || r.errCode(t) != tc.code {
				t.Errorf("%d %s, want %d %s", r.status, r.body, tc.status, tc.code)
			}
		})
	}
}
