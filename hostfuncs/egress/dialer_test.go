package egress_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

// errNoPackets is what the test Control hook returns for any connect to
// a non-loopback address: the socket is refused before connect(2), so
// the tests never send a packet off this machine.
var errNoPackets = errors.New("test: connect to non-loopback address refused before sending")

// connects records the addresses the dialer actually connected (or
// tried to) and aborts every non-loopback one.
type connects struct {
	mu        sync.Mutex
	addrs     []string
	refuseAll bool // refuse loopback connects too
}

func (c *connects) control(_, address string, _ syscall.RawConn) error {
	c.mu.Lock()
	c.addrs = append(c.addrs, address)
	refuseAll := c.refuseAll
	c.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil || !ap.Addr().IsLoopback() || refuseAll {
		return errNoPackets
	}
	return nil
}

func (c *connects) list() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.addrs)
}

// fakeResolver answers from a script: for each name, the successive
// answers (the last one repeats).
type fakeResolver struct {
	mu      sync.Mutex
	answers map[string][][]netip.Addr
	calls   map[string]int
}

var errNoSuchHost = errors.New("test: no such host")

func newResolver(answers map[string][]string) *fakeResolver {
	r := &fakeResolver{answers: map[string][][]netip.Addr{}, calls: map[string]int{}}
	for name, addrs := range answers {
		r.script(name, addrs)
	}
	return r
}

// script appends one answer for name.
func (r *fakeResolver) script(name string, addrs []string) {
	var ans []netip.Addr
	for _, a := range addrs {
		ans = append(ans, netip.MustParseAddr(a))
	}
	r.answers[name] = append(r.answers[name], ans)
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.calls[host]
	r.calls[host]++
	ans, ok := r.answers[host]
	if !ok {
		return nil, errNoSuchHost
	}
	return ans[min(n, len(ans)-1)], nil
}

func (r *fakeResolver) callsFor(host string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[host]
}

type fixture struct {
	d        *egress.Dialer
	connects *connects
	resolver *fakeResolver
	mu       sync.Mutex
	events   []egress.DialEvent
}

// nodeAddrs are the test node's interface addresses (Config.InterfaceAddrs):
// loopback, a private and a public one, and IPv6 ones.
var nodeAddrs = []string{"127.0.0.1", "::1", "10.9.9.9", "198.51.100.99", "2001:db8::99", "fe80::99"}

func fakeInterfaceAddrs() ([]netip.Addr, error) {
	var out []netip.Addr
	for _, a := range nodeAddrs {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

// grant parses a grant for a test.
func grant(t *testing.T, private bool, networks ...string) egress.Grant {
	t.Helper()
	g, err := egress.ParseGrant(private, networks)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// noGrant is a tenant without private networks; grantAll one with every
// private range (and no protected address).
var (
	noGrant  = egress.Grant{}
	grantAll = func() egress.Grant { g, _ := egress.ParseGrant(true, nil); return g }()
)

func newFixture(t *testing.T, g egress.Grant, resolver *fakeResolver, entries ...string) *fixture {
	t.Helper()
	return newFixtureConfig(t, egress.Config{}, g, resolver, entries...)
}

// newFixtureConfig is newFixture with more of the platform's Config
// (Protected, OwnMachine); Resolver, Control and InterfaceAddrs are the
// test's.
func newFixtureConfig(t *testing.T, cfg egress.Config, g egress.Grant, resolver *fakeResolver, entries ...string) *fixture {
	t.Helper()
	allow, err := egress.ParseAllowlist(entries)
	if err != nil {
		t.Fatal(err)
	}
	if resolver == nil {
		resolver = newResolver(nil)
	}
	f := &fixture{connects: &connects{}, resolver: resolver}
	cfg.Resolver = resolver
	cfg.Control = f.connects.control
	if cfg.InterfaceAddrs == nil {
		cfg.InterfaceAddrs = fakeInterfaceAddrs
	}
	f.d = egress.NewDialer(cfg, g, allow, func(ev egress.DialEvent) {
		f.mu.Lock()
		f.events = append(f.events, ev)
		f.mu.Unlock()
	})
	return f
}

func (f *fixture) dial(t *testing.T, addr string) error {
	t.Helper()
	c, err := f.d.DialContext(t.Context(), "tcp", addr)
	if err == nil {
		c.Close()
	}
	return err
}

// wantDenied checks err is a *DeniedError whose reason contains reason,
// and that nothing was connected.
func (f *fixture) wantDenied(t *testing.T, err error, reason string, platform bool) *egress.DeniedError {
	t.Helper()
	var de *egress.DeniedError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DeniedError", err)
	}
	if !strings.Contains(de.Reason, reason) {
		t.Errorf("Reason = %q, want it to contain %q", de.Reason, reason)
	}
	if de.Platform != platform {
		t.Errorf("Platform = %v, want %v", de.Platform, platform)
	}
	if got := f.connects.list(); len(got) > 0 {
		t.Errorf("connect attempted to %v for a denied dial", got)
	}
	return de
}

// wantPassed checks the gate let the dial through to exactly addr (the
// test Control hook then refused it, so nothing was sent).
func (f *fixture) wantPassed(t *testing.T, err error, addr string) {
	t.Helper()
	if !errors.Is(err, errNoPackets) {
		t.Fatalf("err = %v, want the gate to pass and the test hook to refuse", err)
	}
	if got := f.connects.list(); !slices.Equal(got, []string{addr}) {
		t.Errorf("connected to %v, want exactly [%s]", got, addr)
	}
}

func TestDenyListRefusedByDefault(t *testing.T) {
	tests := []struct {
		addr, reason, wantAddr string
	}{
		{"127.0.0.1:5432", "is loopback (127.0.0.0/8)", ""},
		{"127.255.0.9:5432", "is loopback", ""},
		{"10.0.0.1:5432", "is private (10.0.0.0/8)", ""},
		{"172.16.0.1:3306", "is private (172.16.0.0/12)", ""},
		{"192.168.1.1:3306", "is private (192.168.0.0/16)", ""},
		{"169.254.169.254:80", "is link-local (cloud metadata)", ""},
		{"169.254.1.1:80", "is link-local (169.254.0.0/16)", ""},
		{"100.64.0.1:5432", "carrier-grade NAT", ""},
		{"0.0.0.0:5432", "unspecified", ""},
		{"224.0.0.1:5432", "multicast", ""},
		{"255.255.255.255:80", "broadcast", ""},
		{"240.0.0.1:80", "reserved", ""},
		{"198.18.0.1:80", "benchmarking", ""},
		{"192.0.0.1:80", "IETF protocol assignments", ""},
		{"[::1]:5432", "is loopback (::1)", ""},
		{"[::]:5432", "unspecified", ""},
		{"[::ffff:127.0.0.1]:5432", "is loopback (127.0.0.0/8)", "127.0.0.1:5432"},
		{"[::ffff:169.254.169.254]:80", "cloud metadata", "169.254.169.254:80"},
		{"[fd00::1]:5432", "unique-local (fc00::/7)", ""},
		{"[fd00:ec2::254]:80", "unique-local (cloud metadata)", ""},
		{"[fe80::1%lo]:5432", "link-local (fe80::/10)", ""},
		{"[fec0::1]:5432", "site-local", ""},
		{"[ff02::1]:5432", "multicast", ""},
		{"[64:ff9b::a00:1]:5432", "NAT64 (64:ff9b::/96)", ""},
		{"[64:ff9b:1::1]:5432", "local-use NAT64", ""},
		{"[2002:a00:1::1]:5432", "6to4 (2002::/16)", ""},
		{"[2001::1]:5432", "Teredo", ""},
		{"[2001:2::1]:5432", "benchmarking", ""},
		{"[100::1]:5432", "discard-only", ""},
		{"[::7f00:1]:5432", "IPv4-compatible", ""},
		{"[::ffff:0:a00:1]:5432", "IPv4-translated", ""},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			// The tenant allowlists everything: the deny list still wins.
			f := newFixture(t, noGrant, nil, "0.0.0.0/0", "::/0")
			de := f.wantDenied(t, f.dial(t, tc.addr), tc.reason, true)
			if tc.wantAddr != "" && de.Addr != tc.wantAddr {
				t.Errorf("Addr = %q, want %q (unmapped)", de.Addr, tc.wantAddr)
			}
		})
	}
}

