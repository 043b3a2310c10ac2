package userflow

import (
	"errors"
	"sort"
	"strings"

	"github.com/sluice-dev/sluice/engine"
)

// ConnectorError is a failure of a connector call: the connector's own
// error, the engine's or a host function's (Err, with the code and the
// full message and details: a driver message, a SQLSTATE, a refused
// address), or a result that breaks the contract. The tenant sees it in
// full (debug, the audit log's Detail, the server log); a caller of the
// user flows gets Public(err): the code and a plain message.
type ConnectorError struct {
	Function string
	Err      *engine.Error
}

func (e *ConnectorError) Error() string { return e.Function + ": " + e.Err.Error() }

// Unwrap returns the *engine.Error: errors.As finds the code.
func (e *ConnectorError) Unwrap() error { return e.Err }

// plainMessages are the messages user-flow callers get, per code, for a
// failed connector call. They never hold what the connector, a driver or
// the platform said.
var plainMessages = map[engine.Code]string{
	engine.CodeUserNotFound:      "no such user",
	engine.CodeWrongPassword:     "wrong account or password",
	engine.CodeUserExists:        "the user already exists",
	engine.CodeInvalidInput:      "the user store refused the input as invalid",
	engine.CodeEgressDenied:      "the user store could not be reached: the connection's egress policy refused it",
	engine.CodeTimeout:           "the user store did not answer in time",
	engine.CodeResourceExhausted: "the connector ran out of a resource limit",
	engine.CodeQuotaExceeded:     "the tenant's quota is used up; retry later",
	engine.CodeConnectorError:    "the connector failed",
}

// PlainMessage is the message user-flow callers get for a failed call
// of function with code.
func PlainMessage(code engine.Code, function string) string {
	if code == engine.CodeNotImplemented {
		return engine.NotImplemented(function).Message
	}
	if m, ok := plainMessages[code]; ok {
		return m
	}
	return plainMessages[engine.CodeConnectorError]
}

// Public is the error a caller of the user flows gets for err: a
// connector failure becomes its code with the code's plain message (no
// details); the flows' own errors (validation, bad credentials, a
// disabled connection, ...) and the others are err itself.
func Public(err error) error {
	var ce *ConnectorError
	if !errors.As(err, &ce) {
		return err
	}
	return &engine.Error{Code: ce.Err.Code, Message: PlainMessage(ce.Err.Code, ce.Function)}
}

// PublicText is Public(err) as one line, "code: message"; an error that
// is not a contract error is "internal: ...".
func PublicText(err error) string {
	var ee *engine.Error
	if errors.As(Public(err), &ee) {
		return string(ee.Code) + ": " + ee.Message
	}
	return "internal: the operation failed (the audit log has the detail)"
}

// Detail is err in full for the tenant and the operator: its text and,
// for a contract error, its details ("sqlstate=23505 constraint=...").
func Detail(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	var ee *engine.Error
	if errors.As(err, &ee) && len(ee.Details) > 0 {
		keys := make([]string, 0, len(ee.Details))
		for k := range ee.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b strings.Builder
		for _, k := range keys {
			b.WriteString(" " + k + "=" + ee.Details[k])
		}
		msg += " [" + strings.TrimSpace(b.String()) + "]"
	}
	return msg
}
