package httphost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/http/httpguts"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
	"github.com/sluice-dev/sluice/hostfuncs/internal/rescache"
)

// OpRequest is the one operation of this kind.
const OpRequest = "http.request"

// CodeHTTPError is the code of a transport failure that is neither an
// egress refusal nor a timeout: connection refused, TLS failure, a
// malformed response, too many redirects.
const CodeHTTPError engine.Code = "http_error"

// Body encodings of requests and results.
const (
	EncodingText   = "text"
	EncodingBase64 = "base64"
)

// methods are the request methods a connector may use.
var methods = map[string]bool{
	http.MethodGet: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodHead: true,
}

// dropped are request headers the host removes: hop-by-hop headers
// belong to the host's own connection, and Content-Length is computed
// from the body.
var dropped = map[string]bool{
	"Connection": true, "Keep-Alive": true, "Proxy-Connection": true,
	"Proxy-Authenticate": true, "Proxy-Authorization": true, "Te": true,
	"Trailer": true, "Transfer-Encoding": true, "Upgrade": true,
	"Content-Length": true,
}

// Request is the JSON request of http.request.
type Request struct {
	Method string `json:"method"`
	URL    string `json:"url"`
	// Headers maps a header name to its values; a single string value
	// is accepted too.
	Headers map[string]HeaderValues `json:"headers,omitempty"`
	Body    string                  `json:"body,omitempty"`
	// BodyEncoding is "text" (default: Body's UTF-8 bytes) or "base64"
	// (standard alphabet, padded).
	BodyEncoding string `json:"bodyEncoding,omitempty"`
	// TimeoutMs shortens the host's per-request timeout; it cannot
	// lengthen it.
	TimeoutMs int `json:"timeoutMs,omitempty"`
	// Redirect is "follow" (default: the host follows up to 10
	// redirects, checking each hop against the allowlist) or "manual"
	// (a 3xx is returned as it is).
	Redirect string `json:"redirect,omitempty"`
}

// Response is the JSON result of http.request.
type Response struct {
	Status  int                 `json:"status"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
	// BodyEncoding is "text" when the body is valid UTF-8 (Body holds it
	// as it is) and "base64" otherwise.
	BodyEncoding string `json:"bodyEncoding"`
}

// HeaderValues are the values of one header: a JSON array of strings or
// a single string.
type HeaderValues []string

// UnmarshalJSON accepts "v" as well as ["v1","v2"].
func (h *HeaderValues) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(bytes.TrimSpace(b), []byte(`"`)) {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*h = HeaderValues{s}
		return nil
	}
	var ss []string
	if err := json.Unmarshal(b, &ss); err != nil {
		return err
	}
	*h = ss
	return nil
}

// Kind serves http.request. The zero Kind is not usable; call New.
type Kind struct {
	clients rescache.Cache[*client]
}

// New returns a Kind with no clients yet.
func New() *Kind { return &Kind{} }

// client is the HTTP client of one configuration.
type client struct {
	http      *http.Client
	transport *http.Transport
}

// Close drops the client's idle connections; requests in flight finish.
func (c *client) Close() error {
	c.transport.CloseIdleConnections()
	return nil
}

// Call runs op for target t.
func (k *Kind) Call(ctx context.Context, t *hostconn.Target, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	if op != OpRequest {
		return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %q", op)
	}
	var in Request
	if err := hostconn.Unmarshal(op, req, &in); err != nil {
		return nil, err
	}
	hreq, err := newRequest(t, &in)
	if err != nil {
		return nil, err
	}
	u := hreq.URL
	tr.Target = targetAddr(u)
	// The statement leaves out user info, query and fragment: they may
	// hold secrets.
	stmt := hreq.Method + " " + u.Scheme + "://" + u.Host + u.EscapedPath()
	tr.Statement = stmt

	cl, err := k.clients.Get(ctx, t.Key, func() (*client, error) {
		c := egress.HTTPClient(t.Dialer)
		tp, ok := c.Transport.(*http.Transport)
		if !ok {
			return nil, errors.New("httphost: egress.HTTPClient has no *http.Transport")
		}
		return &client{http: c, transport: tp}, nil
	})
	if err != nil {
		return nil, hostconn.GuestError(err, CodeHTTPError)
	}
	hc := cl.http
	if in.Redirect == "manual" {
		c := *hc
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		hc = &c
	}

	limits := t.Limits
	if d := time.Duration(in.TimeoutMs) * time.Millisecond; d > 0 && (limits.QueryTimeout <= 0 || d < limits.QueryTimeout) {
		limits.QueryTimeout = d
	}
	rctx, cancel := hostconn.WithQueryTimeout(ctx, limits)
	defer cancel()

	resp, err := hc.Do(hreq.WithContext(rctx))
	if err != nil {
		return nil, markDenied(tr, transportError(rctx, stmt, limits.QueryTimeout, err))
	}
	defer resp.Body.Close()

	max := int64(t.Limits.MaxResponseBytes)
	if max > 0 && resp.ContentLength > max {
		return nil, tooLarge(op, resp.ContentLength, max)
	}
	var body io.Reader = resp.Body
	if max > 0 {
		body = io.LimitReader(resp.Body, max+1)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, transportError(rctx, stmt, limits.QueryTimeout, fmt.Errorf("reading the response body: %w", err))
	}
	if max > 0 && int64(len(b)) > max {
		return nil, tooLarge(op, -1, max)
	}

	out := Response{Status: resp.StatusCode, Headers: resp.Header, BodyEncoding: EncodingText}
	if out.Headers == nil {
		out.Headers = map[string][]string{}
	}
	if utf8.Valid(b) {
		out.Body = string(b)
	} else {
		out.Body = base64.StdEncoding.EncodeToString(b)
		out.BodyEncoding = EncodingBase64
	}
	return hostconn.Marshal(op, t.Limits, out)
}

