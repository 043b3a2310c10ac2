package main

import (
	"errors"
	"regexp"

	"github.com/dop251/goja"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// messageCodes map the messages the seed's templates throw to codes, in
// order (docs/javascript.md has the table).
var messageCodes = []struct {
	re   *regexp.Regexp
	code string
}{
	{regexp.MustCompile(`(?i)user\s+(does\s+)?not\s+exists?|user\s+not\s+found|no\s+such\s+user|用户不存在`), sluice.CodeUserNotFound},
	{regexp.MustCompile(`(?i)password\s+(is\s+)?(not\s+valid|invalid|incorrect|wrong)|(wrong|invalid|incorrect|bad)\s+password|密码错误`), sluice.CodeWrongPassword},
	{regexp.MustCompile(`(?i)al+ready\s+exists?|user\s+exists|用户已存在`), sluice.CodeUserExists},
}

// auth0Classes map Auth0's error classes (by name) to codes.
var auth0Classes = map[string]string{
	"WrongUsernameOrPasswordError": sluice.CodeWrongPassword,
	"UserAlreadyExistsError":       sluice.CodeUserExists,
	"ValidationError":              sluice.CodeInvalidInput,
	"UnauthorizedError":            sluice.CodeWrongPassword,
}

// jsError turns what goja returned from running script code into the
// connector's error.
func (s *script) jsError(err error, where string) error {
	var ex *goja.Exception
	if errors.As(err, &ex) {
		return s.errorOf(ex.Value(), where)
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return &sluice.Error{Code: sluice.CodeConnectorError, Message: where + ": RangeError: maximum call stack size exceeded"}
	}
	return &sluice.Error{Code: sluice.CodeConnectorError, Message: where + ": " + err.Error()}
}

// errorOf maps a thrown (or rejected, or called-back) value to a code:
// a host call's error keeps the host's code; an Auth0 error class, its
// code; a message of the seed's conventions, its code; anything else is
// connector_error with the message.
func (s *script) errorOf(v goja.Value, where string) error {
	msg := v.String()
	var obj *goja.Object
	if o, ok := v.(*goja.Object); ok {
		obj = o
		if m := o.Get("message"); m != nil && !goja.IsUndefined(m) {
			msg = m.String()
		}
	}
	if obj != nil {
		if c := obj.Get("sluiceCode"); c != nil && !goja.IsUndefined(c) {
			e := &sluice.Error{Code: c.String(), Message: msg}
			if d, ok := obj.Get("details").Export().(map[string]any); ok {
				e.Details = d
			}
			return e
		}
		name := ""
		if n := obj.Get("name"); n != nil && !goja.IsUndefined(n) {
			name = n.String()
		}
		if code, ok := auth0Classes[name]; ok {
			if name == "ValidationError" {
				if c := obj.Get("code"); c != nil && c.String() == "user_exists" {
					code = sluice.CodeUserExists
				}
			}
			return &sluice.Error{Code: code, Message: msg}
		}
	}
	for _, mc := range messageCodes {
		if mc.re.MatchString(msg) {
			return &sluice.Error{Code: mc.code, Message: msg}
		}
	}
	if msg == "" {
		msg = where + " failed"
	}
	return &sluice.Error{Code: sluice.CodeConnectorError, Message: msg}
}
