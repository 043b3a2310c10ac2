package api_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/internal/testpg"
)

// getUser1 is a debug call of getUser for a seeded legacy user.
var getUser1 = map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"email": "user1@legacy.example.com"}}}

// debugEgress runs getUser1 on conn and returns the answer's error code
// ("" on success), the user's nickname and whether the trace shows a
// denied host call (Denied: the host call answered egress_denied).
//
// The connector passes the host call's error on; the host's code
// reaches the API unchanged (an older engine answered connector_error
// "egress_denied: ...", which still counts here).
func (e *env) debugEgress(key, conn string) (code, nickname string, denied bool) {
	e.t.Helper()
	d := e.req("POST", "/v1/connections/"+conn+"/debug", key, getUser1).must(e.t, 200).json(e.t)
	for _, hc := range d["hostCalls"].([]any) {
		if hc.(map[string]any)["denied"] == true {
			denied = true
		}
	}
	if d["ok"] == true {
		user, _ := d["result"].(map[string]any)
		nickname, _ = user["nickname"].(string)
		return "", nickname, denied
	}
	er := d["error"].(map[string]any)
	code, msg := er["code"].(string), er["message"].(string)
	if code == "connector_error" && strings.HasPrefix(msg, "egress_denied: ") {
		code = "egress_denied"
	}
	return code, "", denied
}

// TestPrivateNetworkGrants: through the real API, tenants' connections
// to the test PostgreSQL on 127.0.0.1 are refused unless the tenant's
// private-network grant names loopback; the grant is the operator's,
// per tenant, and a change applies to the next call.
func TestPrivateNetworkGrants(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	e := newEnv(t, sqliteSpec(t))
	tenant := func(name string, quotas map[string]any) (id, key string) {
		id, key = e.newTenant(name)
		if quotas != nil {
			e.req("PUT", "/v1/admin/tenants/"+id+"/quotas", operatorToken, quotas).must(t, 200)
		}
		e.legacyConn(key, "legacy", "CUSTOM_USER_STORE", uri)
		return id, key
	}
	_, keyA := tenant("a-no-grant", nil)
	idB, keyB := tenant("b-loopback", map[string]any{"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"}})
	_, keyC := tenant("c-ten-net", map[string]any{"allowPrivateNetworks": true, "privateNetworks": []string{"10.0.0.0/8"}})
	_, keyD := tenant("d-every-range", map[string]any{"allowPrivateNetworks": true})
	_, keyE := tenant("e-networks-only", map[string]any{"privateNetworks": []string{"127.0.0.1/32"}})

	for _, tc := range []struct{ name, key string }{
		{"no grant", keyA},
		{"grant of 10.0.0.0/8", keyC},
		{"grant of every private range", keyD},
		{"networks without allowPrivateNetworks", keyE},
	} {
		code, _, denied := e.debugEgress(tc.key, "legacy")
		if code != "egress_denied" || !denied {
			t.Errorf("%s: code %q, denied trace %v; want egress_denied with a denied host call", tc.name, code, denied)
		}
	}
	// The API's user flows answer the same refusal (502), its code
	// without the address: the detail is the tenant's (debug above).
	r := e.req("POST", "/v1/connections/legacy/login", keyA, map[string]any{"username": "user1", "password": testpg.Password}).must(t, 502)
	if r.errCode(t) != "egress_denied" || contains(r.body, "127.0.0.1") {
		t.Errorf("login without a grant: %s", r.body)
	}

	code, nick, denied := e.debugEgress(keyB, "legacy")
	if code != "" || nick != "User 1" || denied {
		t.Fatalf("tenant granted 127.0.0.1/32: code %q, nickname %q, denied %v", code, nick, denied)
	}

	// Revoking the grant closes loopback at the next call, although the
	// tenant's pool holds an open connection.
	e.req("PUT", "/v1/admin/tenants/"+idB+"/quotas", operatorToken, map[string]any{"allowPrivateNetworks": false}).must(t, 200)
	if code, _, denied := e.debugEgress(keyB, "legacy"); code != "egress_denied" || !denied {
		t.Errorf("after the grant was revoked: code %q, denied %v", code, denied)
	}
	q := e.req("GET", "/v1/admin/tenants/"+idB+"/quotas", operatorToken, nil).must(t, 200).json(t)
	if q["allowPrivateNetworks"] != false || len(q["privateNetworks"].([]any)) != 1 {
		t.Errorf("quotas after revoking: %v", q)
	}
	e.req("PUT", "/v1/admin/tenants/"+idB+"/quotas", operatorToken, map[string]any{"allowPrivateNetworks": true}).must(t, 200)
	if code, nick, _ := e.debugEgress(keyB, "legacy"); code != "" || nick != "User 1" {
		t.Errorf("after the grant was given back: code %q, nickname %q", code, nick)
	}
}

