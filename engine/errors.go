package engine

import "fmt"

// Code is one of the error codes of the public contract (docs/contract.md).
type Code string

// The error codes a connector or the engine returns.
const (
	CodeUserNotFound      Code = "user_not_found"
	CodeWrongPassword     Code = "wrong_password"
	CodeUserExists        Code = "user_exists"
	CodeInvalidInput      Code = "invalid_input"
	CodeNotImplemented    Code = "not_implemented"
	CodeEgressDenied      Code = "egress_denied"
	CodeTimeout           Code = "timeout"
	CodeResourceExhausted Code = "resource_exhausted"
	CodeQuotaExceeded     Code = "quota_exceeded"
	CodeConnectorError    Code = "connector_error"
)

// hostOwnedCodes are the contract codes a host function owns: when a host
// call failed with one of them and the connector then failed without a
// contract code of its own (it returned connector_error or another code,
// trapped, exited or wrote no output), the call's error is the host
// call's, so the API answers it with its own status (docs/contract.md: "A host
// function's own code ... reaches the API with its status").
var hostOwnedCodes = map[Code]bool{
	CodeEgressDenied:      true,
	CodeTimeout:           true,
	CodeResourceExhausted: true,
	CodeInvalidInput:      true,
	CodeUserExists:        true,
	CodeQuotaExceeded:     true,
}

// IsHostOwned reports whether code is one a host function's failure
// carries to the caller whether or not the connector passes it through.
func IsHostOwned(code Code) bool { return hostOwnedCodes[code] }

// Error is a call's failure as the contract describes it: a code and a
// message meant for the tenant. Details carries optional machine-readable
// facts (a SQLSTATE, an address that was refused).
type Error struct {
	Code    Code              `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
	// Owns is set on a host function's error whose Code is its own
	// (db_error, with the details guests decide on) but which stands for
	// a host-owned contract code: a duplicate key is user_exists. When
	// the connector then fails generically, the call fails with Owns
	// (see IsHostOwned). It never reaches the guest or JSON.
	Owns Code `json:"-"`
}

// hostOwnedAs returns the host-owned code e stands for, or "".
func (e *Error) hostOwnedAs() Code {
	switch {
	case e.Owns != "" && hostOwnedCodes[e.Owns]:
		return e.Owns
	case hostOwnedCodes[e.Code]:
		return e.Code
	}
	return ""
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Message }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ModuleError reports a module that cannot be accepted: not wasm, too large,
// importing something unknown, exporting nothing Sluice can call.
type ModuleError struct {
	Reason string
	// TooLarge is set when the module is over the size limit.
	TooLarge bool
	// Limit names the ModuleLimits field the module is over, as
	// ParseModuleLimits spells it ("maxNestingDepth"), when that is why.
	Limit string
}

func (e *ModuleError) Error() string { return "invalid module: " + e.Reason }
