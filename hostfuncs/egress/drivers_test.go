package egress_test

import (
	"database/sql"
	"errors"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// These tests use the real PostgreSQL and MariaDB on loopback: denied
// without a grant or with one that does not name loopback, connected
// with a grant naming 127.0.0.1 and an allowlist.

// loopbackGrant names the test servers' loopback address.
func loopbackGrant(t *testing.T) egress.Grant { return grant(t, true, "127.0.0.1/32", "::1") }

func TestPgx(t *testing.T) {
	dsn := envOr("SLUICE_TEST_PG_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	base, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	hostPort := net.JoinHostPort(base.Host, strconv.Itoa(int(base.Port)))
	tests := []struct {
		name    string
		grant   egress.Grant
		entries []string
		host    string // overrides the DSN host
		denied  string
	}{
		{"denied without a grant", noGrant, []string{base.Host}, "", "is loopback"},
		{"denied to a grant of every range", grantAll, []string{base.Host}, "", "is loopback"},
		{"denied to a grant of 10.0.0.0/8", grant(t, true, "10.0.0.0/8"), []string{base.Host}, "", "is loopback"},
		{"not allowlisted", loopbackGrant(t), []string{"203.0.113.0/24"}, "", egress.ReasonNotAllowlisted},
		{"allowed", loopbackGrant(t), []string{hostPort}, "", ""},
		{"allowed by name", loopbackGrant(t), []string{"localhost:" + strconv.Itoa(int(base.Port))}, "localhost", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allow, err := egress.ParseAllowlist(tc.entries)
			if err != nil {
				t.Fatal(err)
			}
			var dialed []string
			d := egress.NewDialer(egress.Config{}, tc.grant, allow, func(ev egress.DialEvent) {
				if !ev.Denied && ev.Err == nil {
					dialed = append(dialed, ev.Addr.String())
				}
			})
			cfg := base.Copy()
			if tc.host != "" {
				cfg.Host = tc.host
			}
			cfg.DialFunc = d.DialContext
			cfg.LookupFunc = egress.LookupPassthrough
			conn, err := pgx.ConnectConfig(t.Context(), cfg)
			if tc.denied != "" {
				var de *egress.DeniedError
				if !errors.As(err, &de) || !strings.HasPrefix(de.Reason, tc.denied) {
					t.Fatalf("connect: err = %v, want *DeniedError %q", err, tc.denied)
				}
				if len(dialed) > 0 {
					t.Errorf("connected to %v", dialed)
				}
				return
			}
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer conn.Close(t.Context())
			var one int
			if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
				t.Fatalf("SELECT 1 = %d, %v", one, err)
			}
			if len(dialed) != 1 {
				t.Errorf("dial events %v, want one successful connect", dialed)
			}
		})
	}
}

func TestMySQL(t *testing.T) {
	dsn := envOr("SLUICE_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test")
	base, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		grant  egress.Grant
		denied bool
	}{
		{"denied without a grant", noGrant, true},
		{"denied to a grant of every range", grantAll, true},
		{"allowed", loopbackGrant(t), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			allow, err := egress.ParseAllowlist([]string{base.Addr})
			if err != nil {
				t.Fatal(err)
			}
			d := egress.NewDialer(egress.Config{}, tc.grant, allow, nil)
			cfg := base.Clone()
			cfg.DialFunc = d.DialContext
			connector, err := mysql.NewConnector(cfg)
			if err != nil {
				t.Fatal(err)
			}
			db := sql.OpenDB(connector)
			defer db.Close()
			err = db.PingContext(t.Context())
			var de *egress.DeniedError
			if tc.denied {
				if !errors.As(err, &de) {
					t.Fatalf("ping: err = %v, want *DeniedError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ping: %v", err)
			}
		})
	}
}
