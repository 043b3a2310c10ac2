// Command hostcodes is a test connector for the error vocabulary: login
// makes one host call chosen by the username and fails with it in the
// way the password names, so the tests see which code reaches the API.
//
// Username: "sql" (SELECT 1), "sqlsleep" (SELECT pg_sleep(5)), "sqldup"
// (a unique violation; $DB names the dialect), "mongo" (findOne),
// "mongodup" (a duplicate _id), "http" (GET $API_URL). Password: "pass" (the host's error
// as it is), "wrap" (a plain Go error around it: connector_error),
// "panic" (a trap), "notfound" (user_not_found, a code of its own),
// "recover" (a second host call that works, then a plain error).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	sluicehttp "github.com/sluice-dev/sluice/guest-sdk/http"
	"github.com/sluice-dev/sluice/guest-sdk/mongo"
	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

func main() {}

func hostCall(ctx context.Context, what string) error {
	switch what {
	case "sql":
		_, err := sql.Query(ctx, "SELECT 1")
		return err
	case "sqlsleep":
		_, err := sql.Query(ctx, "SELECT pg_sleep(5)")
		return err
	case "sqldup":
		// A unique violation inside one batch (rolled back as a whole).
		create, insert := "CREATE TEMP TABLE IF NOT EXISTS sluice_dup (k int PRIMARY KEY)", "INSERT INTO sluice_dup VALUES (1), (1)"
		if os.Getenv("DB") == "mysql" {
			create = "CREATE TEMPORARY TABLE IF NOT EXISTS sluice_dup (k int PRIMARY KEY)"
		}
		_, err := sql.Batch(ctx, sql.Stmt(create), sql.Stmt(insert))
		return err
	case "mongodup":
		doc := map[string]any{"_id": "dup"}
		mongo.Collection("vocab_dup").InsertOne(ctx, doc)
		_, err := mongo.Collection("vocab_dup").InsertOne(ctx, doc)
		return err
	case "mongo":
		var doc map[string]any
		_, err := mongo.Collection("users").FindOne(ctx, map[string]any{}, &doc)
		return err
	case "http":
		res, err := sluicehttp.Client().Get(os.Getenv("API_URL"))
		if err == nil {
			res.Body.Close()
		}
		return err
	}
	return sluice.InvalidInput("unknown host call " + what)
}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		err := hostCall(ctx, in.Query.Username)
		if err == nil {
			return &sluice.User{ID: "1", Username: in.Query.Username}, nil
		}
		switch in.Password {
		case "pass":
			return nil, err
		case "wrap":
			return nil, errors.New("lookup failed: " + err.Error())
		case "panic":
			panic("lookup failed: " + err.Error())
		case "notfound":
			return nil, fmt.Errorf("no such user here: %w", sluice.ErrUserNotFound)
		case "recover":
			if _, herr := password.Hash("bcrypt", "x"); herr != nil {
				return nil, herr
			}
			return nil, errors.New("gave up after the fallback")
		}
		return nil, err
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		return nil, nil
	})
}
