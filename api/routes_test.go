package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/api"
)

// TestRoutes walks every route through the real router on both stores.
func TestRoutes(t *testing.T) {
	static, probe := staticWasm(t), probeWasm(t)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)

		// Public routes.
		e.req("GET", "/healthz", "", nil).must(t, 200)
		e.req("GET", "/readyz", "", nil).must(t, 200)
		ips := e.req("GET", "/api/system/public-ips", "", nil).must(t, 200).json(t)
		if got := ips["ips"].([]any); len(got) != 2 || got[0] != "203.0.113.7" {
			t.Errorf("public ips: %v", got)
		}
		doc := e.req("GET", "/openapi.json", "", nil).must(t, 200).json(t)
		if doc["openapi"] != "3.0.3" {
			t.Errorf("openapi.json: %v", doc["openapi"])
		}

		// Operator routes.
		e.req("GET", "/v1/admin/tenants", "", nil).must(t, 401)
		e.req("GET", "/v1/admin/tenants", "wrong", nil).must(t, 401)
		created := e.req("POST", "/v1/admin/tenants", operatorToken, map[string]any{"name": "acme"}).must(t, 201).json(t)
		tid, key := created["id"].(string), created["apiKey"].(string)
		if !strings.HasPrefix(key, "sk_") || created["name"] != "acme" {
			t.Fatalf("created tenant: %v", created)
		}
		list := e.req("GET", "/v1/admin/tenants", operatorToken, nil).must(t, 200)
		if strings.Contains(string(list.body), key) {
			t.Error("tenant list shows the API key")
		}
		if n := len(list.json(t)["tenants"].([]any)); n != 1 {
			t.Errorf("%d tenants, want 1", n)
		}
		q := e.req("GET", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, nil).must(t, 200).json(t)
		if q["maxConcurrency"].(float64) < 1 {
			t.Errorf("quotas: %v", q)
		}
		q = e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"maxConcurrency": 3, "timeoutMs": 4000}).must(t, 200).json(t)
		if q["maxConcurrency"].(float64) != 3 || q["timeoutMs"].(float64) != 4000 || q["memoryMB"].(float64) < 1 {
			t.Errorf("updated quotas: %v", q)
		}
		e.req("GET", "/v1/admin/tenants/tn_nope/quotas", operatorToken, nil).must(t, 404)
		e.req("PUT", "/v1/admin/tenants/"+tid+"/quotas", operatorToken, map[string]any{"memoryMB": 0}).must(t, 400)

		// Console: save.
		e.req("GET", "/v1/connections", "", nil).must(t, 401)
		e.req("GET", "/v1/connections", "sk_unknown", nil).must(t, 401)
		conn := pgConn("hunter2")
		conn["mode"] = "CUSTOM_USER_STORE"
		c := e.req("PUT", "/v1/connections/main", key, conn).must(t, 201).json(t)
		if c["configVersion"].(float64) != 1 || c["enabled"] != true || c["activeVersion"].(float64) != 0 {
			t.Errorf("saved: %v", c)
		}
		// Saving back what GET showed keeps the masked secrets.
		shown := e.req("GET", "/v1/connections/main", key, nil).must(t, 200).json(t)
		delete(shown, "name")
		for _, k := range []string{"activeVersion", "configVersion", "createdAt", "updatedAt"} {
			delete(shown, k)
		}
		c = e.req("PUT", "/v1/connections/main", key, shown).must(t, 200).json(t)
		if c["configVersion"].(float64) != 2 {
			t.Errorf("second save: %v", c)
		}
		stored, err := e.store.GetConnection(t.Context(), tid, "main")
		if err != nil || stored.Connection.Password != "hunter2" || stored.Env["API_TOKEN"] != "tok-hunter2" {
			t.Errorf("masked secrets saved back changed the stored ones: %+v %v", stored.Connection, err)
		}
		conns := e.req("GET", "/v1/connections", key, nil).must(t, 200).json(t)["connections"].([]any)
		if len(conns) != 1 {
			t.Fatalf("connections: %v", conns)
		}

		// Debug before any upload.
		// Debug before any upload: the seed, which implements nothing.
		if er, _ := e.req("POST", "/v1/connections/main/debug", key, map[string]any{"function": "login", "input": map[string]any{}}).must(t, 200).json(t)["error"].(map[string]any); er["code"] != "not_implemented" {
			t.Errorf("debug before an upload: %v", er)
		}

		// Upload: the first version is activated.
		v := e.upload(key, "main", static, "").must(t, 201).json(t)
		if v["version"].(float64) != 1 || len(v["functions"].([]any)) != 8 || len(v["missingForMode"].([]any)) != 0 || v["active"] != true {
			t.Errorf("upload: %v", v)
		}
		v = e.upload(key, "main", probe, "").must(t, 201).json(t)
		if v["version"].(float64) != 2 || v["active"] != false || len(v["missingForMode"].([]any)) != 6 {
			t.Errorf("second upload: %v", v)
		}
		vl := e.req("GET", "/v1/connections/main/versions", key, nil).must(t, 200).json(t)
		if vl["activeVersion"].(float64) != 1 || len(vl["versions"].([]any)) != 2 {
			t.Errorf("versions: %v", vl)
		}

		// Debug and test on version 1.
		d := e.req("POST", "/v1/connections/main/debug", key, map[string]any{
			"function": "login", "input": map[string]any{"query": map[string]any{"email": "alice@example.com"}, "password": "wonderland"},
		}).must(t, 200).json(t)
		if d["ok"] != true || d["result"].(map[string]any)["id"] != "1" {
			t.Errorf("debug login: %v", d)
		}
		d = e.req("POST", "/v1/connections/main/debug", key, map[string]any{
			"function": "login", "input": map[string]any{"query": map[string]any{"email": "alice@example.com"}, "password": "nope"},
		}).must(t, 200).json(t)
		if d["ok"] != false || d["error"].(map[string]any)["code"] != "wrong_password" {
			t.Errorf("debug wrong password: %v", d)
		}
		d = e.req("POST", "/v1/connections/main/test", key, map[string]any{"account": "alice", "password": "wonderland"}).must(t, 200).json(t)
		if d["ok"] != true || d["result"].(map[string]any)["email"] != "alice@example.com" {
			t.Errorf("test: %v", d)
		}
		d = e.req("POST", "/v1/connections/main/test", key, map[string]any{"account": "bob@example.com", "password": "x"}).must(t, 200).json(t)
		if d["ok"] != false || d["error"].(map[string]any)["code"] != "wrong_password" {
			t.Errorf("test wrong password: %v", d)
		}

		// A named version; the context reaches the connector.
		d = e.req("POST", "/v1/connections/main/debug", key, map[string]any{
			"function": "login", "version": 2, "input": map[string]any{"query": map[string]any{"email": "x@y"}, "password": "secret"},
		}, "X-Request-ID", "req-42").must(t, 200).json(t)
		logs, _ := json.Marshal(d["logs"])
		if d["ok"] != true || !strings.Contains(string(logs), "tenant="+tid) || !strings.Contains(string(logs), "requestId=req-42") {
			t.Errorf("debug of version 2: %v", d)
		}
		e.req("POST", "/v1/connections/main/debug", key, map[string]any{"function": "login", "version": 9}).must(t, 404)

		// Activate version 2: it cannot serve CUSTOM_USER_STORE, so only
		// when forced; searchUser is not implemented there.
		if code := e.req("POST", "/v1/connections/main/versions/2/activate", key, nil).must(t, 409).errCode(t); code != "mode_not_satisfied" {
			t.Errorf("code %s", code)
		}
		a := e.req("POST", "/v1/connections/main/versions/2/activate?force=true", key, nil).must(t, 200).json(t)
		if a["activeVersion"].(float64) != 2 {
			t.Errorf("activate: %v", a)
		}
		d = e.req("POST", "/v1/connections/main/debug", key, map[string]any{"function": "searchUser", "input": map[string]any{"keyword": "a"}}).must(t, 200).json(t)
		if d["ok"] != false || d["error"].(map[string]any)["message"] != "Please implement the SearchUser script for this database connection" {
			t.Errorf("not implemented: %v", d)
		}
		// Roll back.
		e.req("POST", "/v1/connections/main/versions/1/activate", key, nil).must(t, 200)
		d = e.req("POST", "/v1/connections/main/debug", key, map[string]any{"function": "searchUser", "input": map[string]any{"keyword": "alice", "page": 1, "limit": 10}}).must(t, 200).json(t)
		if d["ok"] != true || d["result"].(map[string]any)["totalCount"].(float64) != 1 {
			t.Errorf("after rollback: %v", d)
		}
		e.req("POST", "/v1/connections/main/versions/7/activate", key, nil).must(t, 404)
		e.req("POST", "/v1/connections/main/versions/x/activate", key, nil).must(t, 404)

		// Metrics saw the calls.
		m := e.req("GET", "/metrics", "", nil).must(t, 200)
		for _, want := range []string{`sluice_calls_total{function="login",outcome="ok",tenant="` + tid + `"}`, `outcome="wrong_password"`, "sluice_engine_pools", `sluice_engine_instance_rate_waits_total{outcome="timeout"}`, "sluice_call_duration_seconds_bucket", "sluice_http_requests_total"} {
			if !strings.Contains(string(m.body), want) {
				t.Errorf("metrics lack %s", want)
			}
		}

		// Delete.
		e.req("DELETE", "/v1/connections/main", key, nil).must(t, 204)
		e.req("GET", "/v1/connections/main", key, nil).must(t, 404)
		e.req("DELETE", "/v1/connections/main", key, nil).must(t, 404)
		e.req("GET", "/v1/connections/main/versions", key, nil).must(t, 404)
	})
}

