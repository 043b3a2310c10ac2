// Package sluice is the Go SDK for Sluice connectors: the types of the
// eight connector functions, typed errors, logging and host calls.
//
// A connector is a WASI reactor: a main package with an empty main, whose
// init functions register handlers. Each connector function has its own
// package under fn/ (login, getuser, searchuser, createuser, updateuser,
// deleteuser, listusers, validatepassword); importing one and calling its
// Handle is what makes the module export that function. A complete
// connector that answers login and getUser from a fixed user:
//
//	package main
//
//	import (
//		"context"
//
//		"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
//		"github.com/sluice-dev/sluice/guest-sdk/fn/login"
//		"github.com/sluice-dev/sluice/guest-sdk/sluice"
//	)
//
//	var alice = sluice.User{ID: "1", Email: "alice@example.com", Nickname: "Alice"}
//
//	func init() {
//		login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
//			if in.Query.Email != alice.Email {
//				return nil, sluice.ErrUserNotFound
//			}
//			if in.Password != "wonderland" {
//				return nil, sluice.ErrWrongPassword
//			}
//			sluice.Log.Info("login", "id", alice.ID, "requestId", in.Context.RequestID)
//			return &alice, nil
//		})
//		getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
//			if in.Query.ID == alice.ID || in.Query.Email == alice.Email {
//				return &alice, nil
//			}
//			return nil, nil // not found: the result is null
//		})
//	}
//
//	func main() {}
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o connector.wasm .
//
// and try it with sluice call connector.wasm login --input '{"query":{"email":"alice@example.com"},"password":"wonderland"}'.
// Test it without wasm through package sluicetest.
//
// # Errors
//
// A handler fails with a contract code by returning an *Error: the
// sentinels ErrUserNotFound, ErrWrongPassword and ErrUserExists, or
// InvalidInput(msg). Wrapping keeps the code
// (fmt.Errorf("no user %q: %w", email, sluice.ErrUserNotFound)) and makes
// the whole text the message. Any other error fails the call with
// connector_error and the error's text. A panic traps: the call fails with
// connector_error and the instance is thrown away.
//
// # Logging and environment
//
// Log writes leveled lines to the call's log; stdout and stderr reach it
// too. The connection's settings are environment variables
// (os.Getenv("DB_CONNECTION_URI"), DB_HOST, ..., and the tenant's env).
//
// # Host calls
//
// HostCall is the raw door to the host's operations (databases, HTTP,
// password hashing): a JSON request in, a JSON result or an *Error out.
//
// An instance serves one call at a time and may be reused, so globals
// may hold caches, but nothing guarantees they survive.
package sluice
