package main

import (
	"context"

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

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.login(ctx, in.Query, in.Password)
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.get(ctx, in.Query)
	})
	searchuser.Handle(func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.list(ctx, in.Keyword, in.Page, in.Limit)
	})
	createuser.Handle(func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.create(ctx, in.User)
	})
	updateuser.Handle(func(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.update(ctx, in.ID, in.Updates)
	})
	deleteuser.Handle(func(ctx context.Context, in sluice.DeleteUserInput) error {
		s, err := open()
		if err != nil {
			return err
		}
		return s.delete(ctx, in.ID)
	})
	listusers.Handle(func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
		s, err := open()
		if err != nil {
			return nil, err
		}
		return s.list(ctx, "", in.Page, in.Limit)
	})
	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		s, err := open()
		if err != nil {
			return false, err
		}
		return s.validatePassword(ctx, in.ID, in.Password)
	})
}

// main is never run: a connector is a reactor.
func main() {}
