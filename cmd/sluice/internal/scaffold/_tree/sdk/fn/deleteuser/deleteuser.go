package deleteuser

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.DeleteUserInput]("deleteUser")

// Handle makes h the connector's deleteUser; call it from an init function.
//
// deleteUser deletes a user (the result is true), or fails with
// sluice.ErrUserNotFound.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.DeleteUserInput) error) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.DeleteUserInput) (any, error) {
		if err := h(ctx, *in); err != nil {
			return nil, err
		}
		return true, nil
	})
}
