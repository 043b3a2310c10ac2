package login

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.LoginInput]("login")

// Handle makes h the connector's login; call it from an init function.
//
// login checks an account's password: it returns the user, or fails with
// sluice.ErrUserNotFound or sluice.ErrWrongPassword.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.LoginInput) (any, error) {
		u, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return dispatch.User("login", u)
	})
}
