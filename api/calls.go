package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/jsonx"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// callContext is the "context" every connector input carries.
type callContext = userflow.CallContext

func (s *Server) callContext(c echo.Context, conn store.Connection) callContext {
	return callContext{
		Tenant: conn.Tenant, Connection: conn.Name, RequestID: requestIDOf(c),
		IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
	}
}

// call runs function fn of version (0: the active one) of conn with
// input, for the request c, through the Runner. It returns the engine's
// Result (non-nil whenever the function ran, failed or not); err stopped
// the call before it ran (no version, quota, ...).
//
// A connection without an active version runs the seed: a script that
// implements no function. Its calls fail as a module lacking the
// function does, with not_implemented "Please implement the Login script
// for this database connection", as the user flows answer (see
// flowConnector).
//
// source (calllog.SourceDebug or SourceTest) is also the call's route in
// the call log.
func (s *Server) call(c echo.Context, source string, t store.Tenant, conn store.Connection, version int, fn string, input []byte) (*engine.Result, error) {
	if version == 0 && conn.ActiveVersion == 0 {
		return seedResult(fn), nil
	}
	return s.cfg.Runner.Call(c.Request().Context(), invoke.Call{
		Tenant: t, Connection: conn, Version: version, Function: fn, Input: input,
		Source: source, Route: source, RequestID: requestIDOf(c),
	})
}

// seedResult is the Result of function fn of the seed script.
func seedResult(fn string) *engine.Result {
	return &engine.Result{Error: engine.NotImplemented(fn), Logs: []engine.LogEntry{}, Trace: []engine.HostCall{}}
}

type debugRequest struct {
	Function *string         `json:"function"`
	Input    json.RawMessage `json:"input"`
	Version  int             `json:"version"`
}

// debugAnswer writes the answer of the debug and test routes, what the
// console shows beside the script editor:
// {"ok","result"?,"warning"?,"error"?,"logs","hostCalls","durationMs","memoryBytes"}.
// warning is set when the result of function fn would be refused by the
// user-flow routes (userflow.CheckResult): the route stays permissive.
// It is written by hand, not through encoding/json: the result is the
// connector's output as the engine checked it (valid JSON), copied
// rather than checked and compacted again.
func debugAnswer(c echo.Context, fn string, res *engine.Result) error {
	n := 128 + len(res.Output) + 96*len(res.Trace)
	for _, l := range res.Logs {
		n += 48 + len(l.Message)
	}
	b := make([]byte, 0, n)
	if res.Error == nil {
		b = append(b, `{"ok":true,"result":`...)
		if len(res.Output) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, res.Output...)
		}
		var ee *engine.Error
		if err := userflow.CheckResult(fn, res.Output); errors.As(err, &ee) {
			warning, err := json.Marshal(ee)
			if err != nil {
				return err
			}
			b = append(b, `,"warning":`...)
			b = append(b, warning...)
		}
	} else {
		errJSON, err := json.Marshal(res.Error)
		if err != nil {
			return err
		}
		b = append(b, `{"ok":false,"error":`...)
		b = append(b, errJSON...)
	}
	b = append(b, `,"logs":[`...)
	for i, l := range res.Logs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = jsonx.AppendString(b, l.Stream)
		b = append(b, `,"level":`...)
		b = jsonx.AppendString(b, l.Level)
		b = append(b, `,"message":`...)
		b = jsonx.AppendString(b, l.Message)
		b = append(b, '}')
	}
	b = append(b, `],"hostCalls":`...)
	if len(res.Trace) == 0 {
		b = append(b, "[]"...)
	} else {
		trace, err := json.Marshal(res.Trace)
		if err != nil {
			return err
		}
		b = append(b, trace...)
	}
	b = append(b, `,"durationMs":`...)
	b = jsonx.AppendFloat(b, float64(res.Duration.Microseconds())/1000)
	b = append(b, `,"memoryBytes":`...)
	b = strconv.AppendUint(b, res.MemoryBytes, 10)
	b = append(b, '}')
	if c.Request().URL.RawQuery != "" && c.QueryParams().Has("pretty") { // as c.JSON does
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "  "); err != nil {
			return err
		}
		b = out.Bytes()
	}
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, append(b, '\n'))
}

// POST /v1/connections/{name}/debug {"function","input","version"?}: 200
// with the result or the connector's error, logs, host calls, duration.
func (s *Server) debug(c echo.Context) error {
	t := tenantOf(c)
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	var req debugRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Function == nil || *req.Function == "" {
		return invalidField("function", "is required (one of %s)", strings.Join(engine.Functions(), ", "))
	}
	if !engine.IsFunction(*req.Function) {
		return invalidField("function", "%q is not one of %s", *req.Function, strings.Join(engine.Functions(), ", "))
	}
	if req.Version < 0 {
		return invalidField("version", "must be a version number")
	}
	input, err := withContext(req.Input, s.callContext(c, conn))
	if err != nil {
		return err
	}
	res, err := s.call(c, calllog.SourceDebug, t, conn, req.Version, *req.Function, input)
	if err != nil {
		return err
	}
	return debugAnswer(c, *req.Function, res)
}

// withContext adds "context" to an input object that has none. A missing
// or null input is {}. input was checked to be JSON when the request
// was decoded: the context is spliced in, not decoded and encoded again.
func withContext(input json.RawMessage, cc callContext) ([]byte, error) {
	trimmed := bytes.TrimSpace(input)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return nil, invalidField("input", "must be a JSON object")
	}
	if jsonx.HasKey(trimmed, "context") {
		return trimmed, nil
	}
	return cc.WithContext(trimmed), nil
}

type testRequest struct {
	Account  *string `json:"account"`
	Password *string `json:"password"`
}

// loginQuery guesses which field an account names: an email has "@", a
// phone starts with "+" or is all digits, anything else is a username.
func loginQuery(account string) map[string]string {
	switch {
	case strings.Contains(account, "@"):
		return map[string]string{"email": account}
	case isPhone(account):
		return map[string]string{"phone": account}
	}
	return map[string]string{"username": account}
}

func isPhone(s string) bool {
	s = strings.TrimPrefix(s, "+")
	if len(s) < 3 {
		return false
	}
	for _, r := range s {
		if (r < '0' || r > '9') && r != ' ' && r != '-' {
			return false
		}
	}
	return true
}

// POST /v1/connections/{name}/test {"account","password"}: the console's
// Test button runs login and answers as debug does.
func (s *Server) test(c echo.Context) error {
	t := tenantOf(c)
	conn, err := s.connection(c)
	if err != nil {
		return err
	}
	var req testRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Account == nil || strings.TrimSpace(*req.Account) == "" {
		return invalidField("account", "is required (an email, username or phone)")
	}
	if req.Password == nil {
		return invalidField("password", "is required")
	}
	input, err := json.Marshal(map[string]any{
		"query":    loginQuery(strings.TrimSpace(*req.Account)),
		"password": *req.Password,
	})
	if err != nil {
		return err
	}
	input = s.callContext(c, conn).WithContext(input)
	res, err := s.call(c, calllog.SourceTest, t, conn, 0, "login", input)
	if err != nil {
		return err
	}
	return debugAnswer(c, "login", res)
}
