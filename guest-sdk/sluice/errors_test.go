package sluice

import (
	"errors"
	"fmt"
	"testing"
)

func TestErrorsIs(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"sentinel", ErrUserNotFound, ErrUserNotFound, true},
		{"same code other message", &Error{Code: CodeUserNotFound, Message: "no alice"}, ErrUserNotFound, true},
		{"wrapped", fmt.Errorf("lookup alice: %w", ErrWrongPassword), ErrWrongPassword, true},
		{"other code", ErrUserExists, ErrUserNotFound, false},
		{"invalid input", InvalidInput("bad"), &Error{Code: CodeInvalidInput}, true},
		{"plain error", errors.New("user_not_found"), ErrUserNotFound, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{ErrUserNotFound, "user not found"},
		{&Error{Code: "x"}, "x"},
		{InvalidInput("email is required"), "email is required"},
		{fmt.Errorf("no user %q: %w", "bob", ErrUserNotFound), `no user "bob": user not found`},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}
