//go:build !wasip1

package sql_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

// BenchmarkLoginGuestPath runs the guest side of a login-shaped call
// natively: decode the input, one sql.query host call answered with a
// canned row, scan it, build and encode the user. Its allocations are
// what the same code allocates in wasm, where each costs far more.
func BenchmarkLoginGuestPath(b *testing.B) {
	const input = `{"query":{"email":"Alice@example.com"},"password":"s3cret","context":{"tenant":"t_1234_1","connection":"pg","requestId":"r"}}`
	resp := []byte(`{"result":{"columns":["id","email","username","password_hash"],"types":["int8","text","text","text"],"rows":[[1,"alice@example.com","alice","$2a$10$abcdefghijklmnopqrstuuHm1FXzh3S0H3C4eXa1rE6i1zjvJNdYS"]]}}`)
	prev := abi.SetHooks(&abi.Hooks{HostCall: func(op string, req []byte) []byte { return resp }})
	b.Cleanup(func() { abi.SetHooks(prev) })
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		var (
			id                    int64
			email, username, hash string
		)
		err := sql.QueryRow(ctx, "SELECT id, email, username, password_hash FROM users WHERE email = $1",
			strings.ToLower(in.Query.Email)).Scan(&id, &email, &username, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, sluice.ErrUserNotFound
		}
		if err != nil {
			return nil, err
		}
		return &sluice.User{ID: strconv.FormatInt(id, 10), Email: email, Username: username}, nil
	})
	b.Cleanup(func() { login.Handle(nil) })
	r, _ := dispatch.Lookup("login")
	ctx := context.Background()
	want := `{"id":"1","email":"alice@example.com","username":"alice"}`
	if out, st := r.Run(ctx, []byte(input)); st != 0 || string(out) != want {
		b.Fatalf("status %d output %s", st, out)
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Run(ctx, []byte(input))
	}
}
