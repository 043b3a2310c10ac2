// Package hostfuncs serves a connector's host calls: SQL on PostgreSQL
// and MySQL, MongoDB, HTTP web services and password hashing.
//
// A Manager owns the database pools and HTTP clients of every tenant
// connection, one per (tenant, connection, configuration version), opened
// on first use and closed when the configuration changes or after idle
// time. Manager.Host returns the engine.Host of one connection: it can
// reach only that connection's database or service, and every outbound
// connection passes the connection's egress gate (package egress).
//
// Operations, their JSON requests and results, and the type mappings are
// documented for guest authors in guest-sdk/ABI.md.
package hostfuncs
