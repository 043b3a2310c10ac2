// Command nologin is a test connector for the api tests that implements
// getUser and nothing else, so it serves neither mode (both need login).
// getUser answers a user whose customData is the environment variables
// named by the query's username (comma-separated).
package main

import (
	"context"
	"os"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

func init() {
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		env := map[string]any{}
		for _, k := range strings.Split(in.Query.Username, ",") {
			if v, ok := os.LookupEnv(k); ok {
				env[k] = v
			}
		}
		return &sluice.User{ID: "env", CustomData: env}, nil
	})
}
