//go:build !wasip1

package sluicetest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/fn/createuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/deleteuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/listusers"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/fn/searchuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/updateuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/validatepassword"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// The test connector answers from one user and asks the host for
// password checks.
var alice = sluice.User{ID: "1", Email: "alice@example.com", Username: "alice"}

func verify(id, password string) (bool, error) {
	var ok bool
	err := sluice.HostCall("password.verify", map[string]string{"id": id, "password": password}, &ok)
	return ok, err
}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		if in.Query.Email != alice.Email {
			return nil, fmt.Errorf("no user %s: %w", in.Query.Email, sluice.ErrUserNotFound)
		}
		ok, err := verify(alice.ID, in.Password)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, sluice.ErrWrongPassword
		}
		sluice.Log.Info("login", "id", alice.ID, "tenant", in.Context.Tenant)
		return &alice, nil
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		if in.Query.ID == alice.ID {
			return &alice, nil
		}
		return nil, nil
	})
	searchuser.Handle(func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
		return nil, nil
	})
	listusers.Handle(func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
		return &sluice.UserList{TotalCount: 1, List: []sluice.User{alice}}, nil
	})
	createuser.Handle(func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
		if in.User.Email == alice.Email {
			return nil, sluice.ErrUserExists
		}
		if in.User.Email == "" {
			return nil, sluice.InvalidInput("email is required")
		}
		u := in.User.Profile("2")
		return &u, nil
	})
	deleteuser.Handle(func(ctx context.Context, in sluice.DeleteUserInput) error {
		if in.ID != alice.ID {
			return sluice.ErrUserNotFound
		}
		return nil
	})
	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		return verify(in.ID, in.Password)
	})
	// updateUser is linked in but never handled: it answers not_implemented.
	updateuser.Handle(nil)
}

// fakeVerify is a host whose password.verify accepts "wonderland".
func fakeVerify(op string, req []byte) ([]byte, error) {
	switch op {
	case "password.verify":
		if string(req) == `{"id":"1","password":"wonderland"}` {
			return []byte(`true`), nil
		}
		return []byte(`false`), nil
	}
	return nil, &sluice.Error{Code: sluice.CodeNotImplemented, Message: "no " + op}
}

func TestCall(t *testing.T) {
	tests := []struct {
		fn, input  string
		want       string
		wantStatus int
	}{
		{"login", `{"query":{"email":"alice@example.com"},"password":"wonderland"}`, `{"id":"1","email":"alice@example.com","username":"alice"}`, 0},
		{"login", `{"query":{"email":"alice@example.com"},"password":"nope"}`, `{"code":"wrong_password","message":"wrong password"}`, 1},
		{"login", `{"query":{"email":"bob@example.com"},"password":"x"}`, `{"code":"user_not_found","message":"no user bob@example.com: user not found"}`, 1},
		{"login", `{"query":{"email":true}}`, `{"code":"invalid_input","message":"invalid login input: \"query.email\" must be a string, not a boolean"}`, 1},
		{"getUser", `{"query":{"id":"1"}}`, `{"id":"1","email":"alice@example.com","username":"alice"}`, 0},
		{"getUser", `{"query":{"id":"2"}}`, `null`, 0},
		{"searchUser", `{"keyword":"x","page":1,"limit":10}`, `{"totalCount":0,"list":[]}`, 0},
		{"listUsers", `{"page":1,"limit":10}`, `{"totalCount":1,"list":[{"id":"1","email":"alice@example.com","username":"alice"}]}`, 0},
		{"createUser", `{"user":{"email":"bob@example.com","password":"pw"}}`, `{"id":"2","email":"bob@example.com"}`, 0},
		{"createUser", `{"user":{"email":"alice@example.com"}}`, `{"code":"user_exists","message":"user already exists"}`, 1},
		{"createUser", `{"user":{}}`, `{"code":"invalid_input","message":"email is required"}`, 1},
		{"deleteUser", `{"id":"1"}`, `true`, 0},
		{"deleteUser", `{"id":"9"}`, `{"code":"user_not_found","message":"user not found"}`, 1},
		{"validatePassword", `{"id":"1","password":"wonderland"}`, `true`, 0},
		{"validatePassword", `{"id":"1","password":"x"}`, `false`, 0},
		{"updateUser", `{"id":"1","updates":{}}`, `{"code":"not_implemented","message":"Please implement the UpdateUser script for this database connection"}`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.fn+" "+tt.input, func(t *testing.T) {
			h := sluicetest.New(t)
			h.HostCall = fakeVerify
			out, status := h.Call(tt.fn, tt.input)
			if out != tt.want || status != tt.wantStatus {
				t.Errorf("Call = %s, %d\nwant   %s, %d", out, status, tt.want, tt.wantStatus)
			}
		})
	}
}

func TestInvoke(t *testing.T) {
	h := sluicetest.New(t)
	h.HostCall = fakeVerify
	var u sluice.User
	in := sluice.LoginInput{Query: sluice.LoginQuery{Email: alice.Email}, Password: "wonderland", Context: sluice.CallContext{Tenant: "t1"}}
	if err := h.Invoke("login", in, &u); err != nil {
		t.Fatal(err)
	}
	if u.ID != "1" {
		t.Errorf("login returned %+v", u)
	}
	in.Password = "bad"
	if err := h.Invoke("login", in, &u); !errors.Is(err, sluice.ErrWrongPassword) {
		t.Errorf("wrong password: err = %v", err)
	}
	if err := h.Invoke("deleteUser", `{"id":"7"}`, nil); !errors.Is(err, sluice.ErrUserNotFound) {
		t.Errorf("delete: err = %v", err)
	}

	wantLogs := []sluicetest.Log{{Level: "info", Message: "login id=1 tenant=t1"}}
	if got := h.Logs(); len(got) != 1 || got[0] != wantLogs[0] {
		t.Errorf("logs = %+v, want %+v", got, wantLogs)
	}
	calls := h.HostCalls()
	if len(calls) != 2 || calls[0].Op != "password.verify" || string(calls[1].Request) != `{"id":"1","password":"bad"}` {
		t.Errorf("host calls = %+v", calls)
	}
}

func TestHostCallFakes(t *testing.T) {
	tests := []struct {
		name string
		fake func(op string, req []byte) ([]byte, error)
		want string
	}{
		{"no fake", nil, `{"code":"not_implemented","message":"sluicetest: no fake for host call password.verify"}`},
		{"sluice error", func(string, []byte) ([]byte, error) {
			return nil, &sluice.Error{Code: "egress_denied", Message: "refused", Details: map[string]any{"address": "10.0.0.1:5432"}}
		}, `{"code":"egress_denied","message":"refused","details":{"address":"10.0.0.1:5432"}}`},
		{"other error", func(string, []byte) ([]byte, error) { return nil, errors.New("boom") },
			`{"code":"host_error","message":"boom"}`},
		{"nil result", func(string, []byte) ([]byte, error) { return nil, nil }, `false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sluicetest.New(t)
			h.HostCall = tt.fake
			out, _ := h.Call("validatePassword", `{"id":"1","password":"wonderland"}`)
			if out != tt.want {
				t.Errorf("Call = %s, want %s", out, tt.want)
			}
		})
	}
}

func TestPackageCall(t *testing.T) {
	out, status := sluicetest.Call(t, "getUser", `{"query":{"id":"1"}}`)
	if status != 0 || out != `{"id":"1","email":"alice@example.com","username":"alice"}` {
		t.Errorf("Call = %s, %d", out, status)
	}
}
