// Package invoke runs connector calls: it is the pipeline every call of
// the API, the user flows and the migration jobs goes through.
//
// A Runner, built by New from an immutable Config, owns each step of a
// call:
//
//  1. the version: the module SHA-256 of a connection's version (0: the
//     active one), read from the store once per version and kept;
//  2. the module: compiled once per content and kept, loaded from the
//     store's bytes on first use (Load adds a module being uploaded);
//  3. the quotas: a per-tenant concurrency limit (non-blocking) and a
//     calls-per-minute rate limit (GCRA), both read from the tenant's
//     Quotas on every call, so a change applies to the next one; whole
//     on one node, or, with Config.Cluster, this node's share of them
//     in memory and the cluster's shared pool in the store beyond it;
//  4. the host functions of the connection's configuration and the
//     engine.Request, whose limits come from Config.Limits overridden by
//     the quotas (memory, timeout, instances, host calls);
//  5. the engine call, loaded again and retried once when the engine had
//     released the module (engine.ErrEvicted);
//  6. in-flight tracking, so a shutdown can Wait for the calls running;
//  7. the call metrics: a Runner is a prometheus.Collector;
//  8. the production call log: with Config.CallLog, every call that ran
//     is handed to it (internal/calllog), which never blocks the call.
//
// Call reports what stopped a call before it ran as typed errors:
// *QuotaError, and *VersionError wrapping ErrNoActiveVersion or
// ErrNoSuchVersion; other errors (the store's, the engine's) are wrapped
// with %w. Mapping them to HTTP answers is the api package's business.
//
// Evict closes the instances and host pools of a connection's
// configuration after it changed; calls on the new configuration start
// new ones.
package invoke
