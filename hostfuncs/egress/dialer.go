package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// DefaultDialTimeout is the connect timeout per address when
// Config.DialTimeout is zero.
const DefaultDialTimeout = 10 * time.Second

// Resolver resolves host names; *net.Resolver implements it. Tests use
// a fake to script DNS answers.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Config is the platform side of the gate, the same for every tenant;
// what a tenant may reach beyond it is its Grant (ParseGrant) and its
// connection's Allowlist. NewDialer copies it; changing a Config later
// changes no Dialer.
type Config struct {
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// DialTimeout bounds each connect attempt (per address); zero means
	// DefaultDialTimeout. The caller's context bounds the whole dial.
	DialTimeout time.Duration
	// Control, if set, is the net.Dialer Control hook of every connect:
	// it runs after the gate let an address through, on the socket
	// before connect(2), with the checked ip:port. It can refuse
	// (return an error) or tune the socket; it cannot widen the gate.
	Control func(network, address string, c syscall.RawConn) error

	// Protected are further addresses of the platform itself, besides
	// loopback and the node's own addresses: the control-plane store's
	// (ProtectHosts resolves it). Like those they are refused to every
	// tenant whose Grant does not name them.
	Protected []Protected
	// InterfaceAddrs returns the node's own addresses, protected as
	// loopback is. nil means InterfaceAddrs (the node's interfaces,
	// read again every ten seconds). An error refuses every dial.
	InterfaceAddrs func() ([]netip.Addr, error)
	// OwnMachine says the gate runs on the developer's own machine
	// (sluice call): loopback and the machine's addresses are then not
	// protected, only private (the Grant decides). Never set it in a
	// server: there they are the platform's own services.
	OwnMachine bool
}

// DialEvent describes one address the gate decided on, for the call's
// trace. A refused address gives an event with Denied set; an allowed
// one gives an event after the connect attempt, with Err the connect
// error (nil on success). A failed resolution gives one event with Err
// set and a zero Addr.
type DialEvent struct {
	Network string
	Host    string         // the host the connector asked for
	Port    string         // the port the connector asked for
	Addr    netip.AddrPort // the resolved address decided on
	Denied  bool
	Reason  string // why it was denied (DeniedError.Reason)
	Err     error
	// CheckOnly is set for events of Check (e.g. an HTTP redirect
	// check): nothing was dialed.
	CheckOnly bool
}

// Dialer is the egress gate for one tenant connection: every outbound
// connection of the connection's drivers goes through DialContext. It
// is cheap to make (one per connection, or per call) and safe for
// concurrent use.
type Dialer struct {
	grant          Grant
	resolver       Resolver
	allow          Allowlist
	protected      []Protected
	interfaceAddrs func() ([]netip.Addr, error)
	ownMachine     bool
	onDial         func(DialEvent)
	dialer         net.Dialer
}

// NewDialer returns a gate for a connection of a tenant: grant is the
// tenant's private-network grant, allow the connection's allowlist.
// onDial, if not nil, is called for every DialEvent (from the dialing
// goroutine; it must be safe for concurrent use if the Dialer is shared).
func NewDialer(cfg Config, grant Grant, allow Allowlist, onDial func(DialEvent)) *Dialer {
	d := &Dialer{
		grant:          grant,
		resolver:       cfg.Resolver,
		allow:          allow,
		protected:      append([]Protected(nil), cfg.Protected...),
		interfaceAddrs: cfg.InterfaceAddrs,
		ownMachine:     cfg.OwnMachine,
		onDial:         onDial,
		dialer: net.Dialer{
			Timeout: cfg.DialTimeout,
			Control: cfg.Control,
		},
	}
	if d.resolver == nil {
		d.resolver = net.DefaultResolver
	}
	if d.interfaceAddrs == nil {
		d.interfaceAddrs = InterfaceAddrs
	}
	if d.dialer.Timeout == 0 {
		d.dialer.Timeout = DefaultDialTimeout
	}
	return d
}

type observerKey struct{}

// WithObserver returns a context whose dials through any Dialer also
// report their DialEvents to fn (after the Dialer's own onDial). Use it
// when one Dialer (e.g. a driver pool's) serves many calls and each
// call's trace should get the dials made on its behalf. A later
// WithObserver replaces an earlier one.
func WithObserver(ctx context.Context, fn func(DialEvent)) context.Context {
	return context.WithValue(ctx, observerKey{}, fn)
}

