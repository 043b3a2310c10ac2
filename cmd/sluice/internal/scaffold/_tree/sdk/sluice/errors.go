package sluice

// Error codes of the contract that a connector returns or a host call
// answers with.
const (
	CodeUserNotFound   = "user_not_found"
	CodeWrongPassword  = "wrong_password"
	CodeUserExists     = "user_exists"
	CodeInvalidInput   = "invalid_input"
	CodeNotImplemented = "not_implemented"
	CodeConnectorError = "connector_error"
	CodeEgressDenied   = "egress_denied"
)

// Error is an error with a contract code: what a connector function returns
// to fail with that code, and what a failed host call returns.
//
// Two *Error match with errors.Is when their codes are equal, so
// errors.Is(err, ErrUserNotFound) holds for any user_not_found error,
// whatever its message.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	// Details carries machine-readable facts of a host call's error
	// (a SQLSTATE, a refused address); connectors rarely set it.
	Details map[string]any `json:"details,omitempty"`
}

// Error returns the message, or the code when there is none.
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Message
}

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinel errors for the usual failures. Return them as they are or wrap
// them with fmt.Errorf("...: %w", ErrUserNotFound) to add context: the
// code is kept and the whole text becomes the message.
var (
	ErrUserNotFound  = &Error{Code: CodeUserNotFound, Message: "user not found"}
	ErrWrongPassword = &Error{Code: CodeWrongPassword, Message: "wrong password"}
	ErrUserExists    = &Error{Code: CodeUserExists, Message: "user already exists"}
)

// InvalidInput returns an invalid_input error with msg as its message.
func InvalidInput(msg string) error {
	return &Error{Code: CodeInvalidInput, Message: msg}
}
