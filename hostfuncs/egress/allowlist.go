package egress

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// maxEntryLen bounds one allowlist entry; no valid entry is longer
// (a host name is at most 253 characters plus ":65535").
const maxEntryLen = 300

// EntryError reports an allowlist entry that cannot be parsed.
type EntryError struct {
	Entry  string // the entry as given
	Reason string // what is wrong with it

	network bool // a grant's network (ParseGrant), not an allowlist entry
}

func (e *EntryError) Error() string {
	if e.network {
		return fmt.Sprintf("invalid private network %q: %s", e.Entry, e.Reason)
	}
	return fmt.Sprintf("invalid egress allowlist entry %q: %s", e.Entry, e.Reason)
}

// Allowlist is a tenant connection's parsed egress allowlist. The zero
// Allowlist allows nothing. An Allowlist is immutable and safe for
// concurrent use.
type Allowlist struct {
	entries []entry
}

// entry is one parsed allowlist entry: either a host name (name set,
// possibly a wildcard) or an address prefix (a single address is a
// full-length prefix). port 0 means any port.
type entry struct {
	name     string // lower case, no trailing dot; for a wildcard the part after "*."
	wildcard bool
	prefix   netip.Prefix
	port     uint16
}

// ParseAllowlist parses the entries of a connection's egress allowlist.
// It reports every bad entry (joined with errors.Join; each is an
// *EntryError). Accepted forms:
//
//	203.0.113.7            one IPv4 address, any port
//	203.0.113.7:5432       one IPv4 address, one port
//	203.0.113.0/24         an IPv4 network, any port
//	203.0.113.0/24:5432    an IPv4 network, one port
//	2001:db8::1            one IPv6 address (no brackets: no port)
//	[2001:db8::1]:5432     one IPv6 address, one port
//	2001:db8::/32          an IPv6 network
//	[2001:db8::/32]:5432   an IPv6 network, one port
//	db.example.com         a host name, any port
//	db.example.com:5432    a host name, one port
//	*.example.com          any name below example.com (not example.com itself)
//	*.example.com:5432     the same, one port
//
// IPv4-mapped IPv6 forms (::ffff:203.0.113.7) are stored as IPv4.
// Networks must be written with their host bits clear (203.0.113.0/24,
// not 203.0.113.7/24).
func ParseAllowlist(entries []string) (Allowlist, error) {
	var (
		a    Allowlist
		errs []error
	)
	for _, s := range entries {
		e, err := parseEntry(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		a.entries = append(a.entries, e)
	}
	if len(errs) > 0 {
		return Allowlist{}, errors.Join(errs...)
	}
	return a, nil
}

// ValidateEntry reports whether s is a valid allowlist entry; the error
// is an *EntryError naming the entry.
func ValidateEntry(s string) error {
	_, err := parseEntry(s)
	return err
}

// Len returns the number of entries.
func (a Allowlist) Len() int { return len(a.entries) }

// allows reports whether an entry allows dialing ip:port for a request
// whose host was name (normalized; empty when the request used a literal
// address).
func (a Allowlist) allows(name string, ip netip.Addr, port uint16) bool {
	for _, e := range a.entries {
		if e.port != 0 && e.port != port {
			continue
		}
		if e.name != "" {
			if name != "" && e.matchesName(name) {
				return true
			}
			continue
		}
		if e.prefix.Contains(ip) {
			return true
		}
	}
	return false
}

// mayAllowName reports whether any entry could allow some address of
// the host name on port: a matching name entry, or any address entry
// for the port. When false, the name need not be resolved at all.
func (a Allowlist) mayAllowName(name string, port uint16) bool {
	for _, e := range a.entries {
		if e.port != 0 && e.port != port {
			continue
		}
		if e.name == "" || e.matchesName(name) {
			return true
		}
	}
	return false
}

func (e entry) matchesName(name string) bool {
	if e.wildcard {
		return strings.HasSuffix(name, "."+e.name)
	}
	return name == e.name
}

func parseEntry(raw string) (entry, error) {
	bad := func(format string, args ...any) (entry, error) {
		return entry{}, &EntryError{Entry: raw, Reason: fmt.Sprintf(format, args...)}
	}
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return bad("empty")
	case len(s) > maxEntryLen:
		return bad("longer than %d characters", maxEntryLen)
	case strings.Contains(s, "://"):
		return bad("looks like a URL; give only the host, optionally with :port")
	}

	var host, port string
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("missing ']'")
		}
		host, port = s[1:end], s[end+1:]
		if port != "" {
			if !strings.HasPrefix(port, ":") {
				return bad("unexpected %q after ']'", port)
			}
			port = port[1:]
			if port == "" {
				return bad("missing port after ':'")
			}
		}
		if !strings.Contains(host, ":") {
			return bad("brackets are only for IPv6 addresses")
		}
	case strings.Count(s, ":") >= 2:
		// A bare IPv6 address or network; a port needs brackets.
		host = s
	default:
		host = s
		if i := strings.LastIndexByte(s, ':'); i >= 0 {
			host, port = s[:i], s[i+1:]
			if port == "" {
				return bad("missing port after ':'")
			}
		}
	}

	var e entry
	if port != "" {
		p, err := strconv.ParseUint(port, 10, 16)
		if err != nil || p == 0 {
			return bad("port %q is not a number from 1 to 65535", port)
		}
		e.port = uint16(p)
	}

	switch {
	case strings.Contains(host, "/"):
		p, err := netip.ParsePrefix(host)
		if err != nil {
			return bad("not a valid network (CIDR): %v", errors.Unwrap(err))
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return bad("an IPv4-mapped network needs a prefix length of at least 96")
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		if m := p.Masked(); m != p {
			return bad("host bits are set; did you mean %s?", m)
		}
		e.prefix = p
	case looksLikeAddr(host):
		a, err := netip.ParseAddr(host)
		if err != nil {
			return bad("not a valid IP address")
		}
		if a.Zone() != "" {
			return bad("IPv6 zones are not allowed")
		}
		a = a.Unmap()
		e.prefix = netip.PrefixFrom(a, a.BitLen())
	default:
		name, wildcard, reason := parseName(host)
		if reason != "" {
			return bad("%s", reason)
		}
		e.name, e.wildcard = name, wildcard
	}
	return e, nil
}