// TestPrivateNetworksStoreAddress: with the store on the test PostgreSQL
// (127.0.0.1:5432) and its address protected as serve does, a grant of
// 127.0.0.0/8 does not reach it; only one naming the store's address
// exactly does.
func TestPrivateNetworksStoreAddress(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	spec := postgresSpec(t)
	u, err := url.Parse(spec.cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	protected, err := egress.ProtectHosts(context.Background(), nil, "the control-plane store's address", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	if host, _, _ := net.SplitHostPort(u.Host); host != "127.0.0.1" {
		t.Skipf("the test PostgreSQL is at %s, not 127.0.0.1", u.Host)
	}
	e := newEnv(t, spec, func(c *envConfig) { c.hosts.Egress.Protected = protected })
	try := func(name string, networks ...string) (code string, msg string) {
		id, key := e.newTenant(name)
		e.req("PUT", "/v1/admin/tenants/"+id+"/quotas", operatorToken, map[string]any{"allowPrivateNetworks": true, "privateNetworks": networks}).must(t, 200)
		e.legacyConn(key, "legacy", "CUSTOM_USER_STORE", uri)
		d := e.req("POST", "/v1/connections/legacy/debug", key, getUser1).must(t, 200).json(t)
		if d["ok"] == true {
			return "", ""
		}
		er := d["error"].(map[string]any)
		return er["code"].(string), er["message"].(string)
	}
	if code, msg := try("loopback-block", "127.0.0.0/8"); !strings.Contains(msg, "egress_denied") && code != "egress_denied" || !strings.Contains(msg, "the control-plane store's address") {
		t.Errorf("grant of 127.0.0.0/8: %q %q, want egress_denied naming the store", code, msg)
	}
	if code, msg := try("store-named", "127.0.0.1:5432"); code != "" {
		t.Errorf("grant naming 127.0.0.1:5432: %q %q", code, msg)
	}
}

// TestQuotasPrivateNetworksValidation: bad grants are invalid_input
// naming the entry and what is wrong; good ones are stored as given.
func TestQuotasPrivateNetworksValidation(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	id, _ := e.newTenant("acme")
	path := "/v1/admin/tenants/" + id + "/quotas"
	bad := []struct {
		body map[string]any
		msg  string
	}{
		{map[string]any{"privateNetworks": []string{"10.0.0.0/8", "db.internal:5432"}},
			`privateNetworks[1]: "db.internal:5432" is a host name; give an address or a network (CIDR), optionally with :port`},
		{map[string]any{"privateNetworks": []string{"10.0.0.1/8"}}, `privateNetworks[0]: "10.0.0.1/8" is invalid: host bits are set; did you mean 10.0.0.0/8?`},
		{map[string]any{"privateNetworks": []string{""}}, `privateNetworks[0]: "" is empty`},
		{map[string]any{"privateNetworks": []string{"10.0.0.1:99999"}}, `privateNetworks[0]: "10.0.0.1:99999" is invalid: port "99999" is not a number from 1 to 65535`},
		{map[string]any{"privateNetworks": make([]string, 257)}, `privateNetworks: has 257 entries, more than 256`},
		{map[string]any{"allowPrivateNetworks": "yes"}, "allowPrivateNetworks"},
		{map[string]any{"cpuMsPerMinute": -1}, "cpuMsPerMinute: must be between 0 (unlimited) and 61440000 milliseconds of CPU time per minute, got -1"},
		{map[string]any{"cpuMsPerMinute": 61440001}, "cpuMsPerMinute: must be between 0"},
	}
	for _, tc := range bad {
		r := e.req("PUT", path, operatorToken, tc.body).must(t, 400)
		if r.errCode(t) != "invalid_input" || !strings.Contains(r.json(t)["error"].(map[string]any)["message"].(string), tc.msg) {
			t.Errorf("PUT %v: %s, want invalid_input with %q", tc.body, r.body, tc.msg)
		}
	}
	q := e.req("GET", path, operatorToken, nil).must(t, 200).json(t)
	if q["allowPrivateNetworks"] != false || len(q["privateNetworks"].([]any)) != 0 || q["cpuMsPerMinute"].(float64) != 0 {
		t.Errorf("defaults after refused updates: %v", q)
	}

	q = e.req("PUT", path, operatorToken, map[string]any{
		"allowPrivateNetworks": true, "privateNetworks": []string{"10.0.0.0/8", "[fd00::1]:5432", "127.0.0.1:5432"}, "cpuMsPerMinute": 1500,
	}).must(t, 200).json(t)
	if q["allowPrivateNetworks"] != true || len(q["privateNetworks"].([]any)) != 3 || q["cpuMsPerMinute"].(float64) != 1500 {
		t.Errorf("updated quotas: %v", q)
	}
	// Other fields leave the list alone; a new list replaces it; null empties it.
	q = e.req("PUT", path, operatorToken, map[string]any{"timeoutMs": 900}).must(t, 200).json(t)
	if len(q["privateNetworks"].([]any)) != 3 {
		t.Errorf("privateNetworks after another field changed: %v", q["privateNetworks"])
	}
	q = e.req("PUT", path, operatorToken, map[string]any{"privateNetworks": []string{"192.168.0.0/16"}}).must(t, 200).json(t)
	if nets := q["privateNetworks"].([]any); len(nets) != 1 || nets[0] != "192.168.0.0/16" {
		t.Errorf("privateNetworks replaced: %v", nets)
	}
	q = e.req("PUT", path, operatorToken, `{"privateNetworks": null}`).must(t, 200).json(t)
	if nets := q["privateNetworks"].([]any); len(nets) != 0 {
		t.Errorf("privateNetworks after null: %v", nets)
	}
	ts := e.req("GET", "/v1/admin/tenants", operatorToken, nil).must(t, 200).json(t)["tenants"].([]any)
	if tq := ts[0].(map[string]any)["quotas"].(map[string]any); tq["cpuMsPerMinute"].(float64) != 1500 || tq["allowPrivateNetworks"] != true {
		t.Errorf("tenant list quotas: %v", tq)
	}
}
