package examplestest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// TestC runs examples/c, built with clang from its build.sh, through the
// engine against PostgreSQL: the shared suite's login and getUser steps
// (bcrypt hashes checked by the host's password.verify), on the table of
// examples/postgres/schema.sql.
func TestC(t *testing.T) {
	t.Parallel()
	f := sqlFixture(t, "postgres")
	f.example = "c"
	f.functions = map[string]bool{"login": true, "getUser": true}
	runSuite(t, f)
}

// TestCExports checks that the C module exports login and getUser and no
// other connector function.
func TestCExports(t *testing.T) {
	t.Parallel()
	mod := module(t, "c")
	info := mod.Info()
	if got := strings.Join(info.Functions, ","); got != "login,getUser" {
		t.Fatalf("functions %s, want login,getUser", got)
	}
	if info.ABIVersion != 1 {
		t.Fatalf("ABI version %d, want 1", info.ABIVersion)
	}
	t.Logf("imports %v", info.Imports)
}

// TestCBuildLine checks that examples/c/README.md and guest-sdk/ABI.md
// give the build line build.sh runs (the one the tests build with).
func TestCBuildLine(t *testing.T) {
	t.Parallel()
	script, err := os.ReadFile(filepath.Join("..", "..", "examples", "c", "build.sh"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^clang .*$`).Find(script)
	if m == nil {
		t.Fatal("build.sh has no clang line")
	}
	line := strings.ReplaceAll(string(m), `"$out"`, "c.wasm")
	for _, doc := range []string{"examples/c/README.md", "guest-sdk/ABI.md"} {
		t.Run(doc, func(t *testing.T) {
			text, err := os.ReadFile(filepath.Join("..", "..", doc))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(text, []byte(line)) {
				t.Fatalf("%s does not give build.sh's line\n%s", doc, line)
			}
		})
	}
}

// TestCInput feeds the C connector's JSON reader inputs the platform
// never sends (the debug route passes a caller's JSON as given, and a
// reader must not trust it): each is refused as invalid_input, and
// escapes decode as JSON says.
func TestCInput(t *testing.T) {
	t.Parallel()
	f := sqlFixture(t, "postgres")
	f.example = "c"
	mod := module(t, "c")
	h, err := manager.Host(f.conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, fn, input, want string }{
		{"truncated", "login", `{"query":{"email":"alice@example.com"`, "invalid_input"},
		{"trailing comma", "getUser", `{"query":{"username":"alice",}}`, "invalid_input"},
		{"bad escape", "getUser", `{"query":{"username":"al\ice"}}`, "invalid_input"},
		{"raw control character", "getUser", "{\"query\":{\"username\":\"al\tice\"}}", "invalid_input"},
		{"invalid UTF-8", "getUser", "{\"query\":{\"username\":\"al\xffice\"}}", "invalid_input"},
		{"too deep", "getUser", `{"query":{"username":"alice"},"x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "invalid_input"},
		{"password not a string", "login", `{"query":{"username":"alice"},"password":7}`, "invalid_input"},
		{"escapes decode", "getUser", `{"query":{"username":"\u0041l\u0069ce"}}`, `"username":"alice"`},
		{"escaped argument reaches SQL as is", "login", `{"query":{"username":"\u0061lice"},"password":"wonder\u006cand"}`, `"username":"alice"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := []byte(tc.input)
			res, err := eng.Call(context.Background(), mod, engine.Request{
				Tenant: f.conn.Tenant, Pool: f.conn.Name + "/1", Function: tc.fn, Input: in,
				Env: f.conn.Env(f.env), Host: h, Limits: engine.Limits{Timeout: 20 * time.Second},
			})
			if strings.HasPrefix(tc.want, `"`) {
				if err != nil || !bytes.Contains(res.Output, []byte(tc.want)) {
					t.Fatalf("%s: %s, %v; want %s", tc.input, res.Output, err, tc.want)
				}
				return
			}
			var ee *engine.Error
			if !errors.As(err, &ee) || string(ee.Code) != tc.want {
				t.Fatalf("%s: err %v, want %s", tc.input, err, tc.want)
			}
		})
	}
}

// TestCErrors checks the C connector's errors: a host call's error is
// passed on (a db_error reaches the caller as connector_error naming it,
// with the connector's log line), and a USERS_TABLE that is not a name
// is refused before any SQL is sent.
func TestCErrors(t *testing.T) {
	t.Parallel()
	mod := module(t, "c")
	for _, tc := range []struct {
		name, table, want string
		hostCalls         int
		log               string
	}{
		{"a missing table", "no_such_table_" + strconv.Itoa(os.Getpid()), "db_error: ", 1, "sql.query on no_such_table_"},
		{"not a table name", "users; DROP TABLE users", "USERS_TABLE", 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A tenant of its own: an instance keeps the environment it started with.
			conn := loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: "c", ConfigVersion: 1, DBType: "postgres",
				URI: dsns["postgres"], Allowlist: []string{"127.0.0.1"}})
			h, err := manager.Host(conn)
			if err != nil {
				t.Fatal(err)
			}
			f := fixture{conn: conn, env: map[string]string{"USERS_TABLE": tc.table}}
			res, err := call(mod, f, h, "login", `{"query":{"email":"a@example.com"},"password":"x"}`)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Code != engine.CodeConnectorError || !strings.Contains(ee.Message, tc.want) {
				t.Fatalf("err %v, want connector_error with %q", err, tc.want)
			}
			if len(res.Trace) != tc.hostCalls {
				t.Fatalf("host calls %+v, want %d", res.Trace, tc.hostCalls)
			}
			if tc.log != "" && (len(res.Logs) != 1 || res.Logs[0].Level != "warn" || !strings.Contains(res.Logs[0].Message, tc.log)) {
				t.Fatalf("logs %+v, want one warning with %q", res.Logs, tc.log)
			}
		})
	}
}

