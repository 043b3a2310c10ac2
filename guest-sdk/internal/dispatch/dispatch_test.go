package dispatch

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

func TestRun(t *testing.T) {
	slot := NewSlot[sluice.LoginInput]("testLogin")
	alice := &sluice.User{ID: "1", Email: "alice@example.com", Nickname: "<Alice & co>"}
	tests := []struct {
		name       string
		h          Handler[sluice.LoginInput]
		input      string
		want       string
		wantStatus int32
	}{
		{"not implemented", nil, `{}`,
			`{"code":"not_implemented","message":"Please implement the TestLogin script for this database connection"}`, 1},
		{"user, html not escaped", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return User("testLogin", alice) }, `{}`,
			`{"id":"1","email":"alice@example.com","nickname":"<Alice & co>"}`, 0},
		{"sentinel error", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return nil, sluice.ErrWrongPassword }, `{}`,
			`{"code":"wrong_password","message":"wrong password"}`, 1},
		{"wrapped error keeps code", func(ctx context.Context, in *sluice.LoginInput) (any, error) {
			return nil, fmt.Errorf("no user %q: %w", in.Query.Email, sluice.ErrUserNotFound)
		}, `{"query":{"email":"bob@x"}}`, `{"code":"user_not_found","message":"no user \"bob@x\": user not found"}`, 1},
		{"plain error", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return nil, errors.New("db down") }, `{}`,
			`{"code":"connector_error","message":"db down"}`, 1},
		{"host error details", func(ctx context.Context, in *sluice.LoginInput) (any, error) {
			return nil, &sluice.Error{Code: "egress_denied", Message: "refused", Details: map[string]any{"address": "10.0.0.1:5432"}}
		}, `{}`, `{"code":"egress_denied","message":"refused","details":{"address":"10.0.0.1:5432"}}`, 1},
		{"empty code", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return nil, &sluice.Error{Message: "x"} }, `{}`,
			`{"code":"connector_error","message":"x"}`, 1},
		{"nil user", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return User("testLogin", nil) }, `{}`,
			`{"code":"connector_error","message":"testLogin returned neither a user nor an error"}`, 1},
		{"user without id", func(ctx context.Context, in *sluice.LoginInput) (any, error) {
			return User("testLogin", &sluice.User{Email: "x"})
		}, `{}`,
			`{"code":"connector_error","message":"testLogin returned a user without an id"}`, 1},
		{"unencodable result", func(ctx context.Context, in *sluice.LoginInput) (any, error) {
			return &sluice.User{ID: "1", CustomData: map[string]any{"f": func() {}}}, nil
		}, `{}`, `{"code":"connector_error","message":"testLogin: cannot encode the result: json: unsupported type: func()"}`, 1},
		{"null result", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return nil, nil }, `{}`, `null`, 0},
		{"empty list", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return List(nil), nil }, `{}`, `{"totalCount":0,"list":[]}`, 0},
		{"bool", func(ctx context.Context, in *sluice.LoginInput) (any, error) { return in.Password == "pw", nil }, `{"password":"pw"}`, `true`, 0},
		{"truncated", okHandler, `{"query":`,
			`{"code":"invalid_input","message":"invalid testLogin input: the JSON is truncated"}`, 1},
		{"bad character", okHandler, `{"query":x}`,
			`{"code":"invalid_input","message":"invalid testLogin input: invalid character 'x' looking for beginning of value (at byte 10)"}`, 1},
		{"empty input", okHandler, ``,
			`{"code":"invalid_input","message":"invalid testLogin input: the input is empty"}`, 1},
		{"wrong type of field", okHandler, `{"query":{"email":42}}`,
			`{"code":"invalid_input","message":"invalid testLogin input: \"query.email\" must be a string, not a number"}`, 1},
		{"wrong type of object", okHandler, `{"query":"alice"}`,
			`{"code":"invalid_input","message":"invalid testLogin input: \"query\" must be an object, not a string"}`, 1},
		{"not an object", okHandler, `[1]`,
			`{"code":"invalid_input","message":"invalid testLogin input: must be a JSON object, not an array"}`, 1},
		{"null input is empty", okHandler, `null`, `true`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slot.Set(tt.h)
			out, status := slot.Run(context.Background(), []byte(tt.input))
			if string(out) != tt.want || status != tt.wantStatus {
				t.Errorf("Run = %s, %d\nwant  %s, %d", out, status, tt.want, tt.wantStatus)
			}
		})
	}
}

func okHandler(ctx context.Context, in *sluice.LoginInput) (any, error) { return true, nil }

func TestRunResetsInput(t *testing.T) {
	slot := NewSlot[sluice.SearchUserInput]("testSearch")
	var seen []sluice.SearchUserInput
	slot.Set(func(ctx context.Context, in *sluice.SearchUserInput) (any, error) {
		seen = append(seen, *in)
		return List(nil), nil
	})
	slot.Run(context.Background(), []byte(`{"keyword":"al","page":2,"limit":5,"context":{"tenant":"t"}}`))
	slot.Run(context.Background(), []byte(`{"limit":7}`))
	want := []sluice.SearchUserInput{
		{Keyword: "al", Page: 2, Limit: 5, Context: sluice.CallContext{Tenant: "t"}},
		{Limit: 7},
	}
	if len(seen) != 2 || seen[0] != want[0] || seen[1] != want[1] {
		t.Errorf("handler saw %+v, want %+v", seen, want)
	}
}

func TestLookup(t *testing.T) {
	s := NewSlot[sluice.DeleteUserInput]("testDelete")
	r, ok := Lookup("testDelete")
	if !ok || r != Runner(s) {
		t.Errorf("Lookup(testDelete) = %v, %v", r, ok)
	}
	if _, ok := Lookup("nosuch"); ok {
		t.Error("Lookup(nosuch) found a runner")
	}
}

func BenchmarkRun(b *testing.B) {
	slot := NewSlot[sluice.LoginInput]("benchLogin")
	u := &sluice.User{ID: "1", Email: "alice@example.com", Username: "alice", Nickname: "Alice"}
	slot.Set(func(ctx context.Context, in *sluice.LoginInput) (any, error) { return User("benchLogin", u) })
	input := []byte(`{"query":{"email":"alice@example.com"},"password":"pw","context":{"tenant":"t","connection":"c","requestId":"r"}}`)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		slot.Run(ctx, input)
	}
}
