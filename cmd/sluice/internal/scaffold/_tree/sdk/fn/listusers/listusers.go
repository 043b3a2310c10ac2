package listusers

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.ListUsersInput]("listUsers")

// Handle makes h the connector's listUsers; call it from an init function.
//
// listUsers returns one page (1-based) of all users, in a stable order,
// with the total count. A nil list is an empty one.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.ListUsersInput) (any, error) {
		l, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return dispatch.List(l), nil
	})
}