// TestCUnreadableHash checks that a stored hash the host cannot read ("!"
// and "*" of disabled accounts, a damaged bcrypt) matches no password:
// login answers wrong_password, not an error, after a check of the dummy
// hash (so it takes as long as a wrong password), and logs a warning
// naming the user.
func TestCUnreadableHash(t *testing.T) {
	t.Parallel()
	f := sqlFixture(t, "postgres")
	f.example = "c"
	mod := module(t, "c")
	h, err := manager.Host(f.conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, hash := range []string{"!", "*", "!$2a$10$ej.mhiNIACqO92cj6.uiD.esOUzQZrnQQRpwSGD0xGbjthrulcvJ.", "$2a$10$short"} {
		t.Run(hash, func(t *testing.T) {
			name := uniqueName("locked")
			res := sqlCall(t, h, "sql.query", "INSERT INTO "+f.env["USERS_TABLE"]+
				" (username, password_hash) VALUES ($1, $2) RETURNING id::text", name, hash)
			var out struct{ Rows [][]string }
			if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
				t.Fatalf("insert: %s (%v)", res, err)
			}
			r, err := call(mod, f, h, "login", `{"query":{"username":"`+name+`"},"password":"x"}`)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Code != engine.CodeWrongPassword {
				t.Fatalf("login: err %v, want wrong_password", err)
			}
			var ops []string
			for _, c := range r.Trace {
				ops = append(ops, c.Op)
			}
			if got := strings.Join(ops, " "); got != "sql.query password.verify password.verify" {
				t.Fatalf("host calls %s, want the lookup, the stored hash's check and the dummy's", got)
			}
			if len(r.Logs) != 1 || r.Logs[0].Level != "warn" || !strings.Contains(r.Logs[0].Message, "user "+out.Rows[0][0]+":") {
				t.Fatalf("logs %+v, want one warning naming user %s", r.Logs, out.Rows[0][0])
			}
		})
	}
}
