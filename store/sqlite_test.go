package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/store"
)

func sqliteBackend(t *testing.T) opener {
	path := filepath.Join(t.TempDir(), "sluice.db")
	return func(t *testing.T, key []byte) store.Store {
		t.Helper()
		s, err := store.OpenSQLite(context.Background(), path, key)
		if err != nil {
			t.Fatalf("OpenSQLite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
}

func TestSQLiteContract(t *testing.T) {
	t.Parallel()
	runContract(t, sqliteBackend)
}

func TestSQLiteSecretsNotInFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "sluice.db")
	s, err := store.OpenSQLite(ctx, path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := must(s.CreateTenant(ctx, "acme", ""))(t)
	secrets := []string{"PASSWORD-d41d8cd98f", "URI-SECRET-7e4a1b", "ENV-VALUE-99aa77"}
	c := pgConn(a.ID, "db")
	c.Connection.Password = secrets[0]
	must(s.PutConnection(ctx, c))(t)
	c2 := pgConn(a.ID, "by-uri")
	c2.Connection = store.ConnParams{URI: "postgres://app:" + secrets[1] + "@db:5432/x"}
	c2.Env = map[string]string{"TOKEN": secrets[2]}
	must(s.PutConnection(ctx, c2))(t)

	check := func(when string) {
		t.Helper()
		files, _ := filepath.Glob(path + "*")
		if len(files) == 0 {
			t.Fatal("no database files")
		}
		seen := false
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			seen = seen || bytes.Contains(b, []byte("TOKEN")) // env names are stored in clear: the data is there
			for _, sec := range secrets {
				if bytes.Contains(b, []byte(sec)) {
					t.Fatalf("%s: %s contains the plaintext %q", when, filepath.Base(f), sec)
				}
			}
		}
		if !seen {
			t.Fatalf("%s: the connection rows are not in the files %v", when, files)
		}
	}
	check("open")
	if got := must(s.GetConnection(ctx, a.ID, "by-uri"))(t); got.Connection.URI != c2.Connection.URI || got.Env["TOKEN"] != secrets[2] {
		t.Fatalf("round trip: %+v", got)
	}
	s.Close()
	check("closed")
}

func TestSQLiteSettings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s, err := store.OpenSQLite(ctx, path, testKey)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var steps, version int
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), MAX(version) FROM schema_migrations").Scan(&steps, &version); err != nil {
		t.Fatal(err)
	}
	if steps != version || steps < 1 {
		t.Fatalf("schema_migrations: %d rows, newest %d", steps, version)
	}
}

func TestOpenSQLiteRejectsBadKey(t *testing.T) {
	t.Parallel()
	_, err := store.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "x.db"), []byte("short"))
	if err == nil {
		t.Fatal("OpenSQLite accepted a 5-byte key")
	}
}

func TestOpenConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := store.Open(ctx, store.Config{DataDir: dir, MasterKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Join(dir, store.SQLiteFile)); err != nil {
		t.Fatalf("no database file in the data dir: %v", err)
	}
	if _, err := store.Open(ctx, store.Config{MasterKey: testKey}); err == nil {
		t.Fatal("Open without URL or data dir succeeded")
	}
}

// TestMigrationKeepsTenants: a store made before migration 2 (CPU quota,
// private-network grant) gets the new columns, and its tenants get no
// CPU quota and no private networks.
func TestMigrationKeepsTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s := must(store.OpenSQLite(ctx, path, testKey))(t)
	tn := must(s.CreateTenant(ctx, "old", ""))(t)
	s.Close()
	// Back to the schema of version 1.
	sqliteExec(t, path,
		"ALTER TABLE tenants DROP COLUMN cpu_ms_per_minute",
		"ALTER TABLE tenants DROP COLUMN allow_private_networks",
		"ALTER TABLE tenants DROP COLUMN private_networks",
		"DELETE FROM schema_migrations WHERE version = 2",
	)

	s = must(store.OpenSQLite(ctx, path, testKey))(t)
	defer s.Close()
	got, err := s.GetTenant(ctx, tn.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Quotas.Equal(store.DefaultQuotas()) || got.Quotas.PrivateNetworks == nil {
		t.Fatalf("migrated tenant's quotas = %+v, want the defaults", got.Quotas)
	}
}

