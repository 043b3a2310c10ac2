package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/jsrt"
	"github.com/sluice-dev/sluice/internal/userflow"
	"github.com/sluice-dev/sluice/store"
)

// API-level error codes, besides the connector codes of engine.Code.
const (
	codeUnauthorized     = "unauthorized"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeConflict         = "conflict"
	codeInvalidInput     = "invalid_input"
	codeInvalidModule    = "invalid_module"
	codeTooLarge         = "too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeNoActiveVersion  = "no_active_version"
	codeModeNotSatisfied = "mode_not_satisfied"
	codeQuotaExceeded    = "quota_exceeded"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
)

// Error is an error the API answers as {"error":{"code","message"}} with
// Status. RetryAfter, when set, becomes the Retry-After header.
type Error struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
	Details    map[string]string // the answer's error.details, when set
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func apiErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

func invalidField(field, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, Code: codeInvalidInput, Message: field + ": " + fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return apiErr(http.StatusNotFound, codeNotFound, format, args...)
}

// errorBody is the JSON of every error answer.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Details map[string]string `json:"details,omitempty"`
}

// StatusOf maps a connector error code to its HTTP status (docs/contract.md).
func StatusOf(code engine.Code) int {
	switch code {
	case engine.CodeUserNotFound:
		return http.StatusNotFound
	case engine.CodeWrongPassword:
		return http.StatusUnauthorized
	case engine.CodeUserExists:
		return http.StatusConflict
	case engine.CodeInvalidInput:
		return http.StatusBadRequest
	case engine.CodeNotImplemented:
		return http.StatusNotImplemented
	case engine.CodeEgressDenied, engine.CodeConnectorError:
		return http.StatusBadGateway
	case engine.CodeTimeout:
		return http.StatusGatewayTimeout
	case engine.CodeResourceExhausted:
		return http.StatusInsufficientStorage
	case engine.CodeQuotaExceeded:
		return http.StatusTooManyRequests
	case userflow.ErrDisabled.Code:
		return http.StatusConflict
	case userflow.CodeLegacyUnavailable:
		return http.StatusServiceUnavailable
	case userflow.CodeClientCanceled:
		return 499 // nginx's "client closed request": nobody reads it
	}
	return http.StatusBadGateway
}

// toError maps any error to the answer the API gives.
func toError(err error) (*Error, map[string]string) {
	var (
		ae  *Error
		qe  *invoke.QuotaError
		ve  *invoke.VersionError
		ee  *engine.Error
		me  *engine.ModuleError
		sve *store.ValidationError
		he  *echo.HTTPError
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
		jse *jsrt.SyntaxError
		jme *jsrt.UnsupportedModuleError
	)
	switch {
	case errors.As(err, &ae):
		return ae, ae.Details
	case errors.As(err, &qe):
		return &Error{Status: http.StatusTooManyRequests, Code: codeQuotaExceeded, Message: qe.Error(), RetryAfter: qe.RetryAfter}, nil
	case errors.As(err, &ve):
		if errors.Is(ve, invoke.ErrNoActiveVersion) {
			return apiErr(http.StatusConflict, codeNoActiveVersion, "%s", ve.Error()), nil
		}
		return notFound("%s", ve.Error()), nil
	case errors.As(err, &ee):
		return &Error{Status: StatusOf(ee.Code), Code: string(ee.Code), Message: ee.Message}, ee.Details
	case errors.As(err, &me):
		if me.TooLarge {
			return apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "%s", me.Reason), nil
		}
		return apiErr(http.StatusBadRequest, codeInvalidModule, "%s", me.Reason), nil
	case errors.As(err, &jse):
		d := map[string]string{"line": strconv.Itoa(jse.Line), "column": strconv.Itoa(jse.Column), "syntaxError": jse.Message}
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidModule, Message: jse.Error(), Details: d}, d
	case errors.As(err, &jme):
		d := map[string]string{"modules": strings.Join(jme.Modules, ","), "supported": strings.Join(jme.Supported, ",")}
		return &Error{Status: http.StatusBadRequest, Code: codeInvalidModule, Message: jme.Error(), Details: d}, d
	case errors.Is(err, jsrt.ErrNotText):
		return apiErr(http.StatusBadRequest, codeInvalidModule, "%s", err.Error()), nil
	case errors.As(err, &sve):
		return invalidField(sve.Field, "%s", sve.Message), nil
	case errors.As(err, &mbe):
		return apiErr(http.StatusRequestEntityTooLarge, codeTooLarge, "request body is over the limit of %d bytes", mbe.Limit), nil
	case errors.As(err, &se):
		return apiErr(http.StatusBadRequest, codeInvalidInput, "malformed JSON at offset %d: %s", se.Offset, se.Error()), nil
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			field = "body"
		}
		return invalidField(field, "must be %s, not %s", jsonKind(te.Type.Kind().String()), te.Value), nil
	case errors.Is(err, store.ErrUserExists):
		return apiErr(http.StatusConflict, string(engine.CodeUserExists), "user exists"), nil
	case errors.Is(err, store.ErrNotFound):
		return notFound("not found"), nil
	case errors.Is(err, store.ErrConflict):
		return apiErr(http.StatusConflict, codeConflict, "already exists"), nil
	case errors.Is(err, engine.ErrClosed), errors.Is(err, context.Canceled):
		return apiErr(http.StatusServiceUnavailable, codeUnavailable, "the server is shutting down"), nil
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if m, ok := he.Message.(string); ok && he.Code != http.StatusNotFound {
			msg = m
		}
		return &Error{Status: he.Code, Code: codeForStatus(he.Code), Message: msg}, nil
	}
	return apiErr(http.StatusInternalServerError, codeInternal, "internal error"), nil
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int64", "int32", "uint", "uint64", "uint32", "float64":
		return "a number"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return goKind
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return codeUnauthorized
	case http.StatusNotFound:
		return codeNotFound
	case http.StatusMethodNotAllowed:
		return codeMethodNotAllowed
	case http.StatusConflict:
		return codeConflict
	case http.StatusRequestEntityTooLarge:
		return codeTooLarge
	case http.StatusUnsupportedMediaType:
		return codeUnsupportedMedia
	case http.StatusTooManyRequests:
		return codeQuotaExceeded
	case http.StatusServiceUnavailable:
		return codeUnavailable
	}
	if status >= 400 && status < 500 {
		return codeInvalidInput
	}
	return codeInternal
}

// handleError is Echo's one HTTPErrorHandler.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	ae, details := toError(err)
	if ae.Status >= 500 && ae.Code == codeInternal {
		s.log.ErrorContext(c.Request().Context(), "request failed",
			"requestId", requestIDOf(c), "path", c.Path(), "error", err.Error())
	}
	if ae.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(retrySeconds(ae.RetryAfter)))
	}
	c.Set(ctxErrorCode, ae.Code)
	body := errorBody{Error: errorDetail{Code: ae.Code, Message: ae.Message, Details: details}}
	if c.Request().Method == http.MethodHead {
		c.NoContent(ae.Status)
		return
	}
	c.JSON(ae.Status, body)
}

// retrySeconds rounds d up to whole seconds, at least 1.
func retrySeconds(d time.Duration) int {
	n := int((d + time.Second - 1) / time.Second)
	if n < 1 {
		n = 1
	}
	return n
}
