// Package engine runs tenant connectors: WebAssembly modules that implement
// some of the eight connector functions (login, getUser, ...) against the
// guest ABI described in guest-sdk/ABI.md.
//
// It is the only package that touches the wazero runtime. An Engine
// validates and compiles a module once (with an on-disk compilation cache),
// keeps pools of initialised instances per tenant and connection, and runs
// one function per call under per-call Limits: a wall-clock timeout, a
// memory cap, input, output and log sizes, and a host-call budget. Each
// limit hit ends the call with the matching *Error code and discards the
// instance; the host is never harmed. Every instance of a module starts
// from one copy-on-write image of the module's data (image.go), and still
// runs its own start function and _initialize, under its own env.
//
// Host calls (databases, HTTP, password hashes) are served by a Host the
// caller passes with each call; the engine counts, times and traces them.
// A host call that fails with a host-owned code (IsHostOwned: egress_denied,
// timeout, resource_exhausted, ...) decides the call's error when the
// connector then fails generically (connector_error, a trap): its code
// reaches the caller whether or not the connector passes it through.
package engine