func (d *Dialer) emit(ctx context.Context, ev DialEvent) {
	if d.onDial != nil {
		d.onDial(ev)
	}
	if fn, _ := ctx.Value(observerKey{}).(func(DialEvent)); fn != nil {
		fn(ev)
	}
}

// DialContext connects to addr (host:port) on network tcp, tcp4 or
// tcp6 through the gate. It resolves a host name itself, checks every
// address against the deny list and the allowlist, and connects only to
// the addresses it allowed, in the resolver's order, until one answers.
// The connect uses the checked IP, so a second DNS answer can never be
// dialed unchecked. If every address is refused the error is a
// *DeniedError (the first refusal); a failed connect to an allowed
// address returns the first connect error.
//
// Its signature fits pgconn.Config.DialFunc, mysql.Config.DialFunc,
// http.Transport.DialContext and mongo-driver's options.ContextDialer.
func (d *Dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		err := &DeniedError{Addr: addr, Platform: true, Reason: networkReason(network)}
		d.emit(ctx, DialEvent{Network: network, Denied: true, Reason: err.Reason, Err: err})
		return nil, err
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		if addr == "" || strings.HasPrefix(addr, ":") {
			err := &DeniedError{Addr: addr, Platform: true, Reason: ReasonNoHost}
			d.emit(ctx, DialEvent{Network: network, Denied: true, Reason: err.Reason, Err: err})
			return nil, err
		}
		return nil, fmt.Errorf("egress: %w", err)
	}
	targets, err := d.plan(ctx, network, host, port, false, nil)
	if err != nil {
		return nil, err
	}
	return d.connect(ctx, network, host, port, targets)
}

// DialResolved connects to addr as DialContext would to host:port had
// the name host resolved to addr's IP alone: host-name allowlist entries
// match host, and the IP is checked against the deny list, the grant and
// the allowlist. It is for reconnecting to the very server of a
// connection the Dialer made through a name (a PostgreSQL cancel request
// goes to the address of the connection it cancels); nothing is resolved.
// A literal host must be addr's IP.
func (d *Dialer) DialResolved(ctx context.Context, network, host string, addr netip.AddrPort) (net.Conn, error) {
	if a, err := netip.ParseAddr(host); err == nil && a.Unmap() != addr.Addr().Unmap() {
		return nil, fmt.Errorf("egress: %s is not the address of %s", addr, host)
	}
	port := strconv.Itoa(int(addr.Port()))
	targets, err := d.plan(ctx, network, host, port, false, []netip.Addr{addr.Addr()})
	if err != nil {
		return nil, err
	}
	return d.connect(ctx, network, host, port, targets)
}

// networkReason is the refusal of a dial on a network other than TCP.
func networkReason(network string) string {
	if strings.HasPrefix(network, "unix") {
		return ReasonUnixSocket
	}
	return fmt.Sprintf("uses network %q (only tcp is allowed)", network)
}

// connect connects to the first of targets that answers.
func (d *Dialer) connect(ctx context.Context, network, host, port string, targets []netip.AddrPort) (net.Conn, error) {
	var first error
	for _, t := range targets {
		c, err := d.dialer.DialContext(ctx, network, t.String())
		d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Addr: t, Err: err})
		if err == nil {
			return c, nil
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("egress: connect %s: %w", net.JoinHostPort(host, port), first)
}

// Check resolves host and decides as DialContext would for a TCP
// connection to host:port, without connecting. It returns nil when at
// least one address would be dialed, the first *DeniedError when every
// address is refused, or a resolution error.
func (d *Dialer) Check(ctx context.Context, host, port string) error {
	_, err := d.plan(ctx, "tcp", host, port, true, nil)
	return err
}

// LookupPassthrough is a pgconn.Config.LookupFunc that resolves nothing:
// it hands the host back, so that pgx passes the host name to
// DialContext, which resolves and checks it itself (and so host-name
// allowlist entries can match).
func LookupPassthrough(_ context.Context, host string) ([]string, error) {
	return []string{host}, nil
}