// TestMigrationKeepsEnvSecret: a store made before migration 4 (plain env
// values) keeps its connections, with every env value still a secret.
func TestMigrationKeepsEnvSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s := must(store.OpenSQLite(ctx, path, testKey))(t)
	tn := must(s.CreateTenant(ctx, "old", ""))(t)
	if _, err := s.PutConnection(ctx, pgConn(tn.ID, "db")); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to the schema of version 3.
	sqliteExec(t, path,
		"DROP INDEX versions_sha256",
		"ALTER TABLE connections DROP COLUMN env_plain",
		"DELETE FROM schema_migrations WHERE version = 4",
	)

	s = must(store.OpenSQLite(ctx, path, testKey))(t)
	defer s.Close()
	got, err := s.GetConnection(ctx, tn.ID, "db")
	if err != nil {
		t.Fatal(err)
	}
	if got.PlainEnv == nil || len(got.PlainEnv) != 0 || got.Env["API_TOKEN"] != "token-db" || got.Env["REGION"] != "eu" {
		t.Fatalf("migrated connection: env %v, plain %#v", got.Env, got.PlainEnv)
	}
}

// TestMigrationTalliesCallLog: a store made before migrations 9 and 10
// (the call log's tallies on the connection row) counts the calls it
// already holds, so the bounds hold from the first batch after them.
func TestMigrationTalliesCallLog(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s := must(store.OpenSQLite(ctx, path, testKey))(t)
	tn := must(s.CreateTenant(ctx, "old", ""))(t)
	if _, err := s.PutConnection(ctx, pgConn(tn.ID, "db")); err != nil {
		t.Fatal(err)
	}
	var calls []store.Call
	for i := range 6 {
		calls = append(calls, store.Call{Tenant: tn.ID, Connection: "db", Time: time.Now(), Function: "login",
			RequestID: fmt.Sprint(i), Outcome: "ok", Record: []byte(`{"n":1}`)})
	}
	if _, err := s.AppendCalls(ctx, calls, store.CallBounds{}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to the schema of version 8.
	sqliteExec(t, path,
		"ALTER TABLE connections DROP COLUMN call_count",
		"ALTER TABLE connections DROP COLUMN call_bytes",
		"DELETE FROM schema_migrations WHERE version IN (9, 10)",
	)

	s = must(store.OpenSQLite(ctx, path, testKey))(t)
	defer s.Close()
	if _, err := s.AppendCalls(ctx, calls[:1], store.CallBounds{MaxCalls: 4}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListCalls(ctx, tn.ID, "db", store.CallQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Fatalf("after migrating 6 calls and adding 1 under a bound of 4: %d calls", len(got))
	}
	size := int64(len(calls[0].Record))
	if n, bytes := callTallies(t, path, tn.ID, "db"); n != 4 || bytes != 4*size {
		t.Fatalf("tallies %d calls, %d bytes; want 4, %d", n, bytes, 4*size)
	}
}

// callTallies reads a connection's call-log tallies from a SQLite store.
func callTallies(t *testing.T, path, tenant, conn string) (n, bytes int64) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(`SELECT call_count, call_bytes FROM connections WHERE tenant_id = ? AND name = ?`, tenant, conn).Scan(&n, &bytes); err != nil {
		t.Fatal(err)
	}
	return n, bytes
}

// TestCallTalliesHeal: tallies that drifted from the log (calls written
// by a node that keeps none, during a rolling upgrade) are counted again
// within a few dozen batches, and the bound holds again.
func TestCallTalliesHeal(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "sluice.db")
	s := must(store.OpenSQLite(ctx, path, testKey))(t)
	defer s.Close()
	tn := must(s.CreateTenant(ctx, "acme", ""))(t)
	if _, err := s.PutConnection(ctx, pgConn(tn.ID, "db")); err != nil {
		t.Fatal(err)
	}
	// An older node's writer: calls in the log, the tallies untouched.
	var old []string
	for i := range 7 {
		old = append(old, fmt.Sprintf(`INSERT INTO call_log (tenant_id, connection_name, at, function_name, request_id, outcome, code, size, record)
			VALUES ('%s', 'db', 0, 'login', 'old-%d', 'ok', '', 7, '{"n":1}')`, tn.ID, i))
	}
	sqliteExec(t, path, old...)
	call := store.Call{Tenant: tn.ID, Connection: "db", Time: time.Now(), Function: "login", RequestID: "new", Outcome: "ok", Record: []byte(`{"n":2}`)}
	for range 64 {
		if _, err := s.AppendCalls(ctx, []store.Call{call}, store.CallBounds{MaxCalls: 5}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.ListCalls(ctx, tn.ID, "db", store.CallQuery{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("after 64 batches under a bound of 5: %d calls", len(got))
	}
	if n, bytes := callTallies(t, path, tn.ID, "db"); n != 5 || bytes != 35 {
		t.Fatalf("tallies %d calls, %d bytes; want 5, 35", n, bytes)
	}
}

// sqliteExec runs statements on a SQLite store's file directly (to take
// its schema back to an earlier version, or write as an older node did).
func sqliteExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}
