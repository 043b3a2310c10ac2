package api

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/store"
)

// Keys of values kept in the echo.Context.
const (
	ctxRequestID = "sluice.requestId"
	ctxTenant    = "sluice.tenant"
	ctxErrorCode = "sluice.errorCode"
)

const headerRequestID = "X-Request-ID"

// requestID takes a well-formed X-Request-ID from the request or makes
// one, and answers it.
func (s *Server) requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(headerRequestID)
		if !validRequestID(id) {
			b := make([]byte, 12)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(headerRequestID, id)
		return next(c)
	}
}

func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:", r)) {
			return false
		}
	}
	return true
}

func requestIDOf(c echo.Context) string {
	id, _ := c.Get(ctxRequestID).(string)
	return id
}

// accessLog writes one JSON line per request. It never logs bodies,
// headers or query strings (they may carry secrets). The attributes
// are gathered in an array on the stack and handed to LogAttrs: the
// line costs what the handler needs, nothing more.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err) // answer now, so the status is known
		}
		req, res := c.Request(), c.Response()
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		took := time.Since(start)
		if ctx := req.Context(); s.log.Enabled(ctx, slog.LevelInfo) {
			var buf [10]slog.Attr
			attrs := append(buf[:0],
				slog.String("requestId", requestIDOf(c)),
				slog.String("method", req.Method),
				slog.String("path", req.URL.Path),
				slog.String("route", route),
				slog.Int("status", res.Status),
				slog.Float64("durationMs", float64(took.Microseconds())/1000),
				slog.Int64("bytesOut", res.Size),
				slog.String("ip", c.RealIP()),
			)
			if t, ok := c.Get(ctxTenant).(store.Tenant); ok {
				attrs = append(attrs, slog.String("tenant", t.ID))
			}
			if code, ok := c.Get(ctxErrorCode).(string); ok {
				attrs = append(attrs, slog.String("errorCode", code))
			}
			s.log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
		}
		s.metrics.observeRequest(req.Method, route, res.Status, took)
		return nil
	}
}

// recoverPanic turns a handler panic into a 500.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.ErrorContext(c.Request().Context(), "panic", "requestId", requestIDOf(c), "panic", fmt.Sprint(r))
				err = apiErr(http.StatusInternalServerError, codeInternal, "internal error")
			}
		}()
		return next(c)
	}
}

// uploadRoute is bounded by the tenant's maxModuleBytes quota instead of
// MaxBodyBytes.
const uploadRoute = "/v1/connections/:name/versions"

// bodyLimit refuses bodies over MaxBodyBytes: at once when Content-Length
// says so, else when reading passes the limit.
func (s *Server) bodyLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if c.Path() == uploadRoute && req.Method == http.MethodPost {
			return next(c)
		}
		if req.ContentLength > s.cfg.MaxBodyBytes {
			return apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "request body is over the limit of %d bytes", s.cfg.MaxBodyBytes)
		}
		req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.MaxBodyBytes)
		return next(c)
	}
}

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(c echo.Context) string {
	h := c.Request().Header.Get(echo.HeaderAuthorization)
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

var errUnauthorized = apiErr(http.StatusUnauthorized, codeUnauthorized, "missing or invalid bearer token")

// operatorAuth admits the operator token, compared in constant time (of
// SHA-256 digests, so the length does not leak either).
func (s *Server) operatorAuth(next echo.HandlerFunc) echo.HandlerFunc {
	want := sha256.Sum256([]byte(s.cfg.OperatorToken))
	return func(c echo.Context) error {
		token := bearer(c)
		got := sha256.Sum256([]byte(token))
		if token == "" || s.cfg.OperatorToken == "" || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sluice-admin"`)
			return errUnauthorized
		}
		return next(c)
	}
}

