package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// One access-log line per request, with its fields and nothing of the
// query string, the headers or the body.
func TestAccessLogLine(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.setup("acme", "c", probeWasm(t))
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		want                     map[string]any
	}{
		{"debug", "POST", "/v1/connections/c/debug?secret=q1", `{"function":"getUser","input":{"query":{"id":"s3cr3t"}}}`, 200,
			map[string]any{"method": "POST", "path": "/v1/connections/c/debug", "route": "/v1/connections/:name/debug", "status": 200.0, "tenant": tenant, "ip": "127.0.0.1"}},
		{"an error", "POST", "/v1/connections/nope/debug", `{"function":"getUser"}`, 404,
			map[string]any{"route": "/v1/connections/:name/debug", "status": 404.0, "tenant": tenant, "errorCode": "not_found"}},
		{"unmatched", "GET", "/v1/nowhere", "", 404,
			map[string]any{"route": "unmatched", "status": 404.0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.logs.String())
			id := "req-" + strings.ReplaceAll(tc.name, " ", "-")
			var body any
			if tc.body != "" {
				body = tc.body
			}
			e.req(tc.method, tc.path, key, body, "X-Request-ID", id).must(t, tc.status)
			var line map[string]any
			for _, l := range strings.Split(e.logs.String()[before:], "\n") {
				var m map[string]any
				if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "request" && m["requestId"] == id {
					if line != nil {
						t.Fatalf("two access-log lines for %s", id)
					}
					line = m
				}
			}
			if line == nil {
				t.Fatalf("no access-log line for %s in %s", id, e.logs.String()[before:])
			}
			for k, v := range tc.want {
				if line[k] != v {
					t.Errorf("%s = %v, want %v (%v)", k, line[k], v, line)
				}
			}
			if d, ok := line["durationMs"].(float64); !ok || d < 0 {
				t.Errorf("durationMs %v", line["durationMs"])
			}
			if n, ok := line["bytesOut"].(float64); !ok || n <= 0 {
				t.Errorf("bytesOut %v", line["bytesOut"])
			}
			if raw, _ := json.Marshal(line); strings.Contains(string(raw), "q1") || strings.Contains(string(raw), "s3cr3t") || strings.Contains(string(raw), key) {
				t.Errorf("the line carries the query, body or key: %s", raw)
			}
		})
	}
}
