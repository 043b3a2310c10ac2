// Package api is Sluice's HTTP API (Echo v4): the operator routes
// (tenants, quotas), the console routes a tenant uses to save, upload,
// debug and test its connections, the user flows (internal/userflow),
// and the public system routes (health, readiness, Prometheus metrics,
// the egress IPs, the OpenAPI document).
//
// New wires an *invoke.Runner and a store.Store behind one Echo
// instance; Server.Handler returns it. Handlers resolve the tenant (from
// its API key) and the connection, build the call's input with its
// "context", and ask the Runner for every connector call: the Runner owns
// versions, modules, quotas, host functions and the engine (see
// internal/invoke). Every error answers {"error":{"code","message"}}
// through one error handler that maps the Runner's, engine, store and
// validation errors to the statuses of docs/contract.md (a quota rejection is
// 429 quota_exceeded with Retry-After).
//
// The routes and their JSON are described by the OpenAPI 3 document
// served at /openapi.json (openapi.yaml, embedded).
package api