// tenantAuth admits a tenant API key: the store is looked up by the key's
// SHA-256, so no key is compared byte by byte. The tenant (with its
// current quotas) is kept in the context.
func (s *Server) tenantAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		key := bearer(c)
		if !strings.HasPrefix(key, store.APIKeyPrefix) || len(key) > 256 {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sluice"`)
			return errUnauthorized
		}
		t, err := s.tenantByKeyHash(c.Request().Context(), store.HashAPIKey(key))
		if errors.Is(err, store.ErrNotFound) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="sluice"`)
			return errUnauthorized
		}
		if err != nil {
			return err
		}
		c.Set(ctxTenant, t)
		return next(c)
	}
}

// tenantByKeyHash is the tenant of an API key hash, through the auth
// cache (store.ErrNotFound: no such key).
func (s *Server) tenantByKeyHash(ctx context.Context, hash string) (store.Tenant, error) {
	if t, ok := s.auth.get(hash); ok {
		return t, nil
	}
	t, err := s.cfg.Store.TenantByAPIKeyHash(ctx, hash)
	if err != nil {
		return t, err
	}
	s.auth.put(hash, t)
	return t, nil
}

func tenantOf(c echo.Context) store.Tenant {
	t, _ := c.Get(ctxTenant).(store.Tenant)
	return t
}

// decodeJSON decodes the request body into v: exactly one JSON value,
// unknown fields refused.
func decodeJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(c.Request().Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return err
		}
		return apiErr(http.StatusBadRequest, codeInvalidInput, "cannot read the request body")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apiErr(http.StatusBadRequest, codeInvalidInput, "the request body is empty; want a JSON object")
	}
	if off, ok := validUTF8JSON(body); !ok {
		return apiErr(http.StatusBadRequest, codeInvalidInput, "the request body is not valid UTF-8 (at byte %d): JSON text must be UTF-8, and \\u escapes must not be lone surrogates", off)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		if errors.As(err, &se) || errors.As(err, &te) {
			return err
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return apiErr(http.StatusBadRequest, codeInvalidInput, "malformed JSON: unexpected end of input")
		}
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return invalidField(strings.Trim(f, `"`), "unknown field")
		}
		return apiErr(http.StatusBadRequest, codeInvalidInput, "malformed JSON: %s", err.Error())
	}
	if dec.More() {
		return apiErr(http.StatusBadRequest, codeInvalidInput, "malformed JSON: more than one value in the body")
	}
	return nil
}

// validUTF8JSON reports whether body is UTF-8 and its \u escapes encode
// Unicode scalar values (no lone surrogate), which encoding/json would
// otherwise turn into U+FFFD silently; it returns the offset of the first
// offending byte.
func validUTF8JSON(body []byte) (int, bool) {
	if !utf8.Valid(body) {
		for i := 0; i < len(body); {
			r, n := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && n <= 1 {
				return i, false
			}
			i += n
		}
	}
	inString := false
	for i := 0; i < len(body); i++ {
		switch b := body[i]; {
		case b == '"':
			inString = !inString
		case b == '\\' && inString && i+1 < len(body):
			i++
			if body[i] != 'u' {
				continue
			}
			r, ok := hex4(body, i+1)
			if !ok {
				continue // the decoder reports the syntax error
			}
			switch {
			case utf16.IsSurrogate(r) && r < 0xdc00:
				// A high surrogate: a low one must follow.
				lo, ok := rune(0), false
				if i+10 < len(body) && body[i+5] == '\\' && body[i+6] == 'u' {
					lo, ok = hex4(body, i+7)
				}
				if !ok || lo < 0xdc00 || lo > 0xdfff {
					return i - 1, false
				}
				i += 10
			case utf16.IsSurrogate(r):
				return i - 1, false
			default:
				i += 4
			}
		}
	}
	return 0, true
}

// hex4 reads the four hex digits at body[i:].
func hex4(body []byte, i int) (rune, bool) {
	if i+4 > len(body) {
		return 0, false
	}
	var r rune
	for _, c := range body[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
