package jsonx_test

import (
	"encoding/json"
	"testing"

	"github.com/sluice-dev/sluice/internal/jsonx"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "tab\tnew\nline\rcr", "\x00\x01\x1f\x7f",
		"<script>&amp;</script>", "line\u2028sep\u2029para", "héllo wörld ✓ 😀",
		"bad \xff utf-8 \xc3", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
	} {
		t.Run(s, func(t *testing.T) {
			want, _ := json.Marshal(s)
			if got := jsonx.AppendString(nil, s); string(got) != string(want) {
				t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
			}
		})
	}
}

func TestHasKey(t *testing.T) {
	for _, tc := range []struct {
		obj  string
		want bool
	}{
		{`{}`, false},
		{`{"context":1}`, true},
		{`{"a":1,"context":{"x":1}}`, true},
		{`{"a":{"context":1}}`, false},
		{`{"a":["context",{"context":1}]}`, false},
		{`{"a":"context"}`, false},
		{`{"a":"x\"context\":"}`, false},
		{`{"\u0063ontext":null}`, true},
		{`{"Context":1}`, false},
		{`{ "query" : {"id":"1"} , "context" : {} }`, true},
		{`{"contexts":1,"b":"context"}`, false},
	} {
		t.Run(tc.obj, func(t *testing.T) {
			if !json.Valid([]byte(tc.obj)) {
				t.Fatalf("test object is not JSON")
			}
			// encoding/json's answer is the reference.
			var m map[string]json.RawMessage
			json.Unmarshal([]byte(tc.obj), &m)
			_, ref := m["context"]
			if got := jsonx.HasKey([]byte(tc.obj), "context"); got != tc.want || got != ref {
				t.Fatalf("HasKey = %v, want %v (encoding/json: %v)", got, tc.want, ref)
			}
		})
	}
}

func TestExtend(t *testing.T) {
	for _, tc := range []struct{ obj, want string }{
		{`{}`, `{"k":true}`},
		{`{ }`, `{ "k":true}`},
		{`{"a":1}`, `{"a":1,"k":true}`},
		{"{\"a\":{\"b\":[1,2]}\n}", "{\"a\":{\"b\":[1,2]}\n,\"k\":true}"},
	} {
		t.Run(tc.obj, func(t *testing.T) {
			got := append(jsonx.Extend([]byte("x"), []byte(tc.obj)), `"k":true}`...)
			if string(got[1:]) != tc.want || !json.Valid(got[1:]) || got[0] != 'x' {
				t.Fatalf("Extend(%q) = %q, want %q", tc.obj, got, tc.want)
			}
		})
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 0.001, 0.123, 1, 12.5, 1234.567, 1e-7, 3.5e-9, 1e21, 123456789012345678901234.0, -0.25} {
		want, _ := json.Marshal(f)
		if got := jsonx.AppendFloat(nil, f); string(got) != string(want) {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}
