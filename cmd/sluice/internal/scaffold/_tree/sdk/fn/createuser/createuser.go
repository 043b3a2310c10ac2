package createuser

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.CreateUserInput]("createUser")

// Handle makes h the connector's createUser; call it from an init function.
//
// createUser creates a user and returns it with its new id, or fails with
// sluice.ErrUserExists.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.CreateUserInput) (any, error) {
		u, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return dispatch.User("createUser", u)
	})
}
