package jsrt

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

//go:generate go run ./gen -o runtime.wasm.gz

//go:embed runtime.wasm.gz
var moduleGz []byte

// Module returns the runtime module's bytes (about 20 MiB: keep them,
// do not call it per request).
func Module() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(moduleGz))
	if err != nil {
		return nil, fmt.Errorf("jsrt: runtime module: %w", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("jsrt: runtime module: %w", err)
	}
	return b, nil
}

// Environment variables of the runtime's instances, beside the
// connection's own (which the script sees as env.* and configuration.*).
const (
	// EnvSource carries the script's source.
	EnvSource = "SLUICE_JS_SOURCE"
	// EnvInspect, when set, makes login answer the script's Inspection
	// instead of running it.
	EnvInspect = "SLUICE_JS_INSPECT"
)

// InspectFunction and InspectInput are the call that inspects a script.
const (
	InspectFunction = "login"
	InspectInput    = `{"query":{},"password":"","context":{"tenant":"","connection":"","requestId":"inspect"}}`
)

// IsScript reports whether an uploaded or stored module's bytes are a
// script rather than WebAssembly.
func IsScript(b []byte) bool { return !bytes.HasPrefix(b, []byte("\x00asm")) }

// Env returns env with the script added, for the runtime's instances.
func Env(env map[string]string, src []byte) map[string]string {
	return withSource(env, string(src))
}

func withSource(env map[string]string, src string) map[string]string {
	out := make(map[string]string, len(env)+1)
	for k, v := range env {
		out[k] = v
	}
	out[EnvSource] = src
	return out
}

// ErrNotText is a script that is not UTF-8 text without NUL bytes.
var ErrNotText = errors.New("a script must be UTF-8 text without NUL bytes")

// CheckText checks that src can travel as the instance's environment.
func CheckText(src []byte) error {
	if len(src) == 0 {
		return errors.New("the script is empty")
	}
	if !utf8.Valid(src) || bytes.IndexByte(src, 0) >= 0 {
		return ErrNotText
	}
	return nil
}

// Inspection is what the runtime reports of a script at upload, without
// running it.
type Inspection struct {
	// Dialect is "seed" (async function login(query, password, context))
	// or "auth0" (function login(email, password, callback)).
	Dialect string `json:"dialect"`
	// Functions are the connector functions the script serves, in the
	// contract's order.
	Functions []string `json:"functions"`
	// Defined are the script's own top-level function names.
	Defined []string `json:"defined"`
	// Requires are the modules it requires by a literal name;
	// Unsupported, those the runtime has no shim for; Supported, the
	// modules it has.
	Requires    []string     `json:"requires"`
	Unsupported []string     `json:"unsupported"`
	Supported   []string     `json:"supported"`
	SyntaxError *SyntaxError `json:"syntaxError,omitempty"`
}

// SyntaxError is a script that does not parse.
type SyntaxError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("the script has a syntax error at line %d, column %d: %s", e.Line, e.Column, e.Message)
}

// UnsupportedModuleError is a script that requires modules the runtime
// has no shim for.
type UnsupportedModuleError struct {
	Modules   []string
	Supported []string
}

func (e *UnsupportedModuleError) Error() string {
	return fmt.Sprintf("the script requires %s, which Sluice's JavaScript runtime does not provide; it provides %s",
		quoteList(e.Modules), strings.Join(e.Supported, ", "))
}

func quoteList(s []string) string {
	q := make([]string, len(s))
	for i, v := range s {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// ParseInspection decodes the inspect call's result (a user whose
// customData is the Inspection) and returns the script's syntax error or
// unsupported modules as errors.
func ParseInspection(result []byte) (*Inspection, error) {
	var u struct {
		CustomData *Inspection `json:"customData"`
	}
	if err := json.Unmarshal(result, &u); err != nil || u.CustomData == nil {
		return nil, fmt.Errorf("jsrt: the runtime's inspection is malformed: %s", result)
	}
	insp := u.CustomData
	if insp.SyntaxError != nil {
		return insp, insp.SyntaxError
	}
	if len(insp.Unsupported) > 0 {
		return insp, &UnsupportedModuleError{Modules: insp.Unsupported, Supported: insp.Supported}
	}
	return insp, nil
}
