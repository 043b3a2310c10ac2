package dispatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Status values an export returns (ABI.md).
const (
	StatusOK    int32 = 0
	StatusError int32 = 1
)

// Runner runs one connector function on raw input.
type Runner interface {
	// Run returns the output JSON, valid until the next Run, and the
	// export's status. input must not change afterwards: strings of the
	// decoded input share its memory.
	Run(ctx context.Context, input []byte) ([]byte, int32)
}

// registry holds the slot of every linked-in function, by export name.
var registry = map[string]Runner{}

// Lookup returns the runner of the function exported as name, if its
// package is linked in.
func Lookup(name string) (Runner, bool) {
	r, ok := registry[name]
	return r, ok
}

// Handler is a slot's type-erased handler: the result is encoded as JSON.
type Handler[In any] func(ctx context.Context, in *In) (any, error)

// Slot is one connector function: its export name, its decoded input
// (reused from call to call) and its handler.
type Slot[In any] struct {
	name string
	in   In
	h    Handler[In]
}

// NewSlot registers and returns the slot of the function exported as name.
func NewSlot[In any](name string) *Slot[In] {
	s := &Slot[In]{name: name}
	registry[name] = s
	return s
}

// Set makes h the function's handler; nil unsets it.
func (s *Slot[In]) Set(h Handler[In]) { s.h = h }

// Run decodes input, calls the handler and encodes its answer.
func (s *Slot[In]) Run(ctx context.Context, input []byte) ([]byte, int32) {
	if s.h == nil {
		return encodeError(NotImplemented(s.name))
	}
	var zero In
	s.in = zero
	if !decodeFast(input, &s.in) {
		s.in = zero
		if err := json.Unmarshal(input, &s.in); err != nil {
			return encodeError(invalidInput(s.name, err))
		}
	}
	res, err := s.h(ctx, &s.in)
	if err != nil {
		return encodeError(err)
	}
	return encodeResult(s.name, res)
}

// NotImplemented is the error of a function whose handler is not set,
// worded as the engine words a missing export.
func NotImplemented(name string) *sluice.Error {
	return &sluice.Error{
		Code:    sluice.CodeNotImplemented,
		Message: "Please implement the " + strings.ToUpper(name[:1]) + name[1:] + " script for this database connection",
	}
}

// User checks a user-valued result: fn must return a user with an id.
func User(fn string, u *sluice.User) (any, error) {
	if u == nil {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: fn + " returned neither a user nor an error"}
	}
	if u.ID == "" {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: fn + " returned a user without an id"}
	}
	return u, nil
}

// List turns a nil list into an empty one.
func List(l *sluice.UserList) any {
	if l == nil {
		return &sluice.UserList{}
	}
	return l
}

// out and enc encode every answer; an instance runs one call at a time.
var (
	out bytes.Buffer
	enc = newEncoder()
)

func newEncoder() *json.Encoder {
	e := json.NewEncoder(&out)
	e.SetEscapeHTML(false)
	return e
}

func encodeResult(fn string, v any) ([]byte, int32) {
	out.Reset()
	if u, ok := v.(*sluice.User); ok && u != nil {
		if b, ok := appendUser(out.AvailableBuffer(), u); ok {
			out.Write(b)
			return out.Bytes(), StatusOK
		}
	}
	if err := enc.Encode(v); err != nil {
		return encodeError(&sluice.Error{
			Code:    sluice.CodeConnectorError,
			Message: fmt.Sprintf("%s: cannot encode the result: %v", fn, err),
		})
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), StatusOK
}

// encodeError encodes err's envelope: the code of the first *sluice.Error
// in its chain (connector_error when there is none) and err's text.
func encodeError(err error) ([]byte, int32) {
	env := sluice.Error{Code: sluice.CodeConnectorError, Message: err.Error()}
	var se *sluice.Error
	if errors.As(err, &se) {
		env.Code, env.Details = se.Code, se.Details
		if env.Code == "" {
			env.Code = sluice.CodeConnectorError
		}
	}
	out.Reset()
	if err := enc.Encode(&env); err != nil {
		// Only Details can fail to encode; drop it.
		env.Details = nil
		out.Reset()
		_ = enc.Encode(&env)
	}
	return bytes.TrimSuffix(out.Bytes(), []byte{'\n'}), StatusError
}

// invalidInput words a decoding error of fn's input for the tenant.
func invalidInput(fn string, err error) error {
	prefix := "invalid " + fn + " input: "
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		if te.Field == "" {
			return sluice.InvalidInput(prefix + "must be a JSON object, not " + article(te.Value))
		}
		return sluice.InvalidInput(fmt.Sprintf("%s%q must be %s, not %s", prefix, te.Field, jsonKind(te.Type), article(te.Value)))
	case errors.As(err, &se):
		if se.Error() == "unexpected end of JSON input" {
			if se.Offset == 0 {
				return sluice.InvalidInput(prefix + "the input is empty")
			}
			return sluice.InvalidInput(prefix + "the JSON is truncated")
		}
		return sluice.InvalidInput(fmt.Sprintf("%s%v (at byte %d)", prefix, se, se.Offset))
	}
	return sluice.InvalidInput(prefix + err.Error())
}

// jsonKind names the JSON type a Go type decodes from.
func jsonKind(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Pointer:
		return jsonKind(t.Elem())
	}
	return "a " + t.String()
}

func article(v string) string {
	switch {
	case v == "bool":
		return "a boolean"
	case v == "array" || v == "object":
		return "an " + v
	case strings.HasPrefix(v, "number "):
		return "the " + v
	case v == "":
		return "that"
	}
	return "a " + v
}
