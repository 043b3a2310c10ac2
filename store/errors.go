package store

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrNotFound: no such row, or a row of another tenant.
	ErrNotFound = errors.New("store: not found")
	// ErrConflict: a unique name, number or key is taken.
	ErrConflict = errors.New("store: conflict")
	// ErrUserExists: a user with the same ID, external ID, email, username
	// or phone exists in the connection. errors.Is(ErrUserExists, ErrConflict).
	ErrUserExists = fmt.Errorf("%w: user exists", ErrConflict)
	// ErrSecret: a stored secret could not be decrypted (wrong master key
	// or tampered data).
	ErrSecret = errors.New("store: cannot decrypt secret")
)

// ValidationError reports an invalid field of an input.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	return fmt.Sprintf("store: invalid %s: %s", e.Field, e.Message)
}

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
