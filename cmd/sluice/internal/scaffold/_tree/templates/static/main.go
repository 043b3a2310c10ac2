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

// db is this instance's user list; it starts as the fixed list every time
// an instance starts.
var db = newStore()

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		return db.login(in.Query, in.Password)
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		return db.get(in.Query)
	})
	searchuser.Handle(func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
		return db.search(in.Keyword, in.Page, in.Limit), nil
	})
	createuser.Handle(func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
		return db.create(in.User)
	})
	updateuser.Handle(func(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
		return db.update(in.ID, in.Updates)
	})
	deleteuser.Handle(func(ctx context.Context, in sluice.DeleteUserInput) error {
		return db.delete(in.ID)
	})
	listusers.Handle(func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
		return db.search("", in.Page, in.Limit), nil
	})
	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		return db.validatePassword(in.ID, in.Password)
	})
}

// main is never run: a connector is a reactor.
func main() {}