// looksLikeAddr reports whether s is meant as an IP address: it holds a
// colon (IPv6) or consists of digits and dots only (IPv4).
func looksLikeAddr(s string) bool {
	if strings.Contains(s, ":") {
		return true
	}
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// parseName validates and normalizes a host name entry. It returns the
// name (without "*." for a wildcard) or the reason it is invalid.
func parseName(s string) (name string, wildcard bool, reason string) {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if rest, ok := strings.CutPrefix(s, "*."); ok {
		wildcard, s = true, rest
	}
	if strings.Contains(s, "*") {
		return "", false, "a wildcard is only allowed as the whole first label (*.example.com)"
	}
	if s == "" {
		return "", false, "empty host name"
	}
	if len(s) > 253 {
		return "", false, "host name longer than 253 characters"
	}
	labels := strings.Split(s, ".")
	if wildcard && len(labels) < 2 {
		return "", false, "a wildcard needs at least two labels after '*.' (*.example.com)"
	}
	for _, l := range labels {
		if r := labelProblem(l); r != "" {
			return "", false, r
		}
	}
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" {
		return "", false, "not a valid IP address or host name"
	}
	return s, wildcard, ""
}

func labelProblem(l string) string {
	switch {
	case l == "":
		return "host name has an empty label"
	case len(l) > 63:
		return "host name label longer than 63 characters"
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("host name label %q starts or ends with '-'", l)
	}
	for _, c := range l {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return fmt.Sprintf("host name has invalid character %q", c)
		}
	}
	return ""
}
