package searchuser

import (
	"context"

	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

var slot = dispatch.NewSlot[sluice.SearchUserInput]("searchUser")

// Handle makes h the connector's searchUser; call it from an init function.
//
// searchUser returns one page (1-based) of the users matching a keyword,
// with the count of all matches. A nil list is an empty one.
//
// Return a *sluice.Error (or wrap one) to fail with its code; any other
// error fails with connector_error and the error's text.
func Handle(h func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error)) {
	if h == nil {
		slot.Set(nil)
		return
	}
	slot.Set(func(ctx context.Context, in *sluice.SearchUserInput) (any, error) {
		l, err := h(ctx, *in)
		if err != nil {
			return nil, err
		}
		return dispatch.List(l), nil
	})
}
