package egress

import "net/netip"

// denyRule is one range of the platform deny list.
type denyRule struct {
	prefix netip.Prefix
	// what completes "<addr> is ...".
	what string
	// always: refused even to a tenant whose Grant covers it, because
	// no database can live there (or it is a cloud metadata service).
	always bool
}

func rule(prefix, what string, always bool) denyRule {
	return denyRule{prefix: netip.MustParsePrefix(prefix), what: what, always: always}
}

// denyList is the platform deny list, most specific ranges first: the
// first rule containing an address gives the reason. It is a read-only
// table; doc.go lists it for humans and TestDenyListDocumented keeps
// the two in step.
var denyList = []denyRule{
	// IPv4.
	rule("0.0.0.0/8", "unspecified (0.0.0.0/8, \"this network\")", true),
	rule("127.0.0.0/8", "loopback (127.0.0.0/8)", false),
	rule("10.0.0.0/8", "private (10.0.0.0/8)", false),
	rule("172.16.0.0/12", "private (172.16.0.0/12)", false),
	rule("192.168.0.0/16", "private (192.168.0.0/16)", false),
	rule("100.100.100.200/32", "carrier-grade NAT (cloud metadata)", true),
	rule("100.64.0.0/10", "carrier-grade NAT (100.64.0.0/10)", false),
	rule("169.254.169.254/32", "link-local (cloud metadata)", true),
	rule("169.254.170.2/32", "link-local (cloud metadata)", true),
	rule("169.254.0.0/16", "link-local (169.254.0.0/16)", false),
	rule("192.0.0.192/32", "IETF protocol assignments (cloud metadata)", true),
	rule("192.0.0.0/24", "IETF protocol assignments (192.0.0.0/24)", false),
	rule("192.88.99.0/24", "6to4 relay anycast (192.88.99.0/24)", false),
	rule("198.18.0.0/15", "benchmarking (198.18.0.0/15)", false),
	rule("224.0.0.0/4", "multicast (224.0.0.0/4)", true),
	rule("255.255.255.255/32", "broadcast (255.255.255.255)", true),
	rule("240.0.0.0/4", "reserved (240.0.0.0/4)", false),

	// IPv6.
	rule("::/128", "unspecified (::)", true),
	rule("::1/128", "loopback (::1)", false),
	rule("::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96)", false),
	rule("::/96", "IPv4-compatible (::/96, deprecated)", false),
	rule("::ffff:0:0:0/96", "IPv4-translated (::ffff:0:0:0/96)", false),
	rule("64:ff9b::/96", "NAT64 (64:ff9b::/96)", false),
	rule("64:ff9b:1::/48", "local-use NAT64 (64:ff9b:1::/48)", false),
	rule("100::/64", "discard-only (100::/64)", false),
	rule("2001::/32", "Teredo (2001::/32)", false),
	rule("2001:2::/48", "benchmarking (2001:2::/48)", false),
	rule("2002::/16", "6to4 (2002::/16)", false),
	rule("fd00:ec2::254/128", "unique-local (cloud metadata)", true),
	rule("fc00::/7", "unique-local (fc00::/7)", false),
	rule("fe80::/10", "link-local (fe80::/10)", false),
	rule("fec0::/10", "site-local (fec0::/10, deprecated)", false),
	rule("ff00::/8", "multicast (ff00::/8)", true),
}

// denied returns the deny-list rule containing a, if any. a must be
// unmapped and without zone.
func denied(a netip.Addr) (denyRule, bool) {
	for _, r := range denyList {
		if r.prefix.Contains(a) {
			return r, true
		}
	}
	return denyRule{}, false
}
