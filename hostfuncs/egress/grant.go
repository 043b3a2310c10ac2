package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// Grant is the private-network egress an operator granted one tenant:
// its allowPrivateNetworks and privateNetworks quotas. The zero Grant
// grants nothing: every deny-list range and every protected address
// (loopback, the node's own addresses, Config.Protected) is refused.
//
// A grant lets the tenant's connections reach the deny-list ranges not
// marked "always" (private, link-local, carrier-grade NAT, ...): all of
// them when it has no networks, else only the addresses inside one of
// its networks. Protected addresses are opened only by a network that
// names them: an entry lying inside the protected block the address
// belongs to (127.0.0.1/32, 127.0.0.0/8 or 127.0.0.1:5432 name loopback
// 127.0.0.1; 0.0.0.0/0 does not). A Grant is immutable and safe for
// concurrent use.
type Grant struct {
	private  bool
	networks []entry // address entries only; none: every range
}

// MaxGrantNetworks bounds the networks of one grant.
const MaxGrantNetworks = 256

// ParseGrant parses a tenant's grant: private is allowPrivateNetworks,
// networks its privateNetworks. Every network is validated (bad ones
// are reported joined, each an *EntryError) even when private is false,
// in which case the grant grants nothing.
//
// A network is an address or a network (CIDR), optionally with a port,
// in the allowlist's forms: 10.0.0.0/8, 10.1.2.3, 10.1.2.3:5432,
// 10.0.0.0/8:5432, fd00::/8, [fd00::1]:5432, 127.0.0.1/32. Host names
// are refused: a grant is about addresses, whatever a name resolves to.
func ParseGrant(private bool, networks []string) (Grant, error) {
	var (
		g    Grant
		errs []error
	)
	if len(networks) > MaxGrantNetworks {
		return Grant{}, &EntryError{Entry: fmt.Sprintf("(%d networks)", len(networks)), Reason: fmt.Sprintf("more than %d networks", MaxGrantNetworks), network: true}
	}
	for _, s := range networks {
		e, err := parseNetwork(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		g.networks = append(g.networks, e)
	}
	if len(errs) > 0 {
		return Grant{}, errors.Join(errs...)
	}
	if !private {
		return Grant{}, nil
	}
	g.private = true
	return g, nil
}

// ValidateNetwork reports whether s is a valid grant network (see
// ParseGrant); the error is an *EntryError naming it.
func ValidateNetwork(s string) error {
	_, err := parseNetwork(s)
	return err
}

func parseNetwork(s string) (entry, error) {
	e, err := parseEntry(s)
	if err != nil {
		var ee *EntryError
		if errors.As(err, &ee) {
			ee.network = true
		}
		return entry{}, err
	}
	if e.name != "" {
		return entry{}, &EntryError{Entry: s, network: true,
			Reason: "is a host name; give an address or a network (CIDR), optionally with :port"}
	}
	return e, nil
}

// Private reports whether the grant opens private networks at all.
func (g Grant) Private() bool { return g.private }

// String is the grant in a canonical form, equal for equal grants
// (whatever the order or spelling of the networks): "none", "private"
// (every range) or "private:" and the sorted networks. Pools of
// connections are keyed by it, so that no pool serves two grants.
func (g Grant) String() string {
	if !g.private {
		return "none"
	}
	if len(g.networks) == 0 {
		return "private"
	}
	parts := make([]string, len(g.networks))
	for i, e := range g.networks {
		parts[i] = e.String()
	}
	slices.Sort(parts)
	return "private:" + strings.Join(slices.Compact(parts), ",")
}

// covers reports whether the grant lets a deny-list address a (not
// protected, not "always") through on port.
func (g Grant) covers(a netip.Addr, port uint16) bool {
	if !g.private {
		return false
	}
	if len(g.networks) == 0 {
		return true
	}
	for _, e := range g.networks {
		if (e.port == 0 || e.port == port) && e.prefix.Contains(a) {
			return true
		}
	}
	return false
}

// names reports whether one of the grant's networks names the
// protected address a (inside block) on port: it contains a and lies
// inside block.
func (g Grant) names(block netip.Prefix, a netip.Addr, port uint16) bool {
	if !g.private {
		return false
	}
	for _, e := range g.networks {
		if (e.port == 0 || e.port == port) && e.prefix.Contains(a) &&
			e.prefix.Bits() >= block.Bits() && block.Contains(e.prefix.Addr()) {
			return true
		}
	}
	return false
}

// String is the entry in canonical form (an address entry as a prefix).
func (e entry) String() string {
	var host string
	switch {
	case e.name != "" && e.wildcard:
		host = "*." + e.name
	case e.name != "":
		host = e.name
	case e.prefix.IsSingleIP():
		host = e.prefix.Addr().String()
	default:
		host = e.prefix.String()
	}
	if e.port == 0 {
		return host
	}
	if e.name == "" && e.prefix.Addr().Is6() {
		host = "[" + host + "]"
	}
	return host + ":" + strconv.Itoa(int(e.port))
}
