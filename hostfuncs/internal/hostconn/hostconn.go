// Package hostconn holds what every kind of host function shares: the
// connection a call may reach, its per-call limits, and the mapping of
// errors to the guest-visible codes.
package hostconn

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

// Target is the one database or service a connector call may reach. The
// guest never names credentials or addresses of its own: every kind of
// host function connects to Target only.
type Target struct {
	// Key identifies the configuration and the tenant's private-network
	// grant: pools are shared by calls with the same Key only, and closed
	// when the configuration changes.
	Key string
	// Prefix is the part of Key shared by every configuration version of
	// the connection (Evict uses it).
	Prefix string

	Tenant, Connection string
	ConfigVersion      int
	DBType             string // postgres, mysql, mongodb, http

	URI      string
	Host     string
	Port     int
	Username string
	Password string
	Database string

	// Dialer is the connection's egress gate (with the tenant's grant);
	// every outbound connection goes through it.
	Dialer *egress.Dialer
	// Limits bound each host call.
	Limits Limits
	// MaxOpenConns bounds each pool of this target.
	MaxOpenConns int
}

// Limits bound one host call.
type Limits struct {
	// QueryTimeout bounds one query or request, inside the call's deadline.
	QueryTimeout time.Duration
	// MaxRows bounds rows (or documents) returned by one query.
	MaxRows int
	// MaxResponseBytes bounds the JSON result of one host call.
	MaxResponseBytes int
}

// Kind serves the host calls of one prefix ("sql", "mongo", "http").
type Kind interface {
	// Call runs op for target t. It fills tr's Target, Statement and Rows.
	Call(ctx context.Context, t *Target, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error)
	// Evict closes the pools of every target whose Key starts with prefix.
	Evict(prefix string)
	// Close closes every pool.
	Close() error
}

// WithQueryTimeout derives the context of one query: the query timeout,
// never past the call's own deadline.
func WithQueryTimeout(ctx context.Context, l Limits) (context.Context, context.CancelFunc) {
	if l.QueryTimeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, l.QueryTimeout)
}

// GuestError maps err to what the guest sees: an egress refusal becomes
// egress_denied, a deadline becomes timeout, an *engine.Error stays as it
// is. Anything else is wrapped with code, the kind's error code (for
// example "db_error"), and its message.
func GuestError(err error, code engine.Code) error {
	if err == nil {
		return nil
	}
	var denied *egress.DeniedError
	if errors.As(err, &denied) {
		return denied.EngineError()
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &engine.Error{Code: engine.CodeTimeout, Message: err.Error()}
	}
	return &engine.Error{Code: code, Message: err.Error()}
}

// Unmarshal decodes a host call's JSON request strictly, answering
// invalid_input naming the operation.
func Unmarshal(op string, req []byte, v any) error {
	if err := json.Unmarshal(req, v); err != nil {
		return engine.Errorf(engine.CodeInvalidInput, "%s: bad request: %v", op, err)
	}
	return nil
}

// Marshal encodes a result, refusing one over the response limit.
func Marshal(op string, l Limits, v any) (json.RawMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, engine.Errorf(engine.CodeConnectorError, "%s: encoding the result: %v", op, err)
	}
	if l.MaxResponseBytes > 0 && len(b) > l.MaxResponseBytes {
		return nil, engine.Errorf(engine.CodeResourceExhausted, "%s: result is %d bytes, over the limit of %d", op, len(b), l.MaxResponseBytes)
	}
	return b, nil
}
