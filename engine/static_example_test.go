package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestStaticExample runs all eight functions of examples/static, built
// with the Go SDK, through the engine. The calls share one pool of one
// instance, so writes are seen by later calls, as the example's README
// says.
func TestStaticExample(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m, err := e.Load(t.Context(), buildExample(t, "static"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Info().MissingFor(engine.ModeCustomUserStore); len(got) != 0 {
		t.Fatalf("static example misses %v", got)
	}
	steps := []struct {
		name     string
		function string
		input    string
		want     []string // substrings of the result
		wantCode engine.Code
	}{
		{"login by email", "login", `{"query":{"email":"alice@example.com"},"password":"wonderland","context":{"tenant":"t"}}`, []string{`"id":"1"`, `"username":"alice"`}, ""},
		{"login by phone", "login", `{"query":{"phone":"+442071838750"},"password":"canwefixit"}`, []string{`"id":"2"`}, ""},
		{"login wrong password", "login", `{"query":{"email":"alice@example.com"},"password":"x"}`, nil, engine.CodeWrongPassword},
		{"login unknown user", "login", `{"query":{"email":"zed@example.com"},"password":"x"}`, nil, engine.CodeUserNotFound},
		{"login bad input", "login", `{"query":{"email":42}}`, nil, engine.CodeInvalidInput},
		{"getUser by id", "getUser", `{"query":{"id":"3"}}`, []string{`"email":"carol@example.org"`}, ""},
		{"getUser absent", "getUser", `{"query":{"username":"zed"}}`, []string{`null`}, ""},
		{"searchUser", "searchUser", `{"keyword":"example.com","page":1,"limit":10}`, []string{`"totalCount":2`}, ""},
		{"listUsers page 2", "listUsers", `{"page":2,"limit":3}`, []string{`"totalCount":4`, `"id":"4"`}, ""},
		{"createUser", "createUser", `{"user":{"email":"erin@example.com","username":"erin","password":"pa55word"}}`, []string{`"email":"erin@example.com"`}, ""},
		{"createUser duplicate", "createUser", `{"user":{"email":"erin@example.com","password":"x"}}`, nil, engine.CodeUserExists},
		{"new user logs in", "login", `{"query":{"username":"erin"},"password":"pa55word"}`, []string{`"username":"erin"`}, ""},
		{"listUsers sees it", "listUsers", `{"page":1,"limit":10}`, []string{`"totalCount":5`}, ""},
		{"updateUser password", "updateUser", `{"id":"1","updates":{"password":"looking-glass","nickname":"Al"}}`, []string{`"nickname":"Al"`}, ""},
		{"old password fails", "validatePassword", `{"id":"1","password":"wonderland"}`, []string{`false`}, ""},
		{"new password works", "validatePassword", `{"id":"1","password":"looking-glass"}`, []string{`true`}, ""},
		{"deleteUser", "deleteUser", `{"id":"2"}`, []string{`true`}, ""},
		{"deleted user is gone", "login", `{"query":{"username":"bob"},"password":"canwefixit"}`, nil, engine.CodeUserNotFound},
		{"deleteUser again", "deleteUser", `{"id":"2"}`, nil, engine.CodeUserNotFound},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			res, err := call(t, e, m, engine.Request{Tenant: "t", Pool: "static", Function: s.function, Input: []byte(s.input), Limits: engine.Limits{MaxInstances: 1}})
			if s.wantCode != "" {
				if err == nil || err.Code != s.wantCode {
					t.Fatalf("got %v, want %s", err, s.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v (logs %v)", err, res.Logs)
			}
			if !json.Valid(res.Output) {
				t.Fatalf("invalid JSON %s", res.Output)
			}
			for _, w := range s.want {
				if !strings.Contains(string(res.Output), w) {
					t.Errorf("result %s lacks %s", res.Output, w)
				}
			}
		})
	}
}

func buildExample(t *testing.T, name string) []byte {
	t.Helper()
	return wasmbuild.Test(t, "../examples/"+name)
}