func TestDeniedErrorMessage(t *testing.T) {
	f := newFixture(t, noGrant, nil, "0.0.0.0/0")
	err := f.dial(t, "169.254.169.254:80")
	if got, want := err.Error(), "egress denied: 169.254.169.254:80 is link-local (cloud metadata)"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestDocumentationRangesNotDenied(t *testing.T) {
	for _, addr := range []string{"192.0.2.1:80", "198.51.100.1:80", "203.0.113.1:80", "[2001:db8::1]:80", "[3fff::1]:80"} {
		t.Run(addr, func(t *testing.T) {
			f := newFixture(t, noGrant, nil, "0.0.0.0/0", "::/0")
			f.wantPassed(t, f.dial(t, addr), addr)
		})
	}
}

// TestGrantPrivate connects for real to a loopback listener: only a
// grant naming loopback opens it.
func TestGrantPrivate(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	local := ln.Addr().String()

	t.Run("loopback named by the grant connects", func(t *testing.T) {
		f := newFixture(t, grant(t, true, "127.0.0.1/32"), nil, "127.0.0.1")
		if err := f.dial(t, local); err != nil {
			t.Fatalf("dial %s: %v", local, err)
		}
		if got := f.connects.list(); !slices.Equal(got, []string{local}) {
			t.Errorf("connected to %v, want [%s]", got, local)
		}
	})
	t.Run("loopback refused without a grant", func(t *testing.T) {
		f := newFixture(t, noGrant, nil, "127.0.0.1")
		f.wantDenied(t, f.dial(t, local), "is loopback", true)
	})
	t.Run("loopback refused to a grant of every private range", func(t *testing.T) {
		f := newFixture(t, grantAll, nil, "127.0.0.1")
		f.wantDenied(t, f.dial(t, local), "is loopback (127.0.0.0/8), which the tenant's private networks do not name", true)
	})
	t.Run("allowlisted private passes the gate", func(t *testing.T) {
		f := newFixture(t, grantAll, nil, "10.0.0.0/8")
		f.wantPassed(t, f.dial(t, "10.1.2.3:5432"), "10.1.2.3:5432")
	})
	t.Run("private but not allowlisted", func(t *testing.T) {
		f := newFixture(t, grantAll, nil, "127.0.0.1")
		f.wantDenied(t, f.dial(t, "10.1.2.3:5432"), egress.ReasonNotAllowlisted, false)
	})
	always := []struct{ entry, addr, reason string }{
		{"169.254.169.254", "169.254.169.254:80", "cloud metadata"},
		{"fd00:ec2::254", "[fd00:ec2::254]:80", "cloud metadata"},
		{"100.100.100.200", "100.100.100.200:80", "cloud metadata"},
		{"0.0.0.0/0", "0.0.0.0:5432", "unspecified"},
		{"::/0", "[::]:5432", "unspecified"},
		{"224.0.0.0/4", "224.0.0.1:5432", "multicast"},
		{"255.255.255.255", "255.255.255.255:80", "broadcast"},
	}
	for _, tc := range always {
		t.Run("always denied "+tc.addr, func(t *testing.T) {
			// Even a grant naming the very address does not open it.
			f := newFixture(t, grant(t, true, tc.entry), nil, tc.entry)
			f.wantDenied(t, f.dial(t, tc.addr), tc.reason, true)
		})
	}
}

// TestGrants decides addresses for tenants with and without grants:
// loopback, the node's own addresses and the store's stay closed unless
// a grant's network names them; CIDR-limited grants; IPv6; host names
// resolving to protected addresses. Nothing is connected: the test hook
// refuses every connect the gate let through.
func TestGrants(t *testing.T) {
	store := []egress.Protected{{Prefix: netip.MustParsePrefix("10.5.0.7/32"), What: "the control-plane store's address"}}
	storeOnLoopback := []egress.Protected{{Prefix: netip.MustParsePrefix("127.0.0.1/32"), What: "the control-plane store's address"}}
	answers := map[string][]string{
		"loop.example.com":  {"127.0.0.1"},
		"loop6.example.com": {"::1"},
		"node.example.com":  {"10.9.9.9", "10.1.1.1"},
		"store.example.com": {"10.5.0.7"},
		"db.example.com":    {"10.1.2.3"},
	}
	all := []string{"0.0.0.0/0", "::/0"}
	const (
		loop   = "is loopback (127.0.0.0/8)"
		loop6  = "is loopback (::1)"
		unname = ", which the tenant's private networks do not name"
		node   = "is an address of this node"
		st     = "is the control-plane store's address"
	)
	tests := []struct {
		name      string
		private   bool
		networks  []string
		protected []egress.Protected
		own       bool
		allow     []string
		addr      string
		dialed    string // the first address connected to; "" when denied
		reason    string // when denied
	}{
		// Loopback.
		{"loopback, no grant", false, nil, nil, false, all, "127.0.0.1:5432", "", loop},
		{"loopback, networks without a grant", false, []string{"127.0.0.1/32"}, nil, false, all, "127.0.0.1:5432", "", loop},
		{"loopback, grant of every range", true, nil, nil, false, all, "127.0.0.1:5432", "", loop + unname},
		{"loopback, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, nil, false, all, "127.0.0.1:5432", "", loop + unname},
		{"loopback, grant 0.0.0.0/0", true, []string{"0.0.0.0/0"}, nil, false, all, "127.0.0.1:5432", "", loop + unname},
		{"loopback, grant 127.0.0.1/32", true, []string{"127.0.0.1/32"}, nil, false, all, "127.0.0.1:5432", "127.0.0.1:5432", ""},
		{"loopback, grant 127.0.0.1", true, []string{"127.0.0.1"}, nil, false, []string{"127.0.0.1:5432"}, "127.0.0.1:5432", "127.0.0.1:5432", ""},
		{"loopback, grant 127.0.0.0/8", true, []string{"127.0.0.0/8"}, nil, false, all, "127.0.0.2:5432", "127.0.0.2:5432", ""},
		{"loopback, grant 127.0.0.1/32 other address", true, []string{"127.0.0.1/32"}, nil, false, all, "127.0.0.2:5432", "", loop + unname},
		{"loopback, grant with the port", true, []string{"127.0.0.1:5432"}, nil, false, all, "127.0.0.1:5432", "127.0.0.1:5432", ""},
		{"loopback, grant with another port", true, []string{"127.0.0.1:5432"}, nil, false, all, "127.0.0.1:5433", "", loop + unname},
		{"loopback named, not allowlisted", true, []string{"127.0.0.1/32"}, nil, false, []string{"203.0.113.0/24"}, "127.0.0.1:5432", "", egress.ReasonNotAllowlisted},
		{"mapped loopback, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, nil, false, all, "[::ffff:127.0.0.1]:5432", "", loop + unname},
		{"mapped loopback, mapped grant", true, []string{"::ffff:127.0.0.1"}, nil, false, all, "[::ffff:127.0.0.1]:5432", "127.0.0.1:5432", ""},

		// IPv6.
		{"ipv6 loopback, no grant", false, nil, nil, false, all, "[::1]:5432", "", loop6},
		{"ipv6 loopback, grant ::/0", true, []string{"::/0"}, nil, false, all, "[::1]:5432", "", loop6 + unname},
		{"ipv6 loopback, grant of IPv4 loopback", true, []string{"127.0.0.0/8"}, nil, false, all, "[::1]:5432", "", loop6 + unname},
		{"ipv6 loopback, grant ::1", true, []string{"::1"}, nil, false, all, "[::1]:5432", "[::1]:5432", ""},
		{"ipv6 loopback, grant [::1]:5432", true, []string{"[::1]:5432"}, nil, false, all, "[::1]:5432", "[::1]:5432", ""},
		{"ipv6 unique-local, grant fd00::/8", true, []string{"fd00::/8"}, nil, false, all, "[fd00::5]:5432", "[fd00::5]:5432", ""},
		{"ipv6 unique-local outside the grant", true, []string{"fd00::/8"}, nil, false, all, "[fc00::5]:5432", "", "is unique-local (fc00::/7), outside the tenant's private networks"},
		{"ipv6 node address, grant 2001:db8::/32", true, []string{"2001:db8::/32"}, nil, false, all, "[2001:db8::99]:5432", "", node + unname},
		{"ipv6 node link-local, grant fe80::/10", true, []string{"fe80::/10"}, nil, false, all, "[fe80::99]:5432", "", node + unname},
		{"ipv6 other link-local, grant fe80::/10", true, []string{"fe80::/10"}, nil, false, all, "[fe80::98]:5432", "[fe80::98]:5432", ""},

		// CIDR-limited grants.
		{"private inside the grant", true, []string{"10.0.0.0/8"}, nil, false, all, "10.1.2.3:5432", "10.1.2.3:5432", ""},
		{"private outside the grant", true, []string{"10.0.0.0/8"}, nil, false, all, "192.168.1.1:5432", "", "is private (192.168.0.0/16), outside the tenant's private networks"},
		{"private, grant port right", true, []string{"10.0.0.0/8:5432"}, nil, false, all, "10.1.2.3:5432", "10.1.2.3:5432", ""},
		{"private, grant port wrong", true, []string{"10.0.0.0/8:5432"}, nil, false, all, "10.1.2.3:5433", "", "outside the tenant's private networks"},
		{"private, grant of every range", true, nil, nil, false, all, "192.168.1.1:5432", "192.168.1.1:5432", ""},
		{"private, no grant", false, nil, nil, false, all, "192.168.1.1:5432", "", "is private (192.168.0.0/16)"},
		{"private, grant but not allowlisted", true, nil, nil, false, []string{"10.0.0.0/8"}, "192.168.1.1:5432", "", egress.ReasonNotAllowlisted},
		{"public needs no grant", false, nil, nil, false, []string{"203.0.113.7"}, "203.0.113.7:5432", "203.0.113.7:5432", ""},
		{"public ignores the grant's networks", true, []string{"10.0.0.0/8"}, nil, false, []string{"203.0.113.7"}, "203.0.113.7:5432", "203.0.113.7:5432", ""},

		// The node's own addresses, private and public.
		{"node address, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, nil, false, all, "10.9.9.9:5432", "", node + unname},
		{"node address, grant of every range", true, nil, nil, false, all, "10.9.9.9:5432", "", node + unname},
		{"node address, grant naming it", true, []string{"10.9.9.9/32"}, nil, false, all, "10.9.9.9:5432", "10.9.9.9:5432", ""},
		{"public node address, no grant", false, nil, nil, false, all, "198.51.100.99:443", "", node},
		{"public node address, grant naming it", true, []string{"198.51.100.99"}, nil, false, all, "198.51.100.99:443", "198.51.100.99:443", ""},

		// The control-plane store.
		{"store, grant of every range", true, nil, store, false, all, "10.5.0.7:5432", "", st + unname},
		{"store, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, store, false, all, "10.5.0.7:5432", "", st + unname},
		{"store, grant naming it", true, []string{"10.5.0.7:5432"}, store, false, all, "10.5.0.7:5432", "10.5.0.7:5432", ""},
		{"beside the store, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, store, false, all, "10.5.0.8:5432", "10.5.0.8:5432", ""},
		{"store on loopback, grant 127.0.0.0/8", true, []string{"127.0.0.0/8"}, storeOnLoopback, false, all, "127.0.0.1:5432", "", st + unname},
		{"store on loopback, grant 127.0.0.1/32", true, []string{"127.0.0.1/32"}, storeOnLoopback, false, all, "127.0.0.1:5432", "127.0.0.1:5432", ""},
		{"beside the store on loopback, grant 127.0.0.0/8", true, []string{"127.0.0.0/8"}, storeOnLoopback, false, all, "127.0.0.2:5432", "127.0.0.2:5432", ""},
		{"store, own machine", true, nil, store, true, all, "10.5.0.7:5432", "", st + unname},

		// Host names resolving to protected addresses.
		{"name to loopback, no grant", false, nil, nil, false, []string{"loop.example.com"}, "loop.example.com:5432", "", loop},
		{"name to loopback, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, nil, false, []string{"loop.example.com"}, "loop.example.com:5432", "", loop + unname},
		{"name to loopback, grant of every range", true, nil, nil, false, []string{"*.example.com"}, "loop.example.com:5432", "", loop + unname},
		{"name to loopback, grant naming it", true, []string{"127.0.0.1/32"}, nil, false, []string{"loop.example.com"}, "loop.example.com:5432", "127.0.0.1:5432", ""},
		{"name to ipv6 loopback, grant 127.0.0.0/8", true, []string{"127.0.0.0/8"}, nil, false, []string{"loop6.example.com"}, "loop6.example.com:5432", "", loop6 + unname},
		{"name to node and other, grant 10.0.0.0/8", true, []string{"10.0.0.0/8"}, nil, false, []string{"node.example.com"}, "node.example.com:5432", "10.1.1.1:5432", ""},
		{"name to the store", true, nil, store, false, []string{"store.example.com"}, "store.example.com:5432", "", st + unname},
		{"name to private, grant", true, []string{"10.1.0.0/16"}, nil, false, []string{"db.example.com:5432"}, "db.example.com:5432", "10.1.2.3:5432", ""},

		// A developer's own machine (sluice call --allow-private).
		{"own machine: loopback, grant", true, nil, nil, true, all, "127.0.0.1:5432", "127.0.0.1:5432", ""},
		{"own machine: loopback, no grant", false, nil, nil, true, all, "127.0.0.1:5432", "", loop},
		{"own machine: its address, grant", true, nil, nil, true, all, "10.9.9.9:5432", "10.9.9.9:5432", ""},
		{"own machine: public address", false, nil, nil, true, all, "198.51.100.99:443", "198.51.100.99:443", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := egress.Config{Protected: tc.protected, OwnMachine: tc.own}
			f := newFixtureConfig(t, cfg, grant(t, tc.private, tc.networks...), newResolver(answers), tc.allow...)
			f.connects.refuseAll = true
			err := f.dial(t, tc.addr)
			if tc.dialed == "" {
				f.wantDenied(t, err, tc.reason, tc.reason != egress.ReasonNotAllowlisted)
				return
			}
			if !errors.Is(err, errNoPackets) {
				t.Fatalf("err = %v, want the gate to pass", err)
			}
			if got := f.connects.list(); len(got) == 0 || got[0] != tc.dialed {
				t.Errorf("connected to %v, want first %s", got, tc.dialed)
			}
		})
	}
}

func TestGrantNodeAddrsUnreadable(t *testing.T) {
	cfg := egress.Config{InterfaceAddrs: func() ([]netip.Addr, error) { return nil, errors.New("no netlink") }}
	f := newFixtureConfig(t, cfg, grantAll, nil, "0.0.0.0/0")
	f.wantDenied(t, f.dial(t, "203.0.113.7:443"), "cannot be told apart from this node's own addresses", true)
}

func TestParseGrant(t *testing.T) {
	bad := []struct{ entry, reason string }{
		{"db.internal", "is a host name"},
		{"db.internal:5432", "is a host name"},
		{"*.db.internal", "is a host name"},
		{"10.0.0.1/8", "host bits are set"},
		{"10.0.0.0/33", "not a valid network"},
		{"10.0.0.1:0", "port"},
		{"", "empty"},
		{"postgres://10.0.0.1", "looks like a URL"},
	}
	for _, tc := range bad {
		_, err := egress.ParseGrant(true, []string{"10.0.0.0/8", tc.entry})
		var ee *egress.EntryError
		if !errors.As(err, &ee) || ee.Entry != tc.entry || !strings.Contains(ee.Reason, tc.reason) {
			t.Errorf("ParseGrant(%q) = %v, want an *EntryError with %q", tc.entry, err, tc.reason)
		} else if !strings.HasPrefix(err.Error(), "invalid private network ") {
			t.Errorf("Error() = %q", err)
		}
		if err := egress.ValidateNetwork(tc.entry); err == nil {
			t.Errorf("ValidateNetwork(%q) = nil", tc.entry)
		}
		// Bad networks are refused even without allowPrivateNetworks.
		if _, err := egress.ParseGrant(false, []string{tc.entry}); err == nil {
			t.Errorf("ParseGrant(false, %q) = nil error", tc.entry)
		}
	}
	if _, err := egress.ParseGrant(true, make([]string, egress.MaxGrantNetworks+1)); err == nil {
		t.Error("ParseGrant accepted too many networks")
	}

	keys := []struct {
		private  bool
		networks []string
		want     string
	}{
		{false, nil, "none"},
		{false, []string{"10.0.0.0/8"}, "none"},
		{true, nil, "private"},
		{true, []string{"10.0.0.0/8", "127.0.0.1", "[::1]:5432", "10.0.0.0/8", "::ffff:192.168.0.0/112"},
			"private:10.0.0.0/8,127.0.0.1,192.168.0.0/16,[::1]:5432"},
		{true, []string{"127.0.0.1/32:5432", "fd00::/8"}, "private:127.0.0.1:5432,fd00::/8"},
	}
	for _, k := range keys {
		g, err := egress.ParseGrant(k.private, k.networks)
		if err != nil {
			t.Fatal(err)
		}
		if g.String() != k.want || g.Private() != k.private {
			t.Errorf("ParseGrant(%v, %v) = %q (private %v), want %q", k.private, k.networks, g.String(), g.Private(), k.want)
		}
	}
}

func TestProtectHosts(t *testing.T) {
	r := newResolver(map[string][]string{"store.internal": {"10.5.0.7", "::ffff:10.5.0.8", "fd00::7"}})
	got, err := egress.ProtectHosts(t.Context(), r, "the store", "store.internal:5432", "127.0.0.1:5433", "[::1]:5432", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range got {
		if p.What != "the store" {
			t.Errorf("What = %q", p.What)
		}
		prefixes = append(prefixes, p.Prefix.String())
	}
	want := []string{"10.5.0.7/32", "10.5.0.8/32", "fd00::7/128", "127.0.0.1/32", "::1/128", "192.0.2.1/32"}
	if !slices.Equal(prefixes, want) {
		t.Errorf("ProtectHosts = %v, want %v", prefixes, want)
	}
	if _, err := egress.ProtectHosts(t.Context(), r, "the store", "nx.internal:5432"); !errors.Is(err, errNoSuchHost) {
		t.Errorf("unknown host: err = %v", err)
	}
}

func TestInterfaceAddrs(t *testing.T) {
	addrs, err := egress.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(addrs, netip.MustParseAddr("127.0.0.1")) {
		t.Errorf("InterfaceAddrs() = %v, want it to hold 127.0.0.1", addrs)
	}
}

func TestAllowlistMatching(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		addr    string
		pass    bool
	}{
		{"not allowlisted public", []string{"198.51.100.0/24"}, "203.0.113.7:5432", false},
		{"empty allowlist", nil, "203.0.113.7:5432", false},
		{"network", []string{"203.0.113.0/24"}, "203.0.113.7:5432", true},
		{"single address", []string{"203.0.113.7"}, "203.0.113.7:1", true},
		{"single address other", []string{"203.0.113.7"}, "203.0.113.8:5432", false},
		{"port entry right port", []string{"203.0.113.7:5432"}, "203.0.113.7:5432", true},
		{"port entry wrong port", []string{"203.0.113.7:5432"}, "203.0.113.7:5433", false},
		{"network port right port", []string{"203.0.113.0/24:5432"}, "203.0.113.9:5432", true},
		{"network port wrong port", []string{"203.0.113.0/24:5432"}, "203.0.113.9:5433", false},
		{"ipv6 port right port", []string{"[2001:db8::1]:5432"}, "[2001:db8::1]:5432", true},
		{"ipv6 port wrong port", []string{"[2001:db8::1]:5432"}, "[2001:db8::1]:5433", false},
		{"ipv6 other address", []string{"[2001:db8::1]:5432"}, "[2001:db8::2]:5432", false},
		{"ipv6 network", []string{"2001:db8::/32"}, "[2001:db8:1::5]:443", true},
		{"mapped entry", []string{"::ffff:203.0.113.7"}, "203.0.113.7:80", true},
		{"mapped request", []string{"203.0.113.7"}, "[::ffff:203.0.113.7]:80", true},
		{"name entry does not match literal", []string{"db.example.com"}, "203.0.113.7:5432", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, noGrant, nil, tc.entries...)
			err := f.dial(t, tc.addr)
			if tc.pass {
				ap := netip.MustParseAddrPort(tc.addr)
				f.wantPassed(t, err, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String())
				return
			}
			de := f.wantDenied(t, err, egress.ReasonNotAllowlisted, false)
			if want := "egress denied: " + de.Addr + " is not in the connection's allowlist"; err.Error() != want {
				t.Errorf("Error() = %q, want %q", err, want)
			}
		})
	}
}

func TestHostNames(t *testing.T) {
	answers := map[string][]string{
		"db.example.com":      {"203.0.113.7"},
		"a.b.example.com":     {"203.0.113.8"},
		"private.example.com": {"10.0.0.5"},
		"meta.example.com":    {"169.254.169.254"},
		"mixed.example.com":   {"10.0.0.5", "203.0.113.9", "203.0.113.10"},
		"mapped.example.com":  {"::ffff:10.0.0.5"},
		"other.example.net":   {"203.0.113.11"},
		"v6.example.com":      {"2001:db8::7"},
	}
	tests := []struct {
		name    string
		entries []string
		addr    string
		dialed  string // the address connected to; "" when denied
		reason  string // when denied
		lookups int    // resolver calls for the host
	}{
		{"name entry", []string{"db.example.com"}, "db.example.com:5432", "203.0.113.7:5432", "", 1},
		{"case and trailing dot", []string{"DB.example.com."}, "Db.Example.COM.:5432", "203.0.113.7:5432", "", 1},
		{"name port right", []string{"db.example.com:5432"}, "db.example.com:5432", "203.0.113.7:5432", "", 1},
		{"name port wrong: no lookup", []string{"db.example.com:5432"}, "db.example.com:5433", "", egress.ReasonNotAllowlisted, 0},
		{"unknown name: no lookup", []string{"db.example.com"}, "other.example.net:5432", "", egress.ReasonNotAllowlisted, 0},
		{"ip entry allows a resolved name", []string{"203.0.113.0/24"}, "other.example.net:5432", "203.0.113.11:5432", "", 1},
		{"name resolves outside ip entry", []string{"198.51.100.0/24"}, "other.example.net:5432", "", egress.ReasonNotAllowlisted, 1},
		{"wildcard", []string{"*.example.com"}, "a.b.example.com:5432", "203.0.113.8:5432", "", 1},
		{"wildcard excludes apex", []string{"*.example.com"}, "example.com:5432", "", egress.ReasonNotAllowlisted, 0},
		{"wildcard excludes lookalike", []string{"*.example.com"}, "dbexample.com:5432", "", egress.ReasonNotAllowlisted, 0},
		{"resolves to private", []string{"private.example.com"}, "private.example.com:5432", "", "is private (10.0.0.0/8)", 1},
		{"resolves to metadata", []string{"*.example.com"}, "meta.example.com:80", "", "cloud metadata", 1},
		{"resolves to mapped private", []string{"mapped.example.com"}, "mapped.example.com:5432", "", "is private", 1},
		{"mixed: only allowed dialed", []string{"mixed.example.com"}, "mixed.example.com:5432", "203.0.113.9:5432", "", 1},
		{"ipv6 answer", []string{"v6.example.com"}, "v6.example.com:5432", "[2001:db8::7]:5432", "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, noGrant, newResolver(answers), tc.entries...)
			err := f.dial(t, tc.addr)
			host, _, _ := net.SplitHostPort(tc.addr)
			key := strings.ToLower(strings.TrimSuffix(host, "."))
			if got := f.resolver.callsFor(key); got != tc.lookups {
				t.Errorf("resolver called %d times for %s, want %d", got, key, tc.lookups)
			}
			if tc.dialed == "" {
				de := f.wantDenied(t, err, tc.reason, tc.reason != egress.ReasonNotAllowlisted)
				if de.Host != host {
					t.Errorf("Host = %q, want %q", de.Host, host)
				}
				if tc.lookups > 0 && !strings.Contains(err.Error(), "("+host+")") {
					t.Errorf("Error() = %q does not name the host", err)
				}
				return
			}
			// The gate passed: the dialer tries the allowed addresses in
			// order (the test hook refuses each, so all are tried).
			if !errors.Is(err, errNoPackets) {
				t.Fatalf("err = %v, want the gate to pass", err)
			}
			if got := f.connects.list(); len(got) == 0 || got[0] != tc.dialed {
				t.Errorf("connected to %v, want first %s", got, tc.dialed)
			}
			for _, a := range f.connects.list() {
				if strings.HasPrefix(a, "10.") {
					t.Errorf("connected to denied address %s", a)
				}
			}
		})
	}
}

func TestMixedAnswerEvents(t *testing.T) {
	f := newFixture(t, noGrant, newResolver(map[string][]string{"mixed.example.com": {"10.0.0.5", "203.0.113.9"}}), "mixed.example.com")
	f.wantPassed(t, f.dial(t, "mixed.example.com:5432"), "203.0.113.9:5432")
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 2 {
		t.Fatalf("events = %+v, want 2", f.events)
	}
	if ev := f.events[0]; !ev.Denied || ev.Addr.String() != "10.0.0.5:5432" || !strings.Contains(ev.Reason, "private") || ev.Host != "mixed.example.com" {
		t.Errorf("first event = %+v, want the denied 10.0.0.5:5432", ev)
	}
	if ev := f.events[1]; ev.Denied || ev.Addr.String() != "203.0.113.9:5432" || !errors.Is(ev.Err, errNoPackets) {
		t.Errorf("second event = %+v, want the attempted 203.0.113.9:5432", ev)
	}
}

// TestRebinding: a name first resolves to an allowlisted public address,
// then to 127.0.0.1. Each dial resolves once and connects only to what
// it checked; the loopback answer is refused, never connected.
func TestRebinding(t *testing.T) {
	r := newResolver(nil)
	r.script("rebind.example.com", []string{"203.0.113.7"})
	r.script("rebind.example.com", []string{"127.0.0.1"})
	f := newFixture(t, noGrant, r, "rebind.example.com:5432")

	err := f.dial(t, "rebind.example.com:5432")
	f.wantPassed(t, err, "203.0.113.7:5432")
	if n := r.callsFor("rebind.example.com"); n != 1 {
		t.Fatalf("first dial resolved %d times, want 1", n)
	}

	err = f.dial(t, "rebind.example.com:5432")
	var de *egress.DeniedError
	if !errors.As(err, &de) || de.Addr != "127.0.0.1:5432" || !strings.Contains(de.Reason, "loopback") {
		t.Fatalf("second dial: err = %v, want loopback refusal of 127.0.0.1:5432", err)
	}
	if n := r.callsFor("rebind.example.com"); n != 2 {
		t.Errorf("two dials resolved %d times, want 2", n)
	}
	if got := f.connects.list(); !slices.Equal(got, []string{"203.0.113.7:5432"}) {
		t.Errorf("connected to %v, want only the checked 203.0.113.7:5432", got)
	}
}

func TestNetworkHostAndPort(t *testing.T) {
	f := newFixture(t, grantAll, newResolver(map[string][]string{"db.example.com": {"203.0.113.7"}}), "0.0.0.0/0", "::/0", "db.example.com")
	ctx := t.Context()
	tests := []struct {
		name, network, addr string
		denied              string // reason, or "" for a plain error
		contains            string
	}{
		{"unix socket", "unix", "/var/run/postgresql/.s.PGSQL.5432", egress.ReasonUnixSocket, ""},
		{"unix network", "unix", "/tmp/sock:0", egress.ReasonUnixSocket, ""},
		{"unixgram", "unixgram", "/tmp/sock", egress.ReasonUnixSocket, ""},
		{"udp", "udp", "203.0.113.7:53", `uses network "udp"`, ""},
		{"empty host", "tcp", ":5432", egress.ReasonNoHost, ""},
		{"empty address", "tcp", "", egress.ReasonNoHost, ""},
		{"bad port", "tcp", "203.0.113.7:postgres", "", "invalid port"},
		{"port zero", "tcp", "203.0.113.7:0", "", "invalid port"},
		{"family mismatch", "tcp6", "203.0.113.7:5432", "", "no ip6 address"},
		{"unknown name", "tcp", "nx.example.com:5432", "", "resolve nx.example.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := f.d.DialContext(ctx, tc.network, tc.addr)
			if c != nil {
				c.Close()
				t.Fatal("dial succeeded")
			}
			var de *egress.DeniedError
			if tc.denied != "" {
				if !errors.As(err, &de) || !strings.Contains(de.Reason, tc.denied) {
					t.Fatalf("err = %v, want *DeniedError with %q", err, tc.denied)
				}
				return
			}
			if err == nil || errors.As(err, &de) || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("err = %v, want a plain error containing %q", err, tc.contains)
			}
		})
	}
	if got := f.connects.list(); len(got) > 0 {
		t.Errorf("connect attempted to %v", got)
	}
	if _, err := f.d.DialContext(ctx, "tcp", "nx.example.com:5432"); !errors.Is(err, errNoSuchHost) {
		t.Errorf("resolver error not wrapped: %v", err)
	}
}

func TestCheck(t *testing.T) {
	f := newFixture(t, noGrant, newResolver(map[string][]string{"db.example.com": {"203.0.113.7"}}), "db.example.com:5432")
	ctx := t.Context()
	if err := f.d.Check(ctx, "db.example.com", "5432"); err != nil {
		t.Errorf("Check(db.example.com, 5432) = %v", err)
	}
	var de *egress.DeniedError
	if err := f.d.Check(ctx, "db.example.com", "5433"); !errors.As(err, &de) {
		t.Errorf("Check(db.example.com, 5433) = %v, want *DeniedError", err)
	}
	if err := f.d.Check(ctx, "169.254.169.254", "80"); !errors.As(err, &de) || !de.Platform {
		t.Errorf("Check(metadata) = %v, want platform *DeniedError", err)
	}
	if got := f.connects.list(); len(got) > 0 {
		t.Errorf("Check connected to %v", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range f.events {
		if !ev.CheckOnly {
			t.Errorf("event %+v from Check without CheckOnly", ev)
		}
	}
	if len(f.events) != 3 {
		t.Errorf("got %d events, want 3 (one per decision)", len(f.events))
	}
}

func TestWithObserver(t *testing.T) {
	f := newFixture(t, noGrant, nil, "203.0.113.7")
	var got []egress.DialEvent
	ctx := egress.WithObserver(t.Context(), func(ev egress.DialEvent) { got = append(got, ev) })
	if _, err := f.d.DialContext(ctx, "tcp", "10.0.0.1:5432"); err == nil {
		t.Fatal("dial to 10.0.0.1 succeeded")
	}
	if _, err := f.d.DialContext(ctx, "tcp", "203.0.113.7:5432"); !errors.Is(err, errNoPackets) {
		t.Fatalf("dial to 203.0.113.7: %v", err)
	}
	if len(got) != 2 || !got[0].Denied || got[0].Addr.String() != "10.0.0.1:5432" || got[1].Denied || got[1].Addr.String() != "203.0.113.7:5432" {
		t.Errorf("observer events = %+v", got)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) != 2 {
		t.Errorf("onDial got %d events, want 2 as the observer", len(f.events))
	}
}

func TestEngineError(t *testing.T) {
	f := newFixture(t, noGrant, newResolver(map[string][]string{"db.example.com": {"10.0.0.5"}}), "db.example.com")
	var de *egress.DeniedError
	if err := f.dial(t, "db.example.com:5432"); !errors.As(err, &de) {
		t.Fatalf("err = %v, want *DeniedError", err)
	}
	ee := de.EngineError()
	if ee.Code != engine.CodeEgressDenied {
		t.Errorf("Code = %q, want %q", ee.Code, engine.CodeEgressDenied)
	}
	if want := "10.0.0.5:5432 (db.example.com) is private (10.0.0.0/8)"; ee.Message != want {
		t.Errorf("Message = %q, want %q", ee.Message, want)
	}
	if ee.Details["address"] != "10.0.0.5:5432" || ee.Details["host"] != "db.example.com" || ee.Details["reason"] != de.Reason {
		t.Errorf("Details = %v", ee.Details)
	}
}

// TestDialResolved: reconnecting to an address a name resolved to is
// decided as a dial of the name that resolved to it, without DNS.
func TestDialResolved(t *testing.T) {
	r := newResolver(map[string][]string{"db.example.com": {"203.0.113.7"}})
	tests := []struct {
		name, host, addr string
		grant            egress.Grant
		dialed, reason   string
	}{
		{"the name's address", "db.example.com", "203.0.113.7:5432", noGrant, "203.0.113.7:5432", ""},
		{"another name", "other.example.net", "203.0.113.7:5432", noGrant, "", egress.ReasonNotAllowlisted},
		{"another port", "db.example.com", "203.0.113.7:5433", noGrant, "", egress.ReasonNotAllowlisted},
		{"loopback without a grant", "db.example.com", "127.0.0.1:5432", noGrant, "", "is loopback"},
		{"loopback, grant of every range", "db.example.com", "127.0.0.1:5432", grantAll, "", "is loopback"},
		{"private, grant", "db.example.com", "10.1.2.3:5432", grantAll, "10.1.2.3:5432", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.grant, r, "db.example.com:5432")
			f.connects.refuseAll = true
			_, err := f.d.DialResolved(t.Context(), "tcp", tc.host, netip.MustParseAddrPort(tc.addr))
			if tc.dialed == "" {
				f.wantDenied(t, err, tc.reason, tc.reason != egress.ReasonNotAllowlisted)
			} else if !errors.Is(err, errNoPackets) || !slices.Equal(f.connects.list(), []string{tc.dialed}) {
				t.Fatalf("err = %v, connects %v; want the gate to pass to %s", err, f.connects.list(), tc.dialed)
			}
		})
	}
	if n := r.callsFor("db.example.com"); n != 0 {
		t.Errorf("DialResolved resolved the name %d times", n)
	}
	f := newFixture(t, noGrant, r, "203.0.113.0/24")
	if _, err := f.d.DialResolved(t.Context(), "tcp", "203.0.113.8", netip.MustParseAddrPort("203.0.113.7:5432")); err == nil || len(f.connects.list()) != 0 {
		t.Errorf("DialResolved with a literal host of another address = %v", err)
	}
}
