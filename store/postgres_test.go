package store_test

import (
	"context"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

// postgresBackend creates a unique schema for the test, dropped after it.
func postgresBackend(t *testing.T) opener {
	t.Helper()
	ctx := context.Background()
	dsn := testpg.Schema(t, "store_test")
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
