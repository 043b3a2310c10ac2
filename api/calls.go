package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// callContext is the "context" every connector input carries.
type callContext struct {
	Tenant     string `json:"tenant"`
	Connection string `json:"connection"`
	RequestID  string `json:"requestId"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
}

func (s *Server) callContext(c echo.Context, conn store.Connection) callContext {
	return callContext{
		Tenant: conn.Tenant, Connection: conn.Name, RequestID: requestIDOf(c),
		IP: c.RealIP(), UserAgent: c.Request().UserAgent(),
	}
}

// Limits returns the engine limits of a call under quotas q: base with
// the memory, timeout, instance, host-call and CPU fields taken from q.
func Limits(base engine.Limits, q store.Quotas) engine.Limits {
	l := base
	if q.MemoryMB > 0 {
		l.MemoryBytes = uint64(q.MemoryMB) << 20
	}
	if q.TimeoutMs > 0 {
		l.Timeout = time.Duration(q.TimeoutMs) * time.Millisecond
	}
	if q.MaxConcurrency > 0 {
		l.MaxInstances = q.MaxConcurrency
	}
	if q.MaxHostCalls > 0 {
		l.MaxHostCalls = q.MaxHostCalls
	}
	l.CPUPerMinute = time.Duration(q.CPUMsPerMinute) * time.Millisecond // 0: unlimited
	return l
}

// call runs function fn of version (0: the active one) of conn with
// input, under the tenant's quotas. It returns the engine's Result
// (non-nil whenever the function ran, failed or not); err is an
// API error that stopped the call before it ran (no version, quota).
func (s *Server) call(c echo.Context, t store.Tenant, conn store.Connection, version int, fn string, input []byte) (*engine.Result, error) {
	return s.callCtx(c.Request().Context(), t, conn, version, fn, input)
}

// callCtx is call for work that outlives a request (a migration job).
func (s *Server) callCtx(ctx context.Context, t store.Tenant, conn store.Connection, version int, fn string, input []byte) (*engine.Result, error) {
	if version == 0 {
		version = conn.ActiveVersion
	}
	if version == 0 {
		return nil, apiErr(http.StatusConflict, codeNoActiveVersion, "connection %s has no active version: upload a module first", conn.Name)
	}
	sum, err := s.versionSHA(ctx, conn, version)
	if err != nil {
		return nil, err
	}
	mod, err := s.module(ctx, sum)
	if err != nil {
		return nil, err
	}
	release, reason, retry := s.limits.acquire(t.ID, t.Quotas, time.Now())
	if release == nil {
		s.metrics.quotaRejections.WithLabelValues(t.ID, reason).Inc()
		return nil, &Error{Status: http.StatusTooManyRequests, Code: codeQuotaExceeded, RetryAfter: retry,
			Message: quotaMessage(reason, t.Quotas)}
	}
	s.inflight.Add(1)
	defer func() {
		release()
		s.inflight.Done()
	}()
	hc := hostConnection(conn, t.Quotas)
	host, err := s.cfg.Hosts.Host(hc)
	if err != nil {
		return nil, err
	}
	req := engine.Request{
		Tenant:   t.ID,
		Pool:     poolName(conn),
		Function: fn,
		Input:    input,
		Env:      hc.Env(conn.Env),
		Limits:   Limits(s.cfg.Limits, t.Quotas),
		Host:     host,
	}
	res, err := s.cfg.Engine.Call(ctx, mod, req)
	if errors.Is(err, engine.ErrEvicted) {
		// Unused for a while, the engine released its compiled code:
		// load it again (the disk caches make that quick) and retry.
		s.forgetModule(sum)
		if mod, err = s.module(ctx, sum); err != nil {
			return nil, err
		}
		res, err = s.cfg.Engine.Call(ctx, mod, req)
	}
	s.metrics.observeCall(t.ID, fn, res, err)
	if res == nil {
		return nil, err
	}
	return res, nil
}

func quotaMessage(reason string, q store.Quotas) string {
	if reason == reasonRate {
		return "the tenant's rate quota of " + strconv.Itoa(q.CallsPerMinute) + " calls per minute is used up"
	}
	return "the tenant's concurrency quota of " + strconv.Itoa(q.MaxConcurrency) + " calls is in use"
}

type debugRequest struct {
	Function *string         `json:"function"`
	Input    json.RawMessage `json:"input"`
	Version  int             `json:"version"`
}

// debugResponse is what the console shows beside the script editor.
type debugResponse struct {
	OK          bool              `json:"ok"`
	Result      json.RawMessage   `json:"result,omitempty"`
	Error       *engine.Error     `json:"error,omitempty"`
	Logs        []engine.LogEntry `json:"logs"`
	HostCalls   []engine.HostCall `json:"hostCalls"`
	DurationMs  float64           `json:"durationMs"`
	MemoryBytes uint64            `json:"memoryBytes"`
}

func debugDTO(res *engine.Result) debugResponse {
	out := debugResponse{
		OK: res.Error == nil, Error: res.Error, Logs: res.Logs, HostCalls: res.Trace,
		DurationMs: float64(res.Duration.Microseconds()) / 1000, MemoryBytes: res.MemoryBytes,
	}
	if out.OK {
		out.Result = res.Output
		if len(out.Result) == 0 {
			out.Result = json.RawMessage("null")
		}
	}
	if out.Logs == nil {
		out.Logs = []engine.LogEntry{}
	}
	if out.HostCalls == nil {
		out.HostCalls = []engine.HostCall{}
	}
	return out
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
	res, err := s.call(c, t, conn, req.Version, *req.Function, input)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, debugDTO(res))
}

// withContext adds "context" to an input object that has none. A missing
// or null input is {}.
func withContext(input json.RawMessage, cc callContext) ([]byte, error) {
	trimmed := bytes.TrimSpace(input)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		trimmed = []byte("{}")
	}
	if trimmed[0] != '{' {
		return nil, invalidField("input", "must be a JSON object")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &fields); err != nil {
		return nil, invalidField("input", "must be a JSON object")
	}
	if _, ok := fields["context"]; ok {
		return trimmed, nil
	}
	ctxJSON, err := json.Marshal(cc)
	if err != nil {
		return nil, err
	}
	fields["context"] = ctxJSON
	return json.Marshal(fields)
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
		"context":  s.callContext(c, conn),
	})
	if err != nil {
		return err
	}
	res, err := s.call(c, t, conn, 0, "login", input)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, debugDTO(res))
}

// versionKey names one version of one incarnation of a connection: a
// version's module never changes, and a connection deleted and created
// again has a new CreatedAt.
type versionKey struct {
	tenant, conn string
	created      int64
	version      int
}

// versionSHA returns the module SHA-256 of a version of conn, from the
// store the first time.
func (s *Server) versionSHA(ctx context.Context, conn store.Connection, version int) (string, error) {
	k := versionKey{conn.Tenant, conn.Name, conn.CreatedAt.UnixNano(), version}
	s.modMu.Lock()
	sum, ok := s.versions[k]
	s.modMu.Unlock()
	if ok {
		return sum, nil
	}
	v, err := s.cfg.Store.GetVersion(ctx, conn.Tenant, conn.Name, version)
	if err != nil {
		if isNotFound(err) {
			return "", notFound("connection %s has no version %d", conn.Name, version)
		}
		return "", err
	}
	s.modMu.Lock()
	if len(s.versions) > 100000 {
		clear(s.versions)
	}
	s.versions[k] = v.SHA256
	s.modMu.Unlock()
	return v.SHA256, nil
}
