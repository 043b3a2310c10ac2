package sqlhost

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

func TestPostgresConfig(t *testing.T) {
	dialer := egress.NewDialer(egress.Config{}, egress.Grant{}, egress.Allowlist{}, nil)
	tests := []struct {
		name, uri string
		wantErr   string
	}{
		{"plain", "postgres://app:pw@db.example.com:5432/users", ""},
		{"search path", "postgres://app@db.example.com/users?search_path=legacy", ""},
		{"not postgres", "mysql://app@db.example.com/users", "must be postgres://"},
		{"root certificate file", "postgres://app@db.example.com/users?sslmode=verify-full&sslrootcert=/etc/ssl/private/ca.pem", "sslrootcert would make Sluice read a file"},
		{"client key file", "postgres://app@db.example.com/users?sslkey=/root/.ssh/id_rsa", "sslkey"},
		{"password file", "postgres://app@db.example.com/users?passfile=/root/.pgpass", "passfile"},
		{"service file", "postgres://app@db.example.com/users?service=prod", "service"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := postgresConfig(&hostconn.Target{URI: tt.uri, Dialer: dialer})
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if cfg.ConnConfig.DialFunc == nil || cfg.ConnConfig.LookupFunc == nil {
					t.Fatal("the egress dialer is not wired")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want %q", err, tt.wantErr)
			}
		})
	}
}
