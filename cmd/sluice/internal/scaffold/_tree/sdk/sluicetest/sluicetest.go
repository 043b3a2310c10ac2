//go:build !wasip1

package sluicetest

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
	"github.com/sluice-dev/sluice/guest-sdk/internal/dispatch"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Functions are the eight connector functions' export names.
var functions = []string{
	"login", "getUser", "searchUser", "createUser",
	"updateUser", "deleteUser", "listUsers", "validatePassword",
}

// callMu makes calls take turns, as an instance does.
var callMu sync.Mutex

// Host runs connector functions for one test.
type Host struct {
	// HostCall answers the connector's host calls with the operation's
	// result JSON (nil means null) or an error: an *sluice.Error reaches
	// the connector with its code, message and details, any other error
	// with code host_error. When HostCall is nil every host call answers
	// not_implemented.
	HostCall func(op string, req []byte) ([]byte, error)

	tb    testing.TB
	mu    sync.Mutex
	logs  []Log
	calls []HostCall
}

// Log is one line the connector logged with sluice.Log.
type Log struct {
	Level   string // debug, info, warn or error
	Message string
}

// HostCall is one host call the connector made.
type HostCall struct {
	Op      string
	Request json.RawMessage
}

// New returns a Host for tb.
func New(tb testing.TB) *Host { return &Host{tb: tb} }

// Call runs a connector function with New(tb).Call.
func Call(tb testing.TB, fn, input string) (output string, status int) {
	tb.Helper()
	return New(tb).Call(fn, input)
}

// Call runs connector function fn (its export name, such as "login") on
// the input JSON and returns the output JSON and the status: 0 with the
// result, 1 with an error envelope {"code","message"}. A function whose
// package the test binary does not link, or whose handler is not set,
// answers not_implemented. A name that is not a connector function fails
// the test.
func (h *Host) Call(fn, input string) (output string, status int) {
	h.tb.Helper()
	if !slices.Contains(functions, fn) {
		h.tb.Fatalf("sluicetest: %q is not a connector function (one of %v)", fn, functions)
	}
	callMu.Lock()
	defer callMu.Unlock()
	prev := abi.SetHooks(&abi.Hooks{Log: h.log, HostCall: h.hostCall})
	defer abi.SetHooks(prev)

	var out []byte
	var st int32
	if r, ok := dispatch.Lookup(fn); ok {
		out, st = r.Run(h.tb.Context(), []byte(input))
	} else {
		out, _ = json.Marshal(dispatch.NotImplemented(fn))
		st = dispatch.StatusError
	}
	if !json.Valid(out) {
		h.tb.Errorf("sluicetest: %s answered invalid JSON %q", fn, out)
	}
	return string(out), int(st)
}

// Invoke runs fn with input (a JSON string or []byte, or a value to
// encode, such as a sluice.LoginInput) and decodes a result into result
// unless it is nil. When the function fails, Invoke returns the envelope
// as an *sluice.Error, so errors.Is(err, sluice.ErrUserNotFound) works.
func (h *Host) Invoke(fn string, input any, result any) error {
	h.tb.Helper()
	var in string
	switch v := input.(type) {
	case string:
		in = v
	case []byte:
		in = string(v)
	case json.RawMessage:
		in = string(v)
	default:
		b, err := json.Marshal(input)
		if err != nil {
			h.tb.Fatalf("sluicetest: encode %s input: %v", fn, err)
		}
		in = string(b)
	}
	out, status := h.Call(fn, in)
	if status != 0 {
		var e sluice.Error
		if err := json.Unmarshal([]byte(out), &e); err != nil {
			h.tb.Fatalf("sluicetest: %s error envelope %q: %v", fn, out, err)
		}
		return &e
	}
	if result != nil {
		if err := json.Unmarshal([]byte(out), result); err != nil {
			h.tb.Fatalf("sluicetest: decode %s result %q: %v", fn, out, err)
		}
	}
	return nil
}

// Logs returns the lines logged so far through sluice.Log.
func (h *Host) Logs() []Log {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.logs)
}

// HostCalls returns the host calls made so far.
func (h *Host) HostCalls() []HostCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.calls)
}

var levels = [...]string{"debug", "info", "warn", "error"}

func (h *Host) log(level int32, msg []byte) {
	name := "info"
	if level >= 0 && int(level) < len(levels) {
		name = levels[level]
	}
	h.mu.Lock()
	h.logs = append(h.logs, Log{Level: name, Message: string(msg)})
	h.mu.Unlock()
}

func (h *Host) hostCall(op string, req []byte) []byte {
	req = bytes.Clone(req)
	h.mu.Lock()
	h.calls = append(h.calls, HostCall{Op: op, Request: req})
	h.mu.Unlock()
	if h.HostCall == nil {
		return errorEnvelope(&sluice.Error{Code: sluice.CodeNotImplemented, Message: "sluicetest: no fake for host call " + op})
	}
	res, err := h.HostCall(op, req)
	if err != nil {
		return errorEnvelope(err)
	}
	if len(res) == 0 {
		res = []byte("null")
	}
	if !json.Valid(res) {
		h.tb.Errorf("sluicetest: fake host call %s returned invalid JSON %q", op, res)
		return errorEnvelope(errors.New("invalid JSON from the fake host"))
	}
	b, _ := json.Marshal(struct {
		Result json.RawMessage `json:"result"`
	}{res})
	return b
}

func errorEnvelope(err error) []byte {
	env := &sluice.Error{Code: "host_error", Message: err.Error()}
	var se *sluice.Error
	if errors.As(err, &se) {
		env = se
	}
	b, err := json.Marshal(struct {
		Error *sluice.Error `json:"error"`
	}{env})
	if err != nil {
		b, _ = json.Marshal(struct {
			Error *sluice.Error `json:"error"`
		}{&sluice.Error{Code: env.Code, Message: env.Message}})
	}
	return b
}
