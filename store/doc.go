// Package store is Sluice's control-plane persistence: tenants, their
// quotas and API keys (hashes only), connection configurations, uploaded
// connector versions and module bytes, local users of lazy-migration
// connections, an audit log and bulk-migration progress.
//
// One interface, Store, has two implementations run through one contract
// test: an embedded SQLite file (OpenSQLite; modernc.org/sqlite, pure Go,
// WAL mode) for a single node, and PostgreSQL (OpenPostgres; pgx) shared by
// several nodes. Both apply numbered schema migrations at open, each in its
// own transaction; on PostgreSQL an advisory lock keeps nodes that start
// together from applying a step twice.
//
// Every tenant-scoped method takes the tenant ID; another tenant's rows are
// ErrNotFound. Unique violations are ErrConflict (users: ErrUserExists,
// which is also ErrConflict), bad input is a *ValidationError.
//
// Secrets at rest (a connection's URI, password and every env value) are
// sealed with AES-256-GCM under the master key given at open, with a fresh
// 96-bit nonce per value and the tenant, connection and field as
// additional data, plain env values (Connection.PlainEnv) too. The store
// returns plaintext; masking the secrets is the API's job.
//
// A connection holds one version per module (AddVersion of known bytes
// returns it) and, with NewVersion.MaxVersions, at most that many: the
// oldest besides the active one are pruned, and module bytes no version
// references are deleted.
// LoadOrCreateMasterKey and ParseMasterKey produce the key; NewAPIKey and
// HashAPIKey make tenant API keys.
package store
