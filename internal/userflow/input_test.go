package userflow

import (
	"encoding/json"
	"testing"
)

// The hand-written inputs of getUser and login are what encoding/json
// wrote of the maps they replace, byte for byte.
func TestHandWrittenInputs(t *testing.T) {
	for _, tc := range []struct{ field, value, pw string }{
		{"id", "42", "secret"},
		{"email", "a@b.co", ""},
		{"username", `we"ird\ <name> & ünïcode` + "\t\n\u2028", `p"w\<>&` + "\x01"},
		{"phone", "+15550000000", "bad \xff utf-8"},
	} {
		t.Run(tc.field, func(t *testing.T) {
			want, _ := json.Marshal(map[string]any{"query": map[string]string{tc.field: tc.value}})
			if got := queryInput(tc.field, tc.value); string(got) != string(want) {
				t.Errorf("queryInput = %s, want %s", got, want)
			}
			want, _ = json.Marshal(map[string]any{"query": map[string]string{tc.field: tc.value}, "password": tc.pw})
			if got := loginInput(tc.field, tc.value, tc.pw); string(got) != string(want) {
				t.Errorf("loginInput = %s, want %s", got, want)
			}
		})
	}
}
