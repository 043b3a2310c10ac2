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
)

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
