package userflow_test

import (
	"encoding/json"
	"testing"

	"github.com/sluice-dev/sluice/internal/userflow"
)

// The context is written without encoding/json: it must read back as
// encoding/json would have written it, spliced into any input object.
func TestCallContextWithContext(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cc    userflow.CallContext
		input string
	}{
		{"minimal", userflow.CallContext{Tenant: "t", Connection: "c", RequestID: "r"}, `{}`},
		{"all fields", userflow.CallContext{Tenant: "t1", Connection: "users", RequestID: "abc-1", IP: "203.0.113.7", UserAgent: `curl/8 "x" <y> & \z` + "\t\u2028\xff"}, `{"query":{"id":"1"}}`},
		{"spaced input", userflow.CallContext{Tenant: "t", Connection: "c", RequestID: "r", IP: "::1"}, "{ \"page\" : 1,\n\"limit\":10 }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := json.Marshal(tc.cc)
			if got := tc.cc.AppendJSON(nil); string(got) != string(want) {
				t.Fatalf("AppendJSON = %s, want %s", got, want)
			}
			out := tc.cc.WithContext([]byte(tc.input))
			var got map[string]json.RawMessage
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("WithContext = %s: %v", out, err)
			}
			var in map[string]json.RawMessage
			json.Unmarshal([]byte(tc.input), &in)
			if len(got) != len(in)+1 || string(got["context"]) != string(want) {
				t.Fatalf("WithContext(%s) = %s", tc.input, out)
			}
		})
	}
}
