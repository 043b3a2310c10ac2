package dispatch

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// TestDecodeFastMatchesEncodingJSON checks that the fast path decodes
// exactly what encoding/json decodes, and that it leaves to encoding/json
// what it does not handle alike.
func TestDecodeFastMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name  string
		input string
		fast  bool // the fast path is expected to take it
	}{
		{"login", `{"query":{"email":"alice@example.com"},"password":"s3cret","context":{"tenant":"t","connection":"c","requestId":"r","ip":"10.0.0.1","userAgent":"ua"}}`, true},
		{"spaces and order", " {\n\"password\" : \"pw\" , \"query\" : { \"username\" : \"bob\", \"phone\":\"+1\" } }\t", true},
		{"escapes and unicode", `{"query":{"email":"a\"b\\\u00e9@x"},"password":"pâss\n"}`, true},
		{"invalid utf-8 in a value", "{\"password\":\"a\xffb\"}", true},
		{"null values", `{"query":null,"password":null,"context":{"tenant":null}}`, true},
		{"duplicate key", `{"password":"a","password":"b"}`, true},
		{"unknown keys skipped", `{"extra":[1,{"x":null}],"password":"pw","more":{"a":"b"}}`, true},
		{"empty object", `{}`, true},
		{"key in other case", `{"Password":"pw"}`, false},
		{"escaped key", `{"pass\u0077ord":"pw"}`, false},
		{"number for a string", `{"password":42}`, false},
		{"string for an object", `{"query":"alice"}`, false},
		{"not an object", `[1]`, false},
		{"truncated", `{"query":`, false},
		{"trailing data", `{} x`, false},
		{"empty", ``, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fast sluice.LoginInput
			ok := decodeFast([]byte(tt.input), &fast)
			if ok != tt.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			var want sluice.LoginInput
			if err := json.Unmarshal([]byte(tt.input), &want); err != nil {
				t.Fatalf("encoding/json refuses what the fast path took: %v", err)
			}
			if fast != want {
				t.Errorf("fast %+v, encoding/json %+v", fast, want)
			}
		})
	}
}

func TestDecodeFastOtherInputs(t *testing.T) {
	const ctx = `"context":{"tenant":"t","requestId":"r"}`
	tests := []struct {
		name  string
		input string
		in    func() any
	}{
		{"getUser", `{"query":{"id":"7","email":"a@x","username":"u","phone":"p"},` + ctx + `}`, func() any { return new(sluice.GetUserInput) }},
		{"validatePassword", `{"id":"7","password":"pw",` + ctx + `}`, func() any { return new(sluice.ValidatePasswordInput) }},
		{"deleteUser", `{"id":"7",` + ctx + `}`, func() any { return new(sluice.DeleteUserInput) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fast, want := tt.in(), tt.in()
			if !decodeFast([]byte(tt.input), fast) {
				t.Fatal("fast path not taken")
			}
			if err := json.Unmarshal([]byte(tt.input), want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast, want) {
				t.Errorf("fast %+v, encoding/json %+v", fast, want)
			}
		})
	}
	if decodeFast([]byte(`{}`), new(sluice.SearchUserInput)) {
		t.Error("fast path taken for an input type it does not know")
	}
}

func TestAppendUserMatchesEncoder(t *testing.T) {
	users := []*sluice.User{
		{ID: "1"},
		{ID: "1", Email: "alice@example.com", Username: "alice"},
		{ID: `a"b<c>&d`, Nickname: "<Alice & co>", Name: "line\u2028sep\x01", GivenName: "bad\xffutf8",
			EmailVerified: true, Phone: "+1", PhoneVerified: true, FamilyName: "f", Photo: "https://x/p.png?a=1&b=2",
			Gender: "g", Birthdate: "2000-01-01", Address: "a", Company: "c", Website: "w", Blocked: true},
		{ID: "1", CustomData: map[string]any{}},
		{ID: "1", Email: "e", CustomData: map[string]any{"plan": "pro", "logins": 7.0, "n": 3, "big": 1e21, "tiny": 1e-7,
			"ok": true, "none": nil, "tags": []any{"a", 1.5, map[string]any{"<k>": "v&"}}, "b": map[string]any{}}},
	}
	for _, u := range users {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(u); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		got, ok := appendUser(nil, u)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("appendUser = %s, %v; want %s", got, ok, want)
		}
	}
	for _, v := range []any{struct{ A int }{1}, math.NaN(), float32(1.5), json.Number("1")} {
		if _, ok := appendUser(nil, &sluice.User{ID: "1", CustomData: map[string]any{"x": v}}); ok {
			t.Errorf("appendUser encoded a %T, which it leaves to encoding/json", v)
		}
	}
}
