package hostfuncs_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// sqlUsersTable creates an indexed users table on PostgreSQL holding
// alice@example.com with a bcrypt hash of "s3cret" at cost.
func sqlUsersTable(tb testing.TB, m *hostfuncs.Manager, conn hostfuncs.Connection, cost int) string {
	tb.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), cost)
	if err != nil {
		tb.Fatal(err)
	}
	h, err := m.Host(conn)
	if err != nil {
		tb.Fatal(err)
	}
	name := sqlName("sluice_users")
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"CREATE TABLE " + name + " (id bigserial primary key, email text not null unique, username text, password_hash text not null)", nil},
		{"INSERT INTO " + name + " (email, username, password_hash) VALUES ($1, $2, $3)", []any{"alice@example.com", "alice", string(hash)}},
	} {
		req, _ := json.Marshal(map[string]any{"sql": q.sql, "args": q.args})
		if _, err := h.HostCall(context.Background(), "sql.exec", req, &engine.HostCall{}); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		req, _ := json.Marshal(map[string]any{"sql": "DROP TABLE " + name})
		h.HostCall(context.Background(), "sql.exec", req, &engine.HostCall{})
	})
	return name
}

func sqlLogin(tb testing.TB, m *hostfuncs.Manager, conn hostfuncs.Connection, env map[string]string, email, password string) (*engine.Result, error) {
	e, mod := sqlGuest(tb)
	h, err := m.Host(conn)
	if err != nil {
		tb.Fatal(err)
	}
	input, _ := json.Marshal(map[string]any{"query": map[string]string{"email": email}, "password": password,
		"context": map[string]string{"tenant": conn.Tenant, "connection": conn.Name, "requestId": "r"}})
	return e.Call(context.Background(), mod, engine.Request{
		Tenant: conn.Tenant, Pool: conn.Name + "/login/" + env["LOGIN_VERIFY"], Function: "login", Input: input,
		Env: conn.Env(env), Host: h,
	})
}

func TestSQLLogin(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	conn := sqlDBs(t)[0].conn
	table := sqlUsersTable(t, m, conn, bcrypt.MinCost)
	env := map[string]string{"USERS_TABLE": table}
	tests := []struct {
		name, email, password, code string
	}{
		{"right password", "Alice@Example.com", "s3cret", ""},
		{"wrong password", "alice@example.com", "nope", "wrong_password"},
		{"unknown user", "bob@example.com", "s3cret", "user_not_found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := sqlLogin(t, m, conn, env, tc.email, tc.password)
			if tc.code != "" {
				var ee *engine.Error
				if err == nil || !errors.As(err, &ee) || string(ee.Code) != tc.code {
					t.Fatalf("err %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var u struct{ ID, Email, Username string }
			if err := json.Unmarshal(res.Output, &u); err != nil || u.ID != "1" || u.Email != "alice@example.com" || u.Username != "alice" {
				t.Fatalf("user %s (%v)", res.Output, err)
			}
			if len(res.Trace) != 2 || res.Trace[0].Op != "sql.query" || res.Trace[1].Op != "password.verify" {
				t.Fatalf("trace %+v", res.Trace)
			}
			q := res.Trace[0]
			if q.Target != "127.0.0.1:5432" || q.Rows != 1 || !strings.Contains(q.Statement, "WHERE email = $1") ||
				strings.Contains(q.Statement, "alice") || q.BytesIn == 0 || q.BytesOut == 0 {
				t.Fatalf("sql trace %+v", q)
			}
		})
	}
}
