// Command calllog is a test connector for the call-log tests. login logs
// its input password and the connection's secrets (what a careless
// connector may do: the call log redacts them), runs one SQL statement
// with the password as a parameter (the trace keeps the statement, never
// its parameters), then: password "good" logs in, "panic" panics, any
// other is wrong. getUser logs the query's email and finds no one.
package main

import (
	"context"
	"os"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

func main() {}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		sluice.Log.Info("login attempt", "password", in.Password, "dbUri", os.Getenv("DB_CONNECTION_URI"), "apiToken", os.Getenv("API_TOKEN"))
		if _, err := sql.Query(ctx, "SELECT count(*) AS n FROM pg_class WHERE relname = $1", in.Password); err != nil {
			return nil, err
		}
		switch in.Password {
		case "good":
			return &sluice.User{ID: "1", Email: in.Query.Email}, nil
		case "panic":
			panic("the connector gave up on " + in.Query.Email)
		}
		return nil, sluice.ErrWrongPassword
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		sluice.Log.Warn("looking up", "email", in.Query.Email)
		return nil, nil
	})
}
