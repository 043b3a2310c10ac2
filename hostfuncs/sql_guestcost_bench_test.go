package hostfuncs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sluice-dev/sluice/engine"
)

// cannedRowHost answers sql.query with one user row and password.verify
// with valid, without a database: what is left of a login call is the
// engine's and the guest's own cost.
type cannedRowHost struct{}

func (cannedRowHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	tr.Target = "canned"
	if op == "password.verify" {
		return json.RawMessage(`{"valid":true}`), nil
	}
	return json.RawMessage(`{"columns":["id","email","username","password_hash"],"types":["int8","text","text","text"],` +
		`"rows":[[1,"alice@example.com","alice","$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"]]}`), nil
}

// BenchmarkSQLLoginGuestCost is BenchmarkSQLLogin's wasm login (testdata/
// sqlguest through the engine) with the database and the hash taken out:
// decoding the input, building the sql.query request, decoding and
// scanning the row, encoding the user, plus the engine's call overhead.
func BenchmarkSQLLoginGuestCost(b *testing.B) {
	e, mod := sqlGuest(b)
	input := []byte(`{"query":{"email":"alice@example.com"},"password":"s3cret","context":{"tenant":"t","connection":"pg","requestId":"r"}}`)
	for _, verify := range []string{"0", "1"} {
		name := "select"
		if verify == "1" {
			name = "select+verify"
		}
		b.Run(name, func(b *testing.B) {
			req := engine.Request{Tenant: "t", Pool: "guestcost/" + verify, Function: "login", Input: input,
				Env: map[string]string{"USERS_TABLE": "users", "LOGIN_VERIFY": verify}, Host: cannedRowHost{}}
			res, err := e.Call(context.Background(), mod, req)
			if err != nil {
				b.Fatal(err)
			}
			if string(res.Output) != `{"id":"1","email":"alice@example.com","username":"alice"}` {
				b.Fatalf("output %s", res.Output)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Call(context.Background(), mod, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSQLSelectNativeContext is the native SELECT of BenchmarkSQLLogin
// with a context.Background() (as that benchmark's native side runs it)
// and with a context that has a deadline, as every host call has one (the
// call's timeout): pgx watches a cancellable context with a goroutine per
// query.
func BenchmarkSQLSelectNativeContext(b *testing.B) {
	m := hostfuncsManagerForBench(b)
	table := sqlUsersTable(b, m, sqlDBs(nil)[0].conn, 4)
	pool, err := pgxpool.New(context.Background(), sqlPGDSN())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	query := "SELECT id, email, username, password_hash FROM " + table + " WHERE email = $1"
	for _, deadline := range []bool{false, true} {
		name := "background"
		if deadline {
			name = "deadline"
		}
		b.Run(name, func(b *testing.B) {
			b.RunParallel(func(pb *testing.PB) {
				var id int64
				var email, username, hash string
				for pb.Next() {
					ctx, cancel := context.Background(), context.CancelFunc(func() {})
					if deadline {
						ctx, cancel = context.WithTimeout(ctx, 5*time.Second)
					}
					err := pool.QueryRow(ctx, query, "alice@example.com").Scan(&id, &email, &username, &hash)
					cancel()
					if err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
