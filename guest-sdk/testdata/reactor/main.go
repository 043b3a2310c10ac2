// Command reactor is the smallest connector: wasm_test.go builds it to
// check that a module exports exactly the functions whose packages it
// links, and imports nothing but WASI and the sluice host module.
package main

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		sluice.Log.Info("login", "email", in.Query.Email)
		var ok bool
		if err := sluice.HostCall("password.verify", map[string]string{"password": in.Password}, &ok); err != nil {
			return nil, err
		}
		if !ok {
			return nil, sluice.ErrWrongPassword
		}
		return &sluice.User{ID: "1", Email: in.Query.Email}, nil
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		return nil, nil
	})
}

func main() {}
