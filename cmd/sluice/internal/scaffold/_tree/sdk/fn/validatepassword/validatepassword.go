package validatepassword

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.ValidatePasswordInput]("validatePassword")

// Handle makes h the connector's validatePassword; call it from an init function.
//
// validatePassword reports whether a password is the user's, or fails
// with sluice.ErrUserNotFound.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.ValidatePasswordInput) (any, error) {
		ok, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return ok, nil
	})
}
