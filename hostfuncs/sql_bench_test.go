package hostfuncs_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"
)

// BenchmarkSQLLogin compares a login-shaped call (one indexed SELECT by
// email on PostgreSQL, then a bcrypt verify at cost 10) through a wasm
// connector and the engine with the same logic in plain Go with pgx.
func BenchmarkSQLLogin(b *testing.B) {
	m := hostfuncsManagerForBench(b)
	conn := sqlDBs(nil)[0].conn
	table := sqlUsersTable(b, m, conn, 10)
	pool, err := pgxpool.New(context.Background(), sqlPGDSN())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	query := "SELECT id, email, username, password_hash FROM " + table + " WHERE email = $1"
	native := func(verify bool) error {
		var id int64
		var email, username, hash string
		if err := pool.QueryRow(context.Background(), query, "alice@example.com").Scan(&id, &email, &username, &hash); err != nil {
			return err
		}
		if verify {
			return bcrypt.CompareHashAndPassword([]byte(hash), []byte("s3cret"))
		}
		return nil
	}
	for _, verify := range []bool{true, false} {
		suffix, env := "+bcrypt10", map[string]string{"USERS_TABLE": table, "LOGIN_VERIFY": "1"}
		if !verify {
			suffix, env = "", map[string]string{"USERS_TABLE": table, "LOGIN_VERIFY": "0"}
		}
		b.Run("wasm"+suffix, func(b *testing.B) {
			if _, err := sqlLogin(b, m, conn, env, "alice@example.com", "s3cret"); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := sqlLogin(b, m, conn, env, "alice@example.com", "s3cret"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
		b.Run("native"+suffix, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := native(verify); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkSQLPooledVsConnect is the SELECT of a login in plain Go, from
// a pool and with a new connection per call.
func BenchmarkSQLPooledVsConnect(b *testing.B) {
	m := hostfuncsManagerForBench(b)
	table := sqlUsersTable(b, m, sqlDBs(nil)[0].conn, 4)
	query := "SELECT id, email FROM " + table + " WHERE email = $1"
	b.Run("pooled", func(b *testing.B) {
		pool, err := pgxpool.New(context.Background(), sqlPGDSN())
		if err != nil {
			b.Fatal(err)
		}
		defer pool.Close()
		b.RunParallel(func(pb *testing.PB) {
			var id int64
			var email string
			for pb.Next() {
				if err := pool.QueryRow(context.Background(), query, "alice@example.com").Scan(&id, &email); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("connect-per-call", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			var id int64
			var email string
			for pb.Next() {
				c, err := pgx.Connect(context.Background(), sqlPGDSN())
				if err != nil {
					b.Error(err)
					return
				}
				err = c.QueryRow(context.Background(), query, "alice@example.com").Scan(&id, &email)
				c.Close(context.Background())
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