// Evict drops the clients of every target whose Key starts with prefix.
func (k *Kind) Evict(prefix string) { k.clients.Evict(prefix) }

// EvictIdle drops the clients unused since cutoff.
func (k *Kind) EvictIdle(cutoff time.Time) { k.clients.EvictIdle(cutoff) }

// Len is the number of clients held.
func (k *Kind) Len() int { return k.clients.Len() }

// Close drops every client.
func (k *Kind) Close() error { return k.clients.Close() }

// newRequest checks the guest's request and makes the *http.Request
// (without its context).
func newRequest(t *hostconn.Target, in *Request) (*http.Request, error) {
	bad := func(format string, args ...any) error {
		return engine.Errorf(engine.CodeInvalidInput, OpRequest+": "+format, args...)
	}
	method := strings.ToUpper(in.Method)
	if method == "" {
		method = http.MethodGet
	}
	if !methods[method] {
		return nil, bad("method %q is not allowed (GET, POST, PUT, PATCH, DELETE or HEAD)", in.Method)
	}
	switch in.Redirect {
	case "", "follow", "manual":
	default:
		return nil, bad("redirect %q (want follow or manual)", in.Redirect)
	}
	if in.TimeoutMs < 0 {
		return nil, bad("timeoutMs is negative")
	}
	if scheme, _, ok := strings.Cut(in.URL, ":"); ok {
		// Before parsing: a socket path in the host does not parse.
		switch scheme = strings.ToLower(scheme); {
		case scheme == "file":
			return nil, egress.Refused(redact(in.URL), egress.ReasonNotNetwork).EngineError()
		case scheme == "unix" || strings.HasSuffix(scheme, "+unix"):
			return nil, egress.Refused(redact(in.URL), egress.ReasonUnixSocket).EngineError()
		}
	}
	u, err := url.Parse(in.URL)
	if err != nil || in.URL == "" {
		return nil, bad("url %q does not parse as a URL", redact(in.URL))
	}
	if !u.IsAbs() {
		if t.DBType != "http" || t.URI == "" {
			return nil, bad("relative url %q needs the connection's base URL", redact(in.URL))
		}
		base, err := url.Parse(t.URI)
		if err != nil || !base.IsAbs() {
			return nil, bad("the connection's URI is not an absolute URL to resolve %q against", redact(in.URL))
		}
		u = base.ResolveReference(u)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	switch {
	case u.Scheme == "file":
		return nil, egress.Refused(redact(u.String()), egress.ReasonNotNetwork).EngineError()
	case u.Scheme == "unix" || strings.HasSuffix(u.Scheme, "+unix"):
		return nil, egress.Refused(redact(u.String()), egress.ReasonUnixSocket).EngineError()
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, bad("scheme %q is not allowed (http or https)", u.Scheme)
	case u.Hostname() == "":
		return nil, egress.Refused(redact(u.String()), egress.ReasonNoHost).EngineError()
	}
	u.Fragment, u.RawFragment = "", ""

	var body []byte
	switch in.BodyEncoding {
	case "", EncodingText:
		body = []byte(in.Body)
	case EncodingBase64:
		body, err = base64.StdEncoding.DecodeString(in.Body)
		if err != nil {
			return nil, bad("body is not valid base64: %v", err)
		}
	default:
		return nil, bad("bodyEncoding %q (want text or base64)", in.BodyEncoding)
	}
	var rd io.Reader
	if len(body) > 0 {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequest(method, u.String(), rd)
	if err != nil {
		return nil, bad("%v", err)
	}
	for name, values := range in.Headers {
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, bad("invalid header name %q", name)
		}
		key := http.CanonicalHeaderKey(name)
		if key == "Host" {
			return nil, bad("the Host header cannot be set: it is always the URL's host")
		}
		if dropped[key] {
			continue
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, bad("invalid value of header %q", name)
			}
			hreq.Header.Add(key, v)
		}
	}
	return hreq, nil
}

// transportError maps a failed request to the guest's error. The URL of
// a *url.Error is left out: its query may hold secrets.
func transportError(ctx context.Context, stmt string, timeout time.Duration, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		return denied.EngineError()
	}
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) ||
		(errors.As(err, &ne) && ne.Timeout()) {
		if timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return engine.Errorf(engine.CodeTimeout, "%s: no complete response within %s", stmt, timeout)
		}
		return engine.Errorf(engine.CodeTimeout, "%s: %v", stmt, err)
	}
	return hostconn.GuestError(fmt.Errorf("%s: %w", stmt, err), CodeHTTPError)
}

func markDenied(tr *engine.HostCall, err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Code == engine.CodeEgressDenied {
		tr.Denied = true
	}
	return err
}

func tooLarge(op string, n, max int64) error {
	if n >= 0 {
		return engine.Errorf(engine.CodeResourceExhausted, "%s: response body is %d bytes, over the limit of %d", op, n, max)
	}
	return engine.Errorf(engine.CodeResourceExhausted, "%s: response body is over the limit of %d bytes", op, max)
}

// targetAddr is u's host:port, with the scheme's default port.
func targetAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// redact drops the query and user info of a URL for a message.
func redact(raw string) string {
	if i := strings.IndexAny(raw, "?#"); i >= 0 {
		raw = raw[:i]
	}
	if i := strings.Index(raw, "@"); i >= 0 {
		if j := strings.Index(raw, "://"); j >= 0 && j < i {
			raw = raw[:j+3] + raw[i+1:]
		}
	}
	return raw
}
