package getuser

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.GetUserInput]("getUser")

// Handle makes h the connector's getUser; call it from an init function.
//
// getUser looks a user up by id, email, username or phone. A nil user
// with a nil error means there is none (the result is JSON null).
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.GetUserInput) (any, error) {
		u, err := h(ctx, *in)
		if err != nil || u == nil {
			return nil, err
		}
		return dispatch.User("getUser", u)
	})
}
