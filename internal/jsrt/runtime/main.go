// Command runtime is Sluice's JavaScript connector runtime: a WASI
// reactor built with the Go guest SDK that runs a tenant's custom-database
// script (the seed product's or Auth0's dialect) in the goja JavaScript
// engine. The script arrives in the instance's environment
// (SLUICE_JS_SOURCE); it is compiled and run once per instance, and each
// connector call then calls one of its functions.
//
// Build it with `go generate ./internal/jsrt` from the repository root
// (see ../gen.go); the gzipped module is committed and embedded by package
// internal/jsrt.
package main

import (
	"context"
	"encoding/json"
	"os"

	"github.com/sluice-dev/sluice/guest-sdk/fn/createuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/deleteuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/listusers"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/fn/searchuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/updateuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/validatepassword"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Environment variables the host sets; the script's env object leaves
// them out.
const (
	envSource  = "SLUICE_JS_SOURCE"
	envInspect = "SLUICE_JS_INSPECT"
)

func main() {}

// rt is the instance's script, made at its first call.
var rt *script

func current() (*script, error) {
	if rt == nil {
		s, err := newScript(os.Getenv(envSource))
		if err != nil {
			return nil, err
		}
		rt = s
	}
	return rt, nil
}

// marshal turns a typed input back into JSON for the script.
func marshal(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func init() {
	login.Handle(func(_ context.Context, in sluice.LoginInput) (*sluice.User, error) {
		if os.Getenv(envInspect) != "" {
			return inspectUser(os.Getenv(envSource)), nil
		}
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.userCall("login", in.Context, marshal(in.Query), in.Password)
	})
	getuser.Handle(func(_ context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.getUser(in)
	})
	searchuser.Handle(func(_ context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.listCall("searchUser", in.Context, in.Keyword, in.Page, in.Limit)
	})
	createuser.Handle(func(_ context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.createUser(in)
	})
	updateuser.Handle(func(_ context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.userCall("updateUser", in.Context, in.ID, marshal(in.Updates))
	})
	deleteuser.Handle(func(_ context.Context, in sluice.DeleteUserInput) error {
		s, err := current()
		if err != nil {
			return err
		}
		_, err = s.call("deleteUser", in.Context, in.ID)
		return err
	})
	listusers.Handle(func(_ context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
		s, err := current()
		if err != nil {
			return nil, err
		}
		return s.listCall("listUsers", in.Context, in.Page, in.Limit)
	})
	validatepassword.Handle(func(_ context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		s, err := current()
		if err != nil {
			return false, err
		}
		return s.boolCall("validatePassword", in.Context, in.ID, in.Password)
	})
}
