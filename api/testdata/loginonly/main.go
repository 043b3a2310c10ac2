// Command loginonly is a test connector that exports login and nothing
// else: a LAZY_MIGRATION connection running it cannot answer getUser, so
// registrations on it must be refused (fail closed). Its login knows no
// user.
package main

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		return nil, sluice.ErrUserNotFound
	})
}
