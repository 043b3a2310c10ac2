// Package httphost serves the http.request host call: a connector's one
// door to web services.
//
// Every request goes through the connection's egress gate: the client of
// a configuration is built with egress.HTTPClient on the connection's
// Dialer, so each connection attempt and each redirect hop is checked
// against the allowlist and the platform deny list. A connector may call
// any URL the allowlist lets through; a relative URL is resolved against
// the connection's URI (the service's base URL). One client is kept per
// (tenant, connection, configuration version) and closed when evicted or
// idle.
//
// Request and result shapes are documented for guest authors in
// guest-sdk/ABI.md ("HTTP host calls").
package httphost
