// Command probe is a test connector for the api tests: login can sleep
// (password "sleep:<ms>") and logs the call's context; getUser does
// nothing (the benchmark's no-op). A successful login echoes the context
// in the user's customData.
package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func main() {}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		sluice.Log.Info("context", "tenant", in.Context.Tenant, "connection", in.Context.Connection, "requestId", in.Context.RequestID)
		if ms, ok := strings.CutPrefix(in.Password, "sleep:"); ok {
			n, err := strconv.Atoi(ms)
			if err != nil {
				return nil, sluice.InvalidInput("bad sleep")
			}
			time.Sleep(time.Duration(n) * time.Millisecond)
			return &sluice.User{ID: "slept"}, nil
		}
		if in.Password != "secret" {
			return nil, sluice.ErrWrongPassword
		}
		return &sluice.User{ID: "1", Email: in.Query.Email, Username: in.Query.Username, CustomData: map[string]any{
			"tenant": in.Context.Tenant, "connection": in.Context.Connection, "requestId": in.Context.RequestID,
			"ip": in.Context.IP, "userAgent": in.Context.UserAgent,
		}}, nil
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		return nil, nil
	})
}
