package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// TestCallStaticExample runs all eight functions of examples/static
// through `sluice call`, as a connector author would.
func TestCallStaticExample(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	tests := []struct {
		function string
		input    string
		code     int
		want     string // a substring of stdout
	}{
		{"login", `{"query":{"email":"alice@example.com"},"password":"wonderland"}`, exitOK, `"email": "alice@example.com"`},
		{"login", `{"query":{"username":"bob"},"password":"canwefixit"}`, exitOK, `"username": "bob"`},
		{"login", `{"query":{"email":"alice@example.com"},"password":"nope"}`, exitConnector, `"code": "wrong_password"`},
		{"login", `{"query":{"email":"nobody@example.com"},"password":"x"}`, exitConnector, `"code": "user_not_found"`},
		{"getUser", `{"query":{"email":"carol@example.org"}}`, exitOK, `"username": "carol"`},
		{"getUser", `{"query":{"email":"nobody@example.com"}}`, exitOK, `null`},
		{"searchUser", `{"keyword":"ALI","page":1,"limit":10}`, exitOK, `"totalCount": 1`},
		{"createUser", `{"user":{"email":"erin@example.com","username":"erin","password":"s3cret!"}}`, exitOK, `"email": "erin@example.com"`},
		{"createUser", `{"user":{"email":"alice@example.com","password":"x"}}`, exitConnector, `"code": "user_exists"`},
		{"updateUser", `{"id":"nope","updates":{"nickname":"x"}}`, exitConnector, `"code": "user_not_found"`},
		{"deleteUser", `{"id":"nope"}`, exitConnector, `"code": "user_not_found"`},
		{"listUsers", `{"page":1,"limit":2}`, exitOK, `"totalCount": 4`},
		{"validatePassword", `{"id":"nope","password":"x"}`, exitConnector, `"code": "user_not_found"`},
	}
	for _, tt := range tests {
		t.Run(tt.function, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "call", wasm, tt.function, "--input", tt.input)
			if code != tt.code || !strings.Contains(stdout, tt.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, "duration") {
				t.Errorf("no report on stderr: %s", stderr)
			}
		})
	}
}

func TestCallUpdatesAndValidates(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	// Find a user's id, then use it: every call is a fresh instance, so the
	// seeded users are all a call can see.
	code, stdout, _ := runCLI(t, "", "call", wasm, "getUser", "--input", `{"query":{"username":"dave"}}`)
	if code != exitOK {
		t.Fatal(stdout)
	}
	var u struct{ ID string }
	json.Unmarshal([]byte(stdout), &u)
	for _, tt := range []struct {
		function, input, want string
	}{
		{"validatePassword", `{"id":"` + u.ID + `","password":"opensesame"}`, "true"},
		{"validatePassword", `{"id":"` + u.ID + `","password":"wrong"}`, "false"},
		{"updateUser", `{"id":"` + u.ID + `","updates":{"nickname":"D"}}`, `"nickname": "D"`},
		{"deleteUser", `{"id":"` + u.ID + `"}`, "true"},
	} {
		code, stdout, stderr := runCLI(t, "", "call", wasm, tt.function, "--input", tt.input)
		if code != exitOK || !strings.Contains(stdout, tt.want) {
			t.Errorf("%s: exit %d, stdout %s, stderr %s", tt.function, code, stdout, stderr)
		}
	}
}

func TestCallInputSources(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	in := `{"query":{"email":"alice@example.com"},"password":"wonderland"}`
	file := filepath.Join(t.TempDir(), "in.json")
	os.WriteFile(file, []byte(in), 0o600)
	if code, stdout, stderr := runCLI(t, "", "call", "--input", "@"+file, wasm, "login"); code != 0 {
		t.Errorf("@file: %d %s %s", code, stdout, stderr)
	}
	if code, stdout, stderr := runCLI(t, in, "call", wasm, "login", "--input", "-"); code != 0 {
		t.Errorf("stdin: %d %s %s", code, stdout, stderr)
	}
}

func TestCallUsageErrors(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	garbage := filepath.Join(t.TempDir(), "garbage.wasm")
	os.WriteFile(garbage, []byte("not wasm at all"), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no args", []string{"call"}, "usage"},
		{"unknown function", []string{"call", wasm, "dropUsers"}, "unknown function"},
		{"bad input", []string{"call", wasm, "login", "--input", "{nope"}, "not valid JSON"},
		{"bad memory", []string{"call", wasm, "login", "--memory", "lots"}, "--memory"},
		{"bad env", []string{"call", wasm, "login", "--env", "NOEQUALS"}, "want K=V"},
		{"bad allow", []string{"call", wasm, "login", "--allow", "not a host!"}, "--allow"},
		{"missing file", []string{"call", "/nonexistent.wasm", "login"}, "no such file"},
		{"not wasm", []string{"call", garbage, "login"}, "not a WebAssembly module"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, "", tt.args...)
			if code != exitUsage || !strings.Contains(stderr, tt.want) {
				t.Fatalf("exit %d, stderr %s", code, stderr)
			}
		})
	}
}

func TestInspect(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	code, stdout, stderr := runCLI(t, "", "inspect", wasm)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"ABI        version 1", "login, getUser, searchUser, createUser, updateUser, deleteUser, listUsers, validatePassword", "LAZY_MIGRATION     satisfied", "CUSTOM_USER_STORE  satisfied", "sluice.input_read"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, "", "inspect", "--json", wasm)
	var info struct {
		ABIVersion     int                 `json:"abiVersion"`
		MissingForMode map[string][]string `json:"missingForMode"`
	}
	if code != 0 || json.Unmarshal([]byte(stdout), &info) != nil || info.ABIVersion != 1 || len(info.MissingForMode["CUSTOM_USER_STORE"]) != 0 {
		t.Errorf("inspect --json: %d %s", code, stdout)
	}
}

// TestCallAgainstALocalDatabase runs examples/postgres against a legacy
// table on the local PostgreSQL, as an author would on a laptop: the
// connection comes from --env, the egress gate from --allow and
// --allow-private.
func TestCallAgainstALocalDatabase(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/postgres")
	uri := testpg.LegacyUsers(t, 3)
	login := `{"query":{"username":"user2"},"password":"` + testpg.Password + `"}`
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"allowed", []string{"--allow", "127.0.0.1:5432", "--allow-private"}, exitOK, `"nickname": "User 2"`},
		{"loopback without --allow-private", []string{"--allow", "127.0.0.1:5432"}, exitConnector, `egress_denied`},
		{"not on the allowlist", []string{"--allow", "127.0.0.1:5433", "--allow-private"}, exitConnector, `egress_denied`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"call", wasm, "login", "--input", login, "--env", "DB_CONNECTION_URI=" + uri}, tt.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.code || !strings.Contains(stdout, tt.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, "host call sql.query 127.0.0.1:5432") {
				t.Errorf("the trace does not show the query:\n%s", stderr)
			}
		})
	}
}
