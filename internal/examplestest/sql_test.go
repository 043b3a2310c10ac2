package examplestest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// dsns are the test databases by dbType.
var dsns = map[string]string{
	"postgres": env("SLUICE_TEST_PG_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
	"mysql":    env("SLUICE_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test"),
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	runSuite(t, sqlFixture(t, "postgres"))
}

func TestMySQL(t *testing.T) {
	t.Parallel()
	runSuite(t, sqlFixture(t, "mysql"))
}

// TestUsersTableName checks that a USERS_TABLE that is not an identifier
// is refused before any SQL is sent.
func TestUsersTableName(t *testing.T) {
	t.Parallel()
	for _, example := range []string{"postgres", "mysql"} {
		t.Run(example, func(t *testing.T) {
			f := fixture{example: example, env: map[string]string{"USERS_TABLE": "users; DROP TABLE users"},
				conn: loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: example, ConfigVersion: 1, DBType: example,
					URI: dsns[example], Allowlist: []string{"127.0.0.1"}})}
			h, err := manager.Host(f.conn)
			if err != nil {
				t.Fatal(err)
			}
			res, err := call(module(t, example), f, h, "getUser", `{"query":{"id":"1"}}`)
			var ee *engine.Error
			if !errors.As(err, &ee) || ee.Code != engine.CodeConnectorError || !strings.Contains(ee.Message, "USERS_TABLE") {
				t.Fatalf("err %v, want a connector_error naming USERS_TABLE", err)
			}
			if len(res.Trace) != 0 {
				t.Fatalf("host calls %+v, want none", res.Trace)
			}
		})
	}
}

// sqlFixture creates the example's schema.sql under a unique table name
// on the test database of dbType and inserts the seed users.
func sqlFixture(t *testing.T, dbType string) fixture {
	table := uniqueName("sluice_users")
	conn := loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: dbType, ConfigVersion: 1, DBType: dbType,
		URI: dsns[dbType], Allowlist: []string{"127.0.0.1"}})
	h, err := manager.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	ph := func(n int) string { return "?" }
	if dbType == "postgres" {
		ph = func(n int) string { return fmt.Sprintf("$%d", n) }
	}

	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", dbType, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlCall(t, h, "sql.exec", "DROP TABLE IF EXISTS "+table) })
	for _, stmt := range sqlStatements(string(schema), table) {
		sqlCall(t, h, "sql.exec", stmt)
	}

	insert := fmt.Sprintf("INSERT INTO %s (email, email_verified, username, phone, phone_verified, nickname, name, custom_data, password_hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
		table, ph(1), ph(2), ph(3), ph(4), ph(5), ph(6), ph(7), ph(8), ph(9))
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	ids := map[string]string{}
	for _, u := range seedUsers {
		var custom any
		if u.customData != nil {
			custom = u.customData
		}
		args := []any{u.email, u.emailVerified, u.username, u.phone, u.phoneVerified,
			null(u.nickname), null(u.name), custom, null(seedHashes()[u.key])}
		if dbType == "postgres" {
			var out struct{ Rows [][]json.Number }
			res := sqlCall(t, h, "sql.query", insert+" RETURNING id", args...)
			if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
				t.Fatalf("insert: %s (%v)", res, err)
			}
			ids[u.key] = out.Rows[0][0].String()
			continue
		}
		var out struct{ LastInsertID int64 }
		if err := json.Unmarshal(sqlCall(t, h, "sql.exec", insert, args...), &out); err != nil {
			t.Fatal(err)
		}
		ids[u.key] = fmt.Sprint(out.LastInsertID)
	}
	return fixture{
		example: dbType, conn: conn, env: map[string]string{"USERS_TABLE": table}, ids: ids,
		hash: func(t *testing.T, id string) string {
			res := sqlCall(t, h, "sql.query", "SELECT password_hash FROM "+table+" WHERE id = "+ph(1), id)
			var out struct{ Rows [][]string }
			if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
				t.Fatalf("password_hash of %s: %s (%v)", id, res, err)
			}
			return out.Rows[0][0]
		},
	}
}

// sqlStatements splits a schema file into its statements, with the table
// users renamed to table (and its constraints and indexes users_* too).
func sqlStatements(schema, table string) []string {
	var lines []string
	for _, line := range strings.Split(schema, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			lines = append(lines, line)
		}
	}
	text := regexp.MustCompile(`\busers`).ReplaceAllString(strings.Join(lines, "\n"), table)
	var stmts []string
	for _, s := range strings.Split(text, ";") {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, s)
		}
	}
	return stmts
}

// sqlCall runs one SQL host call on the connection and returns its result.
func sqlCall(t *testing.T, h engine.Host, op, query string, args ...any) json.RawMessage {
	t.Helper()
	if args == nil {
		args = []any{}
	}
	req, err := json.Marshal(map[string]any{"sql": query, "args": args})
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.HostCall(context.Background(), op, req, &engine.HostCall{})
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return res
}
