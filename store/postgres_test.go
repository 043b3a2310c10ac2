package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

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

// TestPostgresPruneAndUploadShareAModule: a prune and an upload of the
// same module on another connection, each holding the module row at the
// moment the other comes: neither fails and the module stays while a
// version uses it. The other side's statements are AddVersion's and
// collectModule's, run by hand in a transaction held open.
func TestPostgresPruneAndUploadShareAModule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := testpg.Schema(t, "store_test")
	s, err := store.OpenPostgres(ctx, dsn, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	a := newTenant(t, ctx, s, "acme")
	for _, name := range []string{"pruned", "up"} {
		must(s.PutConnection(ctx, pgConn(a.ID, name)))(t)
	}
	for n := byte(1); n <= 3; n++ {
		must(s.AddVersion(ctx, a.ID, "pruned", store.NewVersion{Activate: n == 1}, wasm(n)))(t)
	}
	bounded, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()

	t.Run("upload holds the module", func(t *testing.T) {
		// An upload of module 2 to "up" has inserted (locked) the module
		// row and not committed yet.
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		sha := shaHex(wasm(2))
		if _, err := tx.ExecContext(ctx, `INSERT INTO modules (sha256, size, bytes, created_at) VALUES ($1, $2, $3, 0)
			ON CONFLICT (sha256) DO UPDATE SET size = excluded.size`, sha, len(wasm(2)), wasm(2)); err != nil {
			t.Fatal(err)
		}
		// Pruning version 2 (module 2) neither waits for it nor deletes it.
		v, err := s.AddVersion(bounded, a.ID, "pruned", store.NewVersion{MaxVersions: 3}, wasm(4))
		if err != nil || fmt.Sprint(v.Pruned) != "[2]" {
			t.Fatalf("prune beside an upload: %+v, %v", v, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO versions (tenant_id, connection_name, version, sha256, size, functions, abi_version, created_at)
			VALUES ($1, 'up', 1, $2, $3, '[]', 1, 0)`, a.ID, sha, len(wasm(2))); err != nil {
			t.Fatalf("the upload's version after the prune: %v", err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if b := must(s.ModuleBytes(ctx, sha))(t); !bytes.Equal(b, wasm(2)) {
			t.Fatal("module 2 differs")
		}
	})

	t.Run("prune holds the module", func(t *testing.T) {
		// A prune has deleted module 3's last version and locked the row.
		sha := shaHex(wasm(3))
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		if _, err := tx.ExecContext(ctx, `DELETE FROM versions WHERE tenant_id = $1 AND connection_name = 'pruned' AND version = 3`, a.ID); err != nil {
			t.Fatal(err)
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM modules WHERE sha256 = $1
			AND NOT EXISTS (SELECT 1 FROM versions WHERE versions.sha256 = modules.sha256) FOR UPDATE SKIP LOCKED`, sha).Scan(&one); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM modules WHERE sha256 = $1`, sha); err != nil {
			t.Fatal(err)
		}
		// An upload of module 3 to "up" waits for the prune, then stores
		// the module again.
		done := make(chan error, 1)
		go func() {
			_, err := s.AddVersion(bounded, a.ID, "up", store.NewVersion{}, wasm(3))
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("the upload did not wait for the prune holding its module: %v", err)
		case <-time.After(200 * time.Millisecond):
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatalf("upload after the prune: %v", err)
		}
		if b := must(s.ModuleBytes(ctx, sha))(t); !bytes.Equal(b, wasm(3)) {
			t.Fatal("module 3 lost")
		}
	})
}
