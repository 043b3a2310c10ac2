// Command bcrypt is a hostile guest: login hashes the password with bcrypt
// (golang.org/x/crypto compiled into the guest) at the cost given in the
// input's query.username (default 12). bcrypt's work is 2^cost rounds of
// short loops inside called functions: no loop of the guest runs 16384
// iterations in one call, so none ever looks at the interrupt flag.
package main

import (
	"context"
	"strconv"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		cost, err := strconv.Atoi(in.Query.Username)
		if err != nil || cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
			cost = 12
		}
		h, err := bcrypt.GenerateFromPassword([]byte(in.Password), cost)
		if err != nil {
			return nil, err
		}
		return &sluice.User{ID: "1", Nickname: string(h)}, nil
	})
}
