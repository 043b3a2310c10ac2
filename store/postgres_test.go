package store_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-dev/sluice/store"
)

func pgDSN() string {
	if v := os.Getenv("SLUICE_TEST_PG_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// postgresBackend creates a unique schema for the test, dropped after it.
func postgresBackend(t *testing.T) opener {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", pgDSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		t.Skipf("PostgreSQL not reachable at SLUICE_TEST_PG_DSN: %v", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "store_test_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
		admin.Close()
	})
	u, err := url.Parse(pgDSN())
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dsn := u.String()
	return func(t *testing.T, key []byte) store.Store {
		t.Helper()
		s, err := store.OpenPostgres(ctx, dsn, key)
		if err != nil {
			t.Fatalf("OpenPostgres: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestPostgresContract(t *testing.T) {
	t.Parallel()
	runContract(t, postgresBackend)
}