// TestOpenAPICoversRoutes: every route the router has is documented, and
// every documented operation exists.
func TestOpenAPICoversRoutes(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	doc, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+path] = true
		}
	}
	routed := map[string]bool{}
	for _, r := range e.srv.Handler().Routes() {
		if strings.HasSuffix(r.Path, "*") || strings.HasPrefix(r.Method, "echo_route") {
			continue // Echo's group fallbacks
		}
		if r.Path == "/" || r.Path == "/console" || strings.HasPrefix(r.Path, "/console/") {
			continue // the web console's pages (internal/console), not the API
		}
		path := r.Path
		for _, seg := range strings.Split(path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		routed[r.Method+" "+path] = true
	}
	var missing, extra []string
	for r := range routed {
		if !documented[r] {
			missing = append(missing, r)
		}
	}
	for d := range documented {
		if !routed[d] {
			extra = append(extra, d)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) > 0 || len(extra) > 0 {
		t.Errorf("routes not documented: %v; documented but not routed: %v", missing, extra)
	}
}

// TestOpenAPIForClients: what a client generator needs and Redocly's
// linter checks (npx @redocly/cli lint api/openapi.yaml: 0 errors):
// every operation has a unique operationId and says its security, public
// routes with an empty list; the document validates.
func TestOpenAPIForClients(t *testing.T) {
	doc, err := api.OpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(t.Context()); err != nil {
		t.Fatalf("the document does not validate: %v", err)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			at := method + " " + path
			switch {
			case op.OperationID == "":
				t.Errorf("%s has no operationId", at)
			case ids[op.OperationID] != "":
				t.Errorf("%s and %s share the operationId %s", at, ids[op.OperationID], op.OperationID)
			}
			ids[op.OperationID] = at
			if op.Security == nil {
				t.Errorf("%s does not say its security (public routes: security: [])", at)
			}
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	r := e.req("GET", "/healthz", "", nil, "X-Request-ID", "abc-123")
	if got := r.header.Get("X-Request-ID"); got != "abc-123" {
		t.Errorf("X-Request-ID %q, want abc-123", got)
	}
	r = e.req("GET", "/healthz", "", nil, "X-Request-ID", "bad id\twith spaces")
	if got := r.header.Get("X-Request-ID"); got == "" || strings.Contains(got, " ") {
		t.Errorf("generated X-Request-ID %q", got)
	}
	if !strings.Contains(e.logs.String(), `"requestId":"abc-123"`) {
		t.Errorf("access log lacks the request ID: %s", e.logs.String())
	}
	r = e.req("GET", "/nope", "", nil)
	if r.status != http.StatusNotFound || r.errCode(t) != "not_found" {
		t.Errorf("unknown path: %d %s", r.status, r.body)
	}
}
