package hostfuncs_test

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/hostfuncs"
)

// TestSQLEgressDenied: loopback databases are refused to a tenant
// without a private-network grant naming loopback, whatever the
// allowlist says: no grant, a grant of every private range, a grant of
// 10.0.0.0/8. The same databases answer under a grant naming them, and
// that grant's open pool never serves the others.
func TestSQLEgressDenied(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	grants := []struct {
		name     string
		private  bool
		networks []string
	}{
		{"no grant", false, nil},
		{"every private range", true, nil},
		{"10.0.0.0/8", true, []string{"10.0.0.0/8"}},
	}
	for _, d := range sqlDBs(t) {
		// First under a grant naming loopback: the pool opens and keeps
		// its connection. The same tenant's connection under another
		// grant gets a pool of its own, so the open one cannot serve it.
		t.Run(d.name+"/granted", func(t *testing.T) {
			sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})
		})
		for _, g := range grants {
			t.Run(d.name+"/"+g.name, func(t *testing.T) {
				conn := d.conn
				conn.AllowPrivateNetworks, conn.PrivateNetworks = g.private, g.networks
				out, trace := sqlRun(t, m, conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})
				sqlWantCode(t, out, "egress_denied", "is loopback")
				if out.Error.Details["address"] == nil {
					t.Errorf("details %v lack the address", out.Error.Details)
				}
				if tr := trace[0]; !tr.Denied || tr.Kind != "sql" || !strings.HasPrefix(tr.Target, "127.0.0.1:") {
					t.Errorf("trace %+v, want a denied sql call to 127.0.0.1", tr)
				}
			})
		}
	}
}

func sqlDeadPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// TestSQLConnectFailures: a dead server and refused logins are clear
// db_errors, and other connections keep working.
func TestSQLConnectFailures(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	port := sqlDeadPort(t)
	conn := func(dbType, uri string) hostfuncs.Connection {
		return granted(hostfuncs.Connection{Tenant: sqlName("t"), Name: "c", ConfigVersion: 1, DBType: dbType, URI: uri, Allowlist: []string{"127.0.0.1"}})
	}
	tests := []struct {
		name     string
		conn     hostfuncs.Connection
		msg      string
		detail   string // sqlstate or mysqlErrno, when the server answered
		detailOf string
	}{
		{"postgres dead", conn("postgres", fmt.Sprintf("postgres://postgres@127.0.0.1:%d/test?sslmode=disable", port)), "connection refused", "", ""},
		{"mysql dead", conn("mysql", fmt.Sprintf("root@tcp(127.0.0.1:%d)/test", port)), "connection refused", "", ""},
		{"postgres unknown role", conn("postgres", "postgres://sluice_no_such_role:pw@127.0.0.1:5432/test?sslmode=disable"), "does not exist", "28000", "sqlstate"},
		{"mysql wrong password", conn("mysql", "mysql://root:wrong-password@127.0.0.1:3306/test"), "Access denied", "1045", "mysqlErrno"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, trace := sqlRun(t, m, tc.conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})
			sqlWantCode(t, out, "db_error", tc.msg)
			if tc.detail != "" && out.Error.Details[tc.detailOf] != tc.detail {
				t.Errorf("details %v, want %s %s", out.Error.Details, tc.detailOf, tc.detail)
			}
			if strings.Contains(out.Error.Message, "wrong-password") || strings.Contains(trace[0].Error, "wrong-password") {
				t.Errorf("the password leaked: %q", out.Error.Message)
			}
			if trace[0].Denied || trace[0].Target == "" {
				t.Errorf("trace %+v", trace[0])
			}
		})
	}
	for _, d := range sqlDBs(t) {
		sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})
	}
}

// TestSQLStatementFailures: a syntax error and a query past its time
// limit reach the guest as errors, and the pool serves the next query.
func TestSQLStatementFailures(t *testing.T) {
	cfg := sqlConfig
	cfg.QueryTimeout = 300 * time.Millisecond
	m := sqlManager(t, cfg)
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			syntax, trace := sqlRun(t, m, d.conn, sqlReq{Op: "query", SQL: "SELEC 1", Scan: []string{"int64"}})
			sqlWantCode(t, syntax, "db_error", "syntax")
			if d.name == "postgres" && syntax.SQLStateOrErrno() != "42601" || d.name == "mysql" && syntax.SQLStateOrErrno() != "1064" {
				t.Errorf("syntax error %+v", *syntax.Error)
			}
			if trace[0].Statement != "SELEC 1" {
				t.Errorf("trace statement %q", trace[0].Statement)
			}
			sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})

			sleep := "SELECT pg_sleep(5)"
			if d.name == "mysql" {
				sleep = "SELECT SLEEP(5)"
			}
			slow, _ := sqlRun(t, m, d.conn, sqlReq{Op: "query", SQL: sleep, Scan: []string{"any"}})
			sqlWantCode(t, slow, "timeout", "time limit")
			out := sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT 7", Scan: []string{"int64"}})
			if out.Rows[0][0] != "7" {
				t.Fatalf("after a timeout: %v", out.Rows)
			}
		})
	}
}

// SQLStateOrErrno is the SDK's SQLState, or the MySQL error number.
func (o sqlOut) SQLStateOrErrno() string {
	if o.Error == nil {
		return ""
	}
	if o.Error.Errno != 0 {
		return fmt.Sprint(o.Error.Errno)
	}
	return o.Error.SQLState
}

// TestSQLConfigChange: a new configuration version gets a new pool and
// Evict closes the old one's connections.
func TestSQLConfigChange(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	v1 := sqlDBs(t)[0].conn
	v2 := v1
	v2.ConfigVersion = 2
	appName := func(c hostfuncs.Connection) string {
		return fmt.Sprintf("sluice:%s/%s/%d", c.Tenant, c.Name, c.ConfigVersion)
	}
	backends := func(c hostfuncs.Connection, via hostfuncs.Connection) string {
		out := sqlMust(t, m, via, sqlReq{Op: "query", SQL: "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = $1",
			Args: []sqlArg{{"string", appName(c)}}, Scan: []string{"int64"}})
		return out.Rows[0][0]
	}
	if got := backends(v1, v1); got != "1" {
		t.Fatalf("v1 backends %s, want 1 (the pool's one connection)", got)
	}
	m.Evict(v1.Tenant, v1.Name)
	if got := backends(v2, v2); got != "1" {
		t.Fatalf("v2 backends %s, want 1", got)
	}
	// Closing the old pool terminates its backends; the server notices
	// asynchronously, so wait for it (not a timing assertion).
	deadline := time.Now().Add(10 * time.Second)
	for backends(v1, v2) != "0" {
		if time.Now().After(deadline) {
			t.Fatal("the v1 pool's connection is still open after Evict")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
