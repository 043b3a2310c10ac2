package main

import (
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestHelpAndVersion: every command's -h and --help prints its usage on
// stdout and exits 0; usage errors print it on stderr and exit 2.
func TestHelpAndVersion(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout ("" : stdout must be empty)
		stderr string // a substring of stderr ("" : stderr must be empty)
	}{
		{"top -h", []string{"-h"}, 0, "usage: sluice <command>", ""},
		{"top --help", []string{"--help"}, 0, "usage: sluice <command>", ""},
		{"help", []string{"help"}, 0, "usage: sluice <command>", ""},
		{"help call", []string{"help", "call"}, 0, "usage: sluice call FILE.wasm|FILE.js FUNCTION", ""},
		{"help serve", []string{"help", "serve"}, 0, "usage: sluice serve", ""},
		{"help unknown", []string{"help", "frobnicate"}, 2, "", "unknown command"},
		{"serve -h", []string{"serve", "-h"}, 0, "-data-dir", ""},
		{"serve --help", []string{"serve", "--help"}, 0, "usage: sluice serve", ""},
		{"call -h", []string{"call", "-h"}, 0, "-db-type", ""},
		{"call --help after args", []string{"call", "x.wasm", "login", "--help"}, 0, "usage: sluice call", ""},
		{"inspect -h", []string{"inspect", "-h"}, 0, "usage: sluice inspect [--json] FILE.wasm", ""},
		{"inspect --help", []string{"inspect", "--help"}, 0, "-json", ""},
		{"version -h", []string{"version", "-h"}, 0, "usage: sluice version", ""},
		{"new -h", []string{"new", "-h"}, 0, "usage: sluice new DIR --template", ""},
		{"new --help lists the templates", []string{"new", "--help"}, 0, "static", ""},
		{"help new", []string{"help", "new"}, 0, "usage: sluice new", ""},
		{"build -h", []string{"build", "-h"}, 0, "usage: sluice build [DIR]", ""},
		{"help build", []string{"help", "build"}, 0, "-buildmode=c-shared -trimpath", ""},
		{"deploy -h", []string{"deploy", "-h"}, 0, "usage: sluice deploy FILE.wasm|FILE.js --server URL --key KEY --connection NAME", ""},
		{"deploy --help after args", []string{"deploy", "x.wasm", "--help"}, 0, "-activate", ""},
		{"help deploy", []string{"help", "deploy"}, 0, "-force", ""},
		{"new bad flag", []string{"new", "--nope"}, 2, "", "usage: sluice new"},
		{"deploy bad flag", []string{"deploy", "--nope"}, 2, "", "usage: sluice deploy"},
		{"version", []string{"version"}, 0, runtime.Version(), ""},
		{"--version", []string{"--version"}, 0, "sluice ", ""},
		{"no command", nil, 2, "", "usage: sluice <command>"},
		{"serve bad flag", []string{"serve", "--nope"}, 2, "", "usage: sluice serve"},
		{"serve stray argument", []string{"serve", "now"}, 2, "", "unexpected arguments"},
		{"call bad flag", []string{"call", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"inspect no file", []string{"inspect"}, 2, "", "usage: sluice inspect"},
		{"version extra", []string{"version", "now"}, 2, "", "usage: sluice version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if tt.stdout == "" && stdout != "" || !strings.Contains(stdout, tt.stdout) {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if tt.stderr == "" && stderr != "" || !strings.Contains(stderr, tt.stderr) {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"tagged module", &debug.BuildInfo{GoVersion: "go1.23.4", Main: debug.Module{Version: "v1.2.3"}}, "sluice v1.2.3 go1.23.4"},
		{"go build in a checkout", &debug.BuildInfo{GoVersion: "go1.23.4", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "7afce91"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}, "sluice devel (7afce91, 2026-12-01T10:00:00Z, modified) go1.23.4"},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.23.4"}, "sluice devel go1.23.4"},
		{"no build info", nil, "sluice devel (no build information)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := versionString(tt.info, tt.info != nil); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCallDBType: connection variables whose database type nothing names
// are refused with directions to --db-type, before the connector runs.
func TestCallDBType(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	login := `{"query":{"email":"alice@example.com"},"password":"wonderland"}`
	five := []string{"--env", "DB_HOST=127.0.0.1", "--env", "DB_PORT=5432", "--env", "DB_USERNAME=postgres", "--env", "DB_PASSWORD=hunter2", "--env", "DB_DATABASE=test"}
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"five DB_* variables", five, exitUsage, "DB_HOST, DB_PORT, DB_USERNAME, DB_PASSWORD, DB_DATABASE given without DB_CONNECTION_URI: pass --db-type"},
		{"one DB_* variable", []string{"--env", "DB_HOST=db.example.com"}, exitUsage, "DB_HOST given without DB_CONNECTION_URI: pass --db-type"},
		{"a DSN without a scheme", []string{"--env", "DB_CONNECTION_URI=root:pw@tcp(127.0.0.1:3306)/test"}, exitUsage, "its scheme names no database type; pass --db-type"},
		{"an unknown --db-type", append([]string{"--db-type", "oracle"}, five...), exitUsage, `--db-type "oracle": want postgres, mysql, mongodb or http`},
		{"five DB_* variables and --db-type", append([]string{"--db-type", "postgres"}, five...), exitOK, "duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"call", wasm, "login", "--input", login}, tt.args...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if strings.Contains(stderr, "hunter2") || strings.Contains(stderr, ":pw@") {
				t.Errorf("a password on stderr: %s", stderr)
			}
		})
	}
}

// TestCallChecksResults: a result the user-flow routes refuse with 502
// connector_error (a user without "id", a numeric "id", ...) fails
// `sluice call` too, exit 1, with the same message, through the same
// check (userflow.CheckResult).
func TestCallChecksResults(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "testdata/echo")
	tests := []struct {
		name, function, result string
		code                   int
		stdout                 string // a substring of stdout
	}{
		{"login a user", "login", `{"id":"u1","email":"a@example.com"}`, exitOK, `"id": "u1"`},
		{"login without id", "login", `{"email":"a@example.com"}`, exitConnector, `"message": "login returned a user without an \"id\""`},
		{"login numeric id", "login", `{"id":42}`, exitConnector, `"message": "login returned \"id\" as a JSON number, want string"`},
		{"login a string", "login", `"u1"`, exitConnector, `login returned a string, want a user object`},
		{"getUser null", "getUser", `null`, exitOK, `null`},
		{"getUser numeric id", "getUser", `{"id":7}`, exitConnector, `"code": "connector_error"`},
		{"createUser without id", "createUser", `{"username":"n"}`, exitConnector, `createUser returned a user without an \"id\"`},
		{"updateUser an array", "updateUser", `[]`, exitConnector, `updateUser returned an array, want a user object`},
		{"listUsers a page", "listUsers", `{"totalCount":1,"list":[{"id":"u1"}]}`, exitOK, `"totalCount": 1`},
		{"listUsers an item without id", "listUsers", `{"totalCount":1,"list":[{"email":"x@example.com"}]}`, exitConnector, `listUsers returned list[0]: a user without an \"id\"`},
		{"searchUser without totalCount", "searchUser", `{"list":[]}`, exitConnector, `searchUser returned no \"totalCount\"`},
		{"deleteUser true", "deleteUser", `true`, exitOK, `true`},
		{"deleteUser false", "deleteUser", `false`, exitConnector, `deleteUser returned false, want true`},
		{"validatePassword false", "validatePassword", `false`, exitOK, `false`},
		{"validatePassword a string", "validatePassword", `"yes"`, exitConnector, `validatePassword returned a string, want true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", "call", wasm, tt.function, "--input", `{"result":`+tt.result+`}`)
			if code != tt.code || !strings.Contains(stdout, tt.stdout) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if refused := strings.Contains(stderr, "the user-flow routes refuse this result (HTTP 502 connector_error"); refused != (tt.code == exitConnector) {
				t.Errorf("stderr: %s", stderr)
			}
		})
	}
}

// TestCallContext: `sluice call` adds the "context" the server adds,
// with local values, or --context's; an input's own is kept.
func TestCallContext(t *testing.T) {
	wasm := wasmbuild.TestPath(t, "testdata/echo")
	tests := []struct {
		name string
		args []string
		code int
		want map[string]string // context field: value ("*": any non-empty)
	}{
		{"default", []string{"--input", `{"query":{"email":"a@example.com"}}`}, exitOK, map[string]string{"tenant": "local", "connection": "local", "requestId": "*"}},
		{"empty input", []string{"--input", ` { } `}, exitOK, map[string]string{"tenant": "local", "connection": "local", "requestId": "*"}},
		{"--context", []string{"--context", `{"tenant":"acme","connection":"users","requestId":"r-1","ip":"203.0.113.9"}`}, exitOK, map[string]string{"tenant": "acme", "connection": "users", "requestId": "r-1", "ip": "203.0.113.9"}},
		{"the input's own", []string{"--input", `{"context":{"tenant":"mine"}}`, "--context", `{"tenant":"acme"}`}, exitOK, map[string]string{"tenant": "mine"}},
		{"--context not an object", []string{"--context", `[1]`}, exitUsage, nil},
		{"input not an object", []string{"--input", `[1]`}, exitUsage, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", append([]string{"call", wasm, "getUser"}, tt.args...)...)
			if code != tt.code {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if tt.want == nil {
				return
			}
			var u struct {
				CustomData struct {
					Input struct {
						Context map[string]string `json:"context"`
					} `json:"input"`
				} `json:"customData"`
			}
			if err := json.Unmarshal([]byte(stdout), &u); err != nil {
				t.Fatal(err, stdout)
			}
			got := u.CustomData.Input.Context
			for k, v := range tt.want {
				if got[k] == "" || v != "*" && got[k] != v {
					t.Errorf("context %s = %q, want %q (context %v)", k, got[k], v, got)
				}
			}
		})
	}
}
