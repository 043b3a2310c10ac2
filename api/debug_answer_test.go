package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
)

// debugAnswer writes by hand what encoding/json wrote of this struct
// before: the answers must be the same JSON.
type encodedDebug struct {
	OK          bool              `json:"ok"`
	Result      json.RawMessage   `json:"result,omitempty"`
	Error       *engine.Error     `json:"error,omitempty"`
	Logs        []engine.LogEntry `json:"logs"`
	HostCalls   []engine.HostCall `json:"hostCalls"`
	DurationMs  float64           `json:"durationMs"`
	MemoryBytes uint64            `json:"memoryBytes"`
}

func TestDebugAnswerIsEncodingJSONs(t *testing.T) {
	trace := []engine.HostCall{
		{Op: "sql.query", Kind: "sql", Target: "127.0.0.1:5432", Statement: `SELECT "id" FROM users WHERE email = $1 AND x < 2`, DurationMs: 0.412, Rows: 1, BytesIn: 80, BytesOut: 120},
		{Op: "http.fetch", Kind: "http", Target: "10.0.0.1:443", DurationMs: 0, BytesIn: 10, Error: "egress_denied: 10.0.0.1", Denied: true},
	}
	logs := []engine.LogEntry{{Stream: "log", Level: "info", Message: `context tenant=t "q" <b> & é` + "\t\u2028"}, {Stream: "stderr", Level: "warn", Message: ""}}
	for _, tc := range []struct {
		name  string
		res   *engine.Result
		query string
	}{
		{"result", &engine.Result{Output: json.RawMessage(`{"id":"1","email":"a@b.co"}`), Logs: logs, Trace: trace, Duration: 1234 * time.Microsecond, MemoryBytes: 2 << 20}, ""},
		{"spaced result", &engine.Result{Output: json.RawMessage("{ \"id\" : \"1\",\n \"n\": [1, 2] }"), Duration: time.Millisecond}, ""},
		{"null result", &engine.Result{Duration: 7 * time.Microsecond}, ""},
		{"error", &engine.Result{Error: &engine.Error{Code: "db_error", Message: "boom <x>", Details: map[string]string{"sqlstate": "23505"}}, Logs: logs, Trace: trace[:1]}, ""},
		{"the seed", seedResult("login"), ""},
		{"pretty", &engine.Result{Output: json.RawMessage(`{"id":"1"}`), Logs: logs, Trace: trace}, "pretty"},
		{"other query", &engine.Result{Output: json.RawMessage(`{"id":"1"}`)}, "x=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/v1/connections/c/debug?"+tc.query, nil)
			rec := httptest.NewRecorder()
			if err := debugAnswer(echo.New().NewContext(req, rec), "", tc.res); err != nil {
				t.Fatal(err)
			}
			res := tc.res
			want := encodedDebug{OK: res.Error == nil, Error: res.Error, Logs: res.Logs, HostCalls: res.Trace,
				DurationMs: float64(res.Duration.Microseconds()) / 1000, MemoryBytes: res.MemoryBytes}
			if want.OK {
				want.Result = res.Output
				if len(want.Result) == 0 {
					want.Result = json.RawMessage("null")
				}
			}
			if want.Logs == nil {
				want.Logs = []engine.LogEntry{}
			}
			if want.HostCalls == nil {
				want.HostCalls = []engine.HostCall{}
			}
			wantJSON, _ := json.Marshal(want)
			var got, exp any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("answer is not JSON: %v\n%s", err, rec.Body.Bytes())
			}
			json.Unmarshal(wantJSON, &exp)
			if !reflect.DeepEqual(got, exp) {
				t.Fatalf("answer\n%s\nwant\n%s", rec.Body.Bytes(), wantJSON)
			}
			if ct := rec.Header().Get("Content-Type"); ct != echo.MIMEApplicationJSON || rec.Code != 200 {
				t.Fatalf("status %d, Content-Type %q", rec.Code, ct)
			}
			if pretty := tc.query == "pretty"; pretty != (rec.Body.Bytes()[1] == '\n') {
				t.Fatalf("pretty %v: %s", pretty, rec.Body.Bytes())
			}
		})
	}
}
