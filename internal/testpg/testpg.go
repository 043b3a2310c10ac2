// Package testpg gives tests and benchmarks a legacy user database on the
// test PostgreSQL server: examples/postgres's users table, filled with
// users whose passwords are bcrypt-hashed at cost 10.
package testpg

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
	"golang.org/x/crypto/bcrypt"
)

// Password is every seeded user's password.
const Password = "correct horse"

// DSN is the test server: SLUICE_TEST_PG_DSN or its default.
func DSN() string {
	if v := os.Getenv("SLUICE_TEST_PG_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

var (
	hashOnce sync.Once
	hash     string
)

// Hash is the bcrypt hash (cost 10) of Password.
func Hash() string {
	hashOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(Password), 10)
		if err != nil {
			panic(err)
		}
		hash = string(h)
	})
	return hash
}

// Schema makes a schema of its own on the test server, dropped when tb
// ends, and returns a URI whose search_path is that schema. prefix names
// the schema's user (api, store, ...). An unreachable server fails tb:
// make test starts it, and a skipped test would hide what it checks.
func Schema(tb testing.TB, prefix string) string {
	tb.Helper()
	db, err := sql.Open("pgx", DSN())
	if err != nil {
		tb.Fatal(err)
	}
	if err := db.PingContext(context.Background()); err != nil {
		db.Close()
		tb.Fatalf("PostgreSQL is not reachable at %s (SLUICE_TEST_PG_DSN; make test starts it): %v", DSN(), err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	schema := prefix + "_" + hex.EncodeToString(suffix)
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	u, err := url.Parse(DSN())
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// LegacyUsers makes a schema of its own holding the users table of
// examples/postgres with n users (user0@legacy.example.com, user0,
// +15550000000, nickname "User 0", ...), dropped when tb ends, and returns
// a URI that reaches it (search_path set to the schema).
func LegacyUsers(tb testing.TB, n int) string {
	tb.Helper()
	uri := Schema(tb, "legacy")
	db, err := sql.Open("pgx", uri)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	_, self, _, _ := runtime.Caller(0)
	ddl, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "examples", "postgres", "schema.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.Exec(string(ddl)); err != nil {
		tb.Fatalf("schema.sql: %v", err)
	}
	h := Hash()
	for start := 0; start < n; start += 1000 {
		var rows bytes.Buffer
		w := bufio.NewWriter(&rows)
		for i := start; i < n && i < start+1000; i++ {
			if i > start {
				w.WriteString(",")
			}
			fmt.Fprintf(w, "('user%d@legacy.example.com','user%d','+1555%07d','User %d','%s')", i, i, i, i, h)
		}
		w.Flush()
		if _, err := db.Exec("INSERT INTO users (email, username, phone, nickname, password_hash) VALUES " + rows.String()); err != nil {
			tb.Fatal(err)
		}
	}
	return uri
}
