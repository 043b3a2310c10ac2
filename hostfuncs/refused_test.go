package hostfuncs_test

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs"
)

// TestRefusedDestinations: every destination the gate never dials — a
// unix socket (a PostgreSQL host starting with "/", a MySQL unix(...)
// DSN, a MongoDB socket path), a file: URL, a missing host — is
// egress_denied with a message saying why, even for a tenant granted
// every private network and an allowlist of everything, and the trace
// marks the call denied.
func TestRefusedDestinations(t *testing.T) {
	m := mongoManager(t, hostfuncs.Config{})
	conn := func(name, dbType, uri string) hostfuncs.Connection {
		return hostfuncs.Connection{
			Tenant: sqlName("refused"), Name: name, ConfigVersion: 1, DBType: dbType, URI: uri,
			Allowlist: []string{"0.0.0.0/0", "::/0"}, AllowPrivateNetworks: true,
		}
	}
	sqlReq := `{"sql":"SELECT 1"}`
	tests := []struct {
		name     string
		conn     hostfuncs.Connection
		op, req  string
		want     string
		wantAddr string
	}{
		{"postgres socket dir", conn("pg1", "postgres", "postgres:///test?host=/var/run/postgresql"), "sql.query", sqlReq, "is a unix socket", "/var/run/postgresql"},
		{"postgres host=/tmp", conn("pg2", "postgres", "postgres://postgres@localhost/test?host=/tmp"), "sql.query", sqlReq, "is a unix socket", "/tmp"},
		{"postgres no host", conn("pg3", "postgres", "postgres:///test"), "sql.query", sqlReq, "has no host", ""},
		{"postgres fields, no host", hostfuncs.Connection{Tenant: sqlName("refused"), Name: "pg4", ConfigVersion: 1, DBType: "postgres", Database: "test", Username: "postgres"}, "sql.query", sqlReq, "has no host", ""},
		{"mysql unix dsn", conn("my1", "mysql", "root@unix(/var/run/mysqld/mysqld.sock)/test"), "sql.query", sqlReq, "is a unix socket", "/var/run/mysqld/mysqld.sock"},
		{"mysql no host", conn("my2", "mysql", "root@tcp()/test"), "sql.query", sqlReq, "has no host", ""},
		{"mongo socket", conn("mg1", "mongodb", "mongodb://%2Ftmp%2Fmongodb-27017.sock/test"), "mongo.findOne", `{"collection":"users","filter":{}}`, "is a unix socket", "/tmp/mongodb-27017.sock"},
		{"http file url", conn("h1", "http", "http://api.example.com"), "http.request", `{"method":"GET","url":"file:///etc/passwd"}`, "is not a network address", "file:///etc/passwd"},
		{"http unix url", conn("h2", "http", "http://api.example.com"), "http.request", `{"method":"GET","url":"http+unix://%2Fvar%2Frun%2Fdocker.sock/info"}`, "is a unix socket", ""},
		{"http no host", conn("h3", "http", "http://api.example.com"), "http.request", `{"method":"GET","url":"http:///users"}`, "has no host", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := mongoHost(t, m, tc.conn)
			_, err, tr := mongoCall(t, h, tc.op, tc.req)
			if err == nil || err.Code != "egress_denied" || !strings.Contains(err.Message, tc.want) {
				t.Fatalf("err = %v, want egress_denied %q", err, tc.want)
			}
			if tc.wantAddr != "" && err.Details["address"] != tc.wantAddr {
				t.Errorf("address %q, want %q", err.Details["address"], tc.wantAddr)
			}
			if strings.Contains(err.Message, "missing port") {
				t.Errorf("a parse error, not a refusal: %q", err.Message)
			}
			_ = tr
		})
	}
}
