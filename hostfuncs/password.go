package hostfuncs

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
	"github.com/sluice-dev/sluice/hostfuncs/password"
)

// passwordKind serves password.verify and password.hash natively: hashing
// in wasm is several times slower, and these calls need no connection.
//
// Both end with timeout as soon as ctx (the call's deadline) does: the
// hash, which cannot be interrupted, runs on in the background within the
// password package's process-wide budget, each bounded by its Limits.
type passwordKind struct {
	limits password.Limits // with the Manager's hashing budget
}

type verifyRequest struct {
	Hash     string           `json:"hash"`
	Password string           `json:"password"`
	Digest   *password.Digest `json:"digest,omitempty"`
}

type hashRequest struct {
	Algorithm string `json:"algorithm"`
	Password  string `json:"password"`
}

func (k passwordKind) Call(ctx context.Context, t *hostconn.Target, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	limits := k.limits
	limits.Tenant = t.Tenant // the budget is shared fairly between tenants
	// A hash is CPU work the tenant asked for, run outside its CPU slot:
	// it counts against the tenant's CPU budget, also when it ends after
	// the call did.
	limits.OnWork = func(cpu time.Duration) { engine.ChargeCPU(ctx, cpu) }
	switch op {
	case "password.verify":
		var in verifyRequest
		if err := hostconn.Unmarshal(op, req, &in); err != nil {
			return nil, err
		}
		var ok bool
		var err error
		if in.Digest != nil {
			ok, err = password.VerifyDigest(*in.Digest, in.Hash, in.Password)
		} else {
			ok, err = limits.VerifyContext(ctx, in.Hash, in.Password)
		}
		if err != nil {
			return nil, passwordError(op, err)
		}
		return json.Marshal(map[string]bool{"valid": ok})
	case "password.hash":
		var in hashRequest
		if err := hostconn.Unmarshal(op, req, &in); err != nil {
			return nil, err
		}
		tr.Statement = in.Algorithm
		h, err := limits.HashContext(ctx, in.Algorithm, in.Password)
		if err != nil {
			return nil, passwordError(op, err)
		}
		return json.Marshal(map[string]string{"hash": h})
	}
	return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %q", op)
}

// passwordError maps the password package's errors: the call's end is
// timeout; anything else, a work factor over the host's caps included,
// is invalid_input (the stored hash or the request is the guest's input,
// and trying again cannot help).
func passwordError(op string, err error) error {
	if errors.Is(err, password.ErrCanceled) {
		return engine.Errorf(engine.CodeTimeout, "%s: %v", op, err)
	}
	return engine.Errorf(engine.CodeInvalidInput, "%s: %v", op, err)
}

func (passwordKind) Evict(string) {}
func (passwordKind) Close() error { return nil }
