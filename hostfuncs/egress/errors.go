package egress

import (
	"net"

	"github.com/sluice-dev/sluice/engine"
)

// Reasons a DeniedError gives besides the deny-list ones (which read
// "is loopback (127.0.0.0/8)", "is link-local (cloud metadata)", ...).
const (
	ReasonNotAllowlisted = "is not in the connection's allowlist"
	ReasonNoHost         = "has no host"
	// ReasonUnixSocket refuses a unix-domain socket (a PostgreSQL host
	// starting with "/", a MySQL unix(...) DSN, a MongoDB socket path):
	// only TCP destinations are ever dialed.
	ReasonUnixSocket = "is a unix socket (only TCP destinations are allowed)"
	// ReasonNotNetwork refuses a destination that is not on the network
	// at all (an http file: URL).
	ReasonNotNetwork = "is not a network address (only TCP destinations are allowed)"
)

// Refused returns the refusal of a destination that is never dialed
// whatever the allowlist says: a unix socket, a file, an empty host.
// Drivers and host functions return it from their configuration checks,
// so every refused destination is the same egress_denied.
func Refused(addr, reason string) *DeniedError {
	return &DeniedError{Addr: addr, Reason: reason, Platform: true}
}

// DeniedError is returned when the gate refuses a connection. Nothing
// was sent to Addr.
type DeniedError struct {
	// Addr is the refused address as ip:port, or the requested
	// host:port when the refusal came before resolution.
	Addr string
	// Host is the host the connector asked for (a name or a literal
	// address).
	Host string
	// Reason completes "<Addr> ...", e.g. "is link-local (cloud
	// metadata)" or ReasonNotAllowlisted.
	Reason string
	// Platform is set when the platform deny list refused the address
	// (whatever the tenant's allowlist says).
	Platform bool
}

func (e *DeniedError) Error() string { return "egress denied: " + e.Message() }

// Message is the refusal without the "egress denied: " prefix, e.g.
// "169.254.169.254:80 is link-local (cloud metadata)" or
// "10.1.2.3:5432 (db.example.com) is private (10.0.0.0/8)".
func (e *DeniedError) Message() string {
	m := e.Addr
	if m == "" {
		m = "the destination"
	}
	if host, _, err := net.SplitHostPort(e.Addr); err == nil && host != e.Host && e.Host != "" {
		m += " (" + e.Host + ")"
	}
	return m + " " + e.Reason
}

// EngineError returns the refusal as the contract's egress_denied error,
// with "address", "host" and "reason" in Details.
func (e *DeniedError) EngineError() *engine.Error {
	return &engine.Error{
		Code:    engine.CodeEgressDenied,
		Message: e.Message(),
		Details: map[string]string{"address": e.Addr, "host": e.Host, "reason": e.Reason},
	}
}
