// Package api is Sluice's HTTP API (Echo v4): the operator routes
// (tenants, quotas), the console routes a tenant uses to save, upload,
// debug and test its connections, and the public system routes (health,
// readiness, Prometheus metrics, the egress IPs, the OpenAPI document).
//
// New wires an *engine.Engine, a store.Store and a *hostfuncs.Manager
// behind one Echo instance; Server.Handler returns it. Every error answers
// {"error":{"code","message"}} through one error handler that maps
// engine, store and validation errors to the statuses of DESIGN.md.
// Connector calls pass the tenant's quotas: a non-blocking per-tenant
// concurrency limit and a calls-per-minute rate limit (429
// quota_exceeded with Retry-After), and the engine limits the quotas map
// to (memory, timeout, instances, host calls).
//
// The routes and their JSON are described by the OpenAPI 3 document
// served at /openapi.json (openapi.yaml, embedded).
package api
