package api_test

import (
	"testing"
)

// The debug route splices "context" into the caller's input instead of
// decoding and encoding it again: whatever the input's shape, the
// connector must see the same fields and context as before.
func TestDebugInputCarriesContext(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.flowConn("acme", "probe", "CUSTOM_USER_STORE", nil)
	e.upload(key, "probe", probeWasm(t), "?force=true").must(t, 201)
	const ua = `tester/1.0 ("quoted" <b> & \ back)`
	platform := map[string]any{"tenant": tenant, "connection": "probe", "requestId": "req-7", "ip": "127.0.0.1", "userAgent": ua}
	for _, tc := range []struct {
		name  string
		input string
		want  map[string]any // the context the connector saw; nil: the call fails
		code  string
	}{
		{"compact", `{"query":{"email":"a@b.co"},"password":"secret"}`, platform, ""},
		{"spaced", "{ \"query\" : { \"email\" : \"a@b.co\" } ,\n\t\"password\" : \"secret\" }", platform, ""},
		{"nested context key", `{"query":{"email":"a@b.co","context":"x"},"password":"secret","note":{"context":{"tenant":"evil"}}}`, platform, ""},
		{"context in a string", `{"query":{"email":"\"context\":{"},"password":"secret"}`, platform, ""},
		{"the caller's context", `{"query":{"email":"a@b.co"},"password":"secret","context":{"tenant":"mine","requestId":"r0"}}`,
			map[string]any{"tenant": "mine", "requestId": "r0", "connection": "", "ip": "", "userAgent": ""}, ""},
		{"escaped context key", `{"query":{"email":"a@b.co"},"password":"secret","\u0063ontext":{"tenant":"mine"}}`,
			map[string]any{"tenant": "mine", "requestId": "", "connection": "", "ip": "", "userAgent": ""}, ""},
		{"empty object", `{}`, nil, "wrong_password"},
		{"null", `null`, nil, "wrong_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"function":"login","input":` + tc.input + `}`
			d := e.req("POST", "/v1/connections/probe/debug", key, body, "User-Agent", ua, "X-Request-ID", "req-7").must(t, 200).json(t)
			if tc.want == nil {
				if d["ok"] != false || d["error"].(map[string]any)["code"] != tc.code {
					t.Fatalf("answer %v, want error %s", d, tc.code)
				}
				return
			}
			if d["ok"] != true {
				t.Fatalf("answer %v", d)
			}
			cd := d["result"].(map[string]any)["customData"].(map[string]any)
			for k, v := range tc.want {
				if cd[k] != v {
					t.Errorf("context %s = %v, want %v", k, cd[k], v)
				}
			}
		})
	}
	for _, input := range []string{`[1]`, `"x"`, `3`} {
		if code := e.req("POST", "/v1/connections/probe/debug", key, `{"function":"login","input":`+input+`}`).must(t, 400).errCode(t); code != "invalid_input" {
			t.Errorf("input %s: code %s", input, code)
		}
	}
}