// plan resolves host and returns the addresses the gate allows, in
// order. Refused addresses are reported through emit. pinned, when not
// nil, is what a host name resolves to (DialResolved): no DNS then.
func (d *Dialer) plan(ctx context.Context, network, host, port string, checkOnly bool, pinned []netip.Addr) ([]netip.AddrPort, error) {
	requested := net.JoinHostPort(host, port)
	var ipNetwork string
	switch network {
	case "tcp":
		ipNetwork = "ip"
	case "tcp4":
		ipNetwork = "ip4"
	case "tcp6":
		ipNetwork = "ip6"
	default:
		err := &DeniedError{Addr: requested, Host: host, Platform: true, Reason: networkReason(network)}
		d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Denied: true, Reason: err.Reason, Err: err, CheckOnly: checkOnly})
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return nil, fmt.Errorf("egress: invalid port %q in %s", port, requested)
	}
	portNum := uint16(p)

	deny := func(addr string, reason string, platform bool, ap netip.AddrPort) *DeniedError {
		err := &DeniedError{Addr: addr, Host: host, Reason: reason, Platform: platform}
		d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Addr: ap, Denied: true, Reason: reason, Err: err, CheckOnly: checkOnly})
		return err
	}
	if host == "" {
		return nil, deny(requested, ReasonNoHost, true, netip.AddrPort{})
	}

	var (
		name  string
		addrs []netip.Addr
	)
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		name = strings.ToLower(strings.TrimSuffix(host, "."))
		if !d.allow.mayAllowName(name, portNum) {
			// No entry could allow any address of this name: refuse
			// without even asking DNS.
			return nil, deny(requested, ReasonNotAllowlisted, false, netip.AddrPort{})
		}
		if pinned != nil {
			addrs, err = pinned, nil
		} else {
			addrs, err = d.resolver.LookupNetIP(ctx, ipNetwork, name)
		}
		if err != nil {
			err = fmt.Errorf("egress: resolve %s: %w", host, err)
			d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Err: err, CheckOnly: checkOnly})
			return nil, err
		}
	}

	var (
		allowed   []netip.AddrPort
		firstDeny *DeniedError
	)
	for i, a := range addrs {
		a = a.Unmap()
		if (ipNetwork == "ip4" && !a.Is4()) || (ipNetwork == "ip6" && !a.Is6()) || !a.IsValid() {
			continue
		}
		if name != "" {
			a = a.WithZone("") // a zone from DNS is meaningless
		}
		if dup(addrs[:i], a) {
			continue
		}
		ap := netip.AddrPortFrom(a, portNum)
		reason, platform := d.verdict(name, a.WithZone(""), portNum)
		if reason == "" {
			allowed = append(allowed, ap)
			if checkOnly {
				d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Addr: ap, CheckOnly: true})
			}
			continue
		}
		if err := deny(ap.String(), reason, platform, ap); firstDeny == nil {
			firstDeny = err
		}
	}
	switch {
	case len(allowed) > 0:
		return allowed, nil
	case firstDeny != nil:
		return nil, firstDeny
	}
	err = fmt.Errorf("egress: resolve %s: no %s address", host, ipNetwork)
	d.emit(ctx, DialEvent{Network: network, Host: host, Port: port, Err: err, CheckOnly: checkOnly})
	return nil, err
}

// verdict decides one unmapped, zone-less address: an empty reason
// allows it. In order: a deny-list range marked "always" is refused; a
// protected address (loopback, the node's, Config.Protected) passes
// only when the grant names it; another deny-list address only when
// the grant covers it; and then the allowlist must allow it.
func (d *Dialer) verdict(name string, a netip.Addr, port uint16) (reason string, platform bool) {
	r, listed := denied(a)
	if listed && r.always {
		return "is " + r.what, true
	}
	p, prot, err := d.protection(a)
	switch {
	case err != nil:
		return "cannot be told apart from this node's own addresses (" + err.Error() + ")", true
	case prot && !d.grant.names(p.Prefix, a, port):
		if d.grant.private {
			return "is " + p.What + ", which the tenant's private networks do not name", true
		}
		return "is " + p.What, true
	case !prot && listed && !d.grant.covers(a, port):
		if d.grant.private {
			return "is " + r.what + ", outside the tenant's private networks", true
		}
		return "is " + r.what, true
	}
	if !d.allow.allows(name, a, port) {
		return ReasonNotAllowlisted, false
	}
	return "", false
}

func dup(seen []netip.Addr, a netip.Addr) bool {
	for _, s := range seen {
		if s.Unmap().WithZone("") == a.WithZone("") {
			return true
		}
	}
	return false
}
