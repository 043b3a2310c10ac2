package updateuser

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.UpdateUserInput]("updateUser")

// Handle makes h the connector's updateUser; call it from an init function.
//
// updateUser applies a partial update (see sluice.UserUpdates) and returns
// the updated user, or fails with sluice.ErrUserNotFound.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.UpdateUserInput) (any, error) {
		u, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return dispatch.User("updateUser", u)
	})
}
