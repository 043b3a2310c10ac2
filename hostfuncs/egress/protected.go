package egress

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Protected is an address range of the platform itself that tenants'
// connections must not reach unless their Grant names it (see Grant):
// the control-plane store, another service of the node.
type Protected struct {
	Prefix netip.Prefix
	// What completes "<addr> is ...", e.g. "the control-plane store's address".
	What string
}

// loopbackBlocks are protected unless Config.OwnMachine is set.
var loopbackBlocks = []Protected{
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (127.0.0.0/8)"},
	{netip.MustParsePrefix("::1/128"), "loopback (::1)"},
}

// nodeAddrWhat is the reason of an address of one of the node's interfaces.
const nodeAddrWhat = "an address of this node"

// ProtectHosts resolves host:port addresses of the platform's own
// services (the store's, from its URL) into single-address Protected
// ranges described by what. A host that is a literal address needs no
// resolver; r nil means net.DefaultResolver. Names resolve once: call
// it at startup.
func ProtectHosts(ctx context.Context, r Resolver, what string, hostports ...string) ([]Protected, error) {
	if r == nil {
		r = net.DefaultResolver
	}
	var out []Protected
	for _, hp := range hostports {
		host := hp
		if h, _, err := net.SplitHostPort(hp); err == nil {
			host = h
		}
		var addrs []netip.Addr
		if a, err := netip.ParseAddr(host); err == nil {
			addrs = []netip.Addr{a}
		} else {
			if addrs, err = r.LookupNetIP(ctx, "ip", host); err != nil {
				return nil, fmt.Errorf("egress: resolve %s: %w", host, err)
			}
		}
		for _, a := range addrs {
			a = a.Unmap().WithZone("")
			out = append(out, Protected{Prefix: netip.PrefixFrom(a, a.BitLen()), What: what})
		}
	}
	return out, nil
}

// nodeAddrsTTL is how long the node's interface addresses are reused
// before they are read again.
const nodeAddrsTTL = 10 * time.Second

// nodeAddrCache holds the node's interface addresses for every Dialer
// using the default Config.InterfaceAddrs.
var nodeAddrCache struct {
	mu    sync.Mutex
	at    time.Time
	addrs []netip.Addr
	err   error
}

// InterfaceAddrs returns the addresses of the node's network interfaces
// (net.InterfaceAddrs), unmapped and without zones, read again at most
// every ten seconds. It is the default of Config.InterfaceAddrs.
func InterfaceAddrs() ([]netip.Addr, error) {
	c := &nodeAddrCache
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < nodeAddrsTTL {
		return c.addrs, c.err
	}
	ifAddrs, err := net.InterfaceAddrs()
	c.at = time.Now()
	if err != nil {
		// Keep the last good answer; without one, fail closed.
		if c.addrs == nil {
			c.err = fmt.Errorf("egress: reading this node's addresses: %w", err)
		}
		return c.addrs, c.err
	}
	addrs := make([]netip.Addr, 0, len(ifAddrs))
	for _, ia := range ifAddrs {
		var ip net.IP
		switch v := ia.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a.Unmap().WithZone(""))
		}
	}
	c.addrs, c.err = addrs, nil
	return addrs, nil
}

// protection returns the most specific protected block holding a (the
// node's addresses and Config.Protected are single addresses, more
// specific than loopback). err is set when the node's addresses cannot
// be read: the caller refuses then.
func (d *Dialer) protection(a netip.Addr) (p Protected, ok bool, err error) {
	consider := func(c Protected) {
		if c.Prefix.Contains(a) && (!ok || c.Prefix.Bits() > p.Prefix.Bits()) {
			p, ok = c, true
		}
	}
	if !d.ownMachine {
		for _, c := range loopbackBlocks {
			consider(c)
		}
		addrs, aerr := d.interfaceAddrs()
		if aerr != nil {
			return Protected{}, false, aerr
		}
		for _, n := range addrs {
			n = n.Unmap().WithZone("")
			if n.IsLoopback() || n.IsUnspecified() || !n.IsValid() {
				continue // loopback is its own block (127.0.0.0/8, not /32)
			}
			consider(Protected{netip.PrefixFrom(n, n.BitLen()), nodeAddrWhat})
		}
	}
	for _, c := range d.protected {
		consider(c)
	}
	return p, ok, nil
}
