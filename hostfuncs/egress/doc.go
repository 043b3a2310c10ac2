// Package egress is the gate every outbound connection of a connector
// passes: the PostgreSQL, MySQL, MongoDB and HTTP host functions dial
// only through a *Dialer, which enforces the tenant connection's egress
// allowlist and the platform deny list.
//
// # The gate
//
// A Dialer is made per tenant connection (NewDialer is cheap: it copies
// the platform Config and keeps the tenant's Grant and the connection's
// parsed Allowlist). Dialer.DialContext
// accepts networks tcp, tcp4 and tcp6 only (no unix sockets, no udp) and,
// for host:port:
//
//  1. A literal IP host is used as is. A host name is lower-cased, its
//     trailing dot dropped, and resolved by the Dialer itself through
//     Config.Resolver (default net.DefaultResolver) — unless no
//     allowlist entry could allow it on that port, in which case it is
//     refused without a DNS query.
//  2. Every address is unmapped (::ffff:a.b.c.d becomes a.b.c.d) and
//     decided on: a deny-list range marked "always" is refused; a
//     protected address (below) is refused unless the tenant's Grant
//     names it; any other deny-list address is refused unless the Grant
//     covers it; then it must match an allowlist entry: an address or
//     network entry containing it, or a host-name entry matching the
//     requested name; an entry with a port matches that port only.
//  3. The addresses allowed are connected to in the resolver's order
//     until one answers; refused ones are skipped (a name resolving to
//     one private and one public address reaches the public one only).
//     If every address is refused, the error is the first refusal, a
//     *DeniedError; it converts to the contract's egress_denied error
//     with EngineError.
//
// Each decision is reported as a DialEvent to the Dialer's onDial
// function and to a context observer (WithObserver), for the call's
// trace. Dialer.Check makes the same decision without connecting.
//
// # DNS rebinding
//
// The Dialer connects to the very IP it checked (ip:port is handed to
// net.Dialer, which therefore never resolves), and resolves once per
// dial. A name answering first with an allowed address and then with
// 127.0.0.1 gets each answer checked before it is used; no answer is
// ever used unchecked. Drivers must therefore not resolve names
// themselves (see pgx below), or host-name entries could not match.
//
// # Allowlist entries
//
// See ParseAllowlist for the forms. Host-name entries match the name the
// connector asked for, case-insensitively, trailing dot ignored. A
// wildcard "*.example.com" matches every name below example.com (any
// depth) but not example.com itself; it needs at least two labels after
// "*.". Names are matched before resolution; whatever they resolve to is
// still checked against the deny list. The empty allowlist allows
// nothing. "0.0.0.0/0" and "::/0" allow every address not on the deny
// list.
//
// # Private-network grants and protected addresses
//
// Private networks are granted per tenant by the operator (the quotas
// allowPrivateNetworks and privateNetworks, parsed by ParseGrant). A
// Grant without networks covers every deny-list range not marked
// "always"; one with networks (10.0.0.0/8, 10.1.2.3:5432, fd00::/8)
// covers the addresses inside them only. The connection's allowlist
// must still allow the address.
//
// Some addresses are the platform's own and stay closed even to a
// tenant with a grant: loopback (127.0.0.0/8, ::1), every address of
// the node's interfaces (public ones too; Config.InterfaceAddrs) and
// Config.Protected (the control-plane store's address, resolved by
// ProtectHosts). A grant opens one of them only when one of its
// networks names it: contains it and lies inside its protected block,
// which is 127.0.0.0/8 for IPv4 loopback and the single address for
// the others. So 127.0.0.1/32, 127.0.0.0/8 and 127.0.0.1:5432 name
// 127.0.0.1, while 0.0.0.0/0 or 10.0.0.0/8 name no protected address
// (not the node's own 10.0.0.4 either; 10.0.0.4/32 does). When the
// store is on 127.0.0.1 that address is the store's block: only
// 127.0.0.1/32 or 127.0.0.1:port names it. Config.OwnMachine (sluice
// call on a developer's laptop) leaves loopback and the machine's own
// addresses to the grant like any private range.
//
// # Deny list
//
// Refused unless the tenant's Grant covers the address and the
// connection allowlisted it; ranges marked always are refused even
// then, since no database can live there. The first
// matching row gives the reason. The documentation ranges 192.0.2.0/24,
// 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 and 3fff::/20 are not
// denied, so tests and examples can allowlist them (they are not routed
// on the Internet anyway).
//
//	range                     reason                          always
//	0.0.0.0/8                 unspecified ("this network")    always
//	127.0.0.0/8               loopback
//	10.0.0.0/8                private
//	172.16.0.0/12             private
//	192.168.0.0/16            private
//	100.100.100.200/32        cloud metadata (Alibaba)        always
//	100.64.0.0/10             carrier-grade NAT
//	169.254.169.254/32        cloud metadata                  always
//	169.254.170.2/32          cloud metadata (AWS ECS)        always
//	169.254.0.0/16            link-local
//	192.0.0.192/32            cloud metadata (Oracle)         always
//	192.0.0.0/24              IETF protocol assignments
//	192.88.99.0/24            6to4 relay anycast
//	198.18.0.0/15             benchmarking
//	224.0.0.0/4               multicast                       always
//	255.255.255.255/32        broadcast                       always
//	240.0.0.0/4               reserved
//	::/128                    unspecified                     always
//	::1/128                   loopback
//	::ffff:0:0/96             IPv4-mapped (unmapped before the check)
//	::/96                     IPv4-compatible (deprecated)
//	::ffff:0:0:0/96           IPv4-translated
//	64:ff9b::/96              NAT64
//	64:ff9b:1::/48            local-use NAT64
//	100::/64                  discard-only
//	2001::/32                 Teredo
//	2001:2::/48               benchmarking
//	2002::/16                 6to4
//	fd00:ec2::254/128         cloud metadata (AWS IPv6)       always
//	fc00::/7                  unique-local
//	fe80::/10                 link-local
//	fec0::/10                 site-local (deprecated)
//	ff00::/8                  multicast                       always
//
// IPv4-mapped addresses are unmapped and checked as IPv4, so
// ::ffff:127.0.0.1 is loopback. The prefixes that embed an IPv4 address
// (IPv4-compatible, NAT64, 6to4, Teredo) are denied whole rather than by
// their embedded address: a translator on the platform's network could
// reach any IPv4 address through them, and no database needs them.
//
// # Plugging in the drivers
//
// The Dialer's DialContext fits every driver without this package
// importing any:
//
//	pgx:    cfg.DialFunc = d.DialContext
//	        cfg.LookupFunc = egress.LookupPassthrough   // pgconn must not resolve
//	MySQL:  cfg := mysql.NewConfig() (or ParseDSN); cfg.DialFunc = d.DialContext;
//	        connector, _ := mysql.NewConnector(cfg); db := sql.OpenDB(connector)
//	        (not mysql.RegisterDialContext, which is process-global)
//	Mongo:  options.Client().ApplyURI(uri).SetDialer(d)
//	HTTP:   egress.HTTPClient(d) — HTTPTransport(d) plus d.CheckRedirect
//
// pgx with a host starting with "/" asks for a unix socket, which the
// Dialer refuses. MongoDB "mongodb+srv" URIs make the driver look up
// SRV/TXT records through the system resolver; the hosts they name are
// then dialed through the Dialer and checked like any other. HTTP
// proxies are never used (an environment proxy would bypass the gate).
package egress
