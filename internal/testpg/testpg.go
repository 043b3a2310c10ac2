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

// LegacyUsers makes a schema of its own holding the users table of
// examples/postgres with n users (user0@legacy.example.com, user0,
// +15550000000, nickname "User 0", ...), dropped when tb ends, and returns
// a URI that reaches it (search_path set to the schema).
func LegacyUsers(tb testing.TB, n int) string {
	tb.Helper()
	db, err := sql.Open("pgx", DSN())
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	suffix := make([]byte, 6)
	rand.Read(suffix)
	schema := "legacy_" + hex.EncodeToString(suffix)
	_, self, _, _ := runtime.Caller(0)
	ddl, err := os.ReadFile(filepath.Join(filepath.Dir(self), "..", "..", "examples", "postgres", "schema.sql"))
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	for _, q := range []string{"CREATE SCHEMA " + schema, "SET search_path TO " + schema, string(ddl)} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
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
		if _, err := conn.ExecContext(ctx, "INSERT INTO users (email, username, phone, nickname, password_hash) VALUES "+rows.String()); err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		if db, err := sql.Open("pgx", DSN()); err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
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
