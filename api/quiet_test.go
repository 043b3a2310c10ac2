package api_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/testpg"
)

// hostCalls reads sluice_host_calls_total{kind,outcome}.
func (e *env) hostCalls(kind, outcome string) int {
	e.t.Helper()
	r := e.req("GET", "/metrics", "", nil).must(e.t, 200)
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, "sluice_host_calls_total{") && strings.Contains(line, `kind="`+kind+`"`) && strings.Contains(line, `outcome="`+outcome+`"`) {
			n, _ := strconv.Atoi(line[strings.LastIndexByte(line, ' ')+1:])
			return n
		}
	}
	return 0
}

// The user flows do not show logs or traces, so their calls keep
// neither; the host calls they make are still counted, and the debug
// route still answers its trace.
func TestQuietFlowCallsCountHostCalls(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.legacyConn(key, "users", "CUSTOM_USER_STORE", testpg.LegacyUsers(t, 3))

	before := e.hostCalls("sql", "ok")
	for _, path := range []string{"/v1/connections/users/users/2", "/v1/connections/users/users?page=1&limit=2"} {
		e.req("GET", path, key, nil).must(t, 200)
	}
	flows := e.hostCalls("sql", "ok") - before
	if flows < 2 {
		t.Fatalf("user-flow calls counted %d sql host calls, want at least 2", flows)
	}

	d := e.req("POST", "/v1/connections/users/debug", key, `{"function":"getUser","input":{"query":{"email":"user1@legacy.example.com"}}}`).must(t, 200).json(t)
	hc, _ := d["hostCalls"].([]any)
	if d["ok"] != true || len(hc) == 0 || hc[0].(map[string]any)["kind"] != "sql" {
		t.Fatalf("debug answer %v", d)
	}
	if got := e.hostCalls("sql", "ok") - before - flows; got != len(hc) {
		t.Fatalf("the debug call counted %d host calls, its trace has %d", got, len(hc))
	}
}
