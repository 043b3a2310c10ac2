package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one numbered schema step. Its statements use {{BLOB}} and
// {{AUTOID}}, replaced per dialect. Steps are never edited once released;
// a change is a new step.
type migration struct {
	version    int
	name       string
	statements []string
}

var migrations = []migration{{
	version: 1,
	name:    "initial schema",
	statements: []string{
		`CREATE TABLE tenants (
			id TEXT PRIMARY KEY,
			name TEXT NOT NULL UNIQUE,
			created_at BIGINT NOT NULL,
			memory_mb INTEGER NOT NULL,
			timeout_ms INTEGER NOT NULL,
			max_concurrency INTEGER NOT NULL,
			calls_per_minute INTEGER NOT NULL,
			max_module_bytes BIGINT NOT NULL,
			max_host_calls INTEGER NOT NULL
		)`,
		`CREATE TABLE api_keys (
			hash TEXT PRIMARY KEY,
			tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
			created_at BIGINT NOT NULL
		)`,
		`CREATE INDEX api_keys_tenant ON api_keys(tenant_id)`,
		`CREATE TABLE connections (
			tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
			name TEXT NOT NULL,
			mode TEXT NOT NULL,
			db_type TEXT NOT NULL,
			uri_enc TEXT NOT NULL,
			host TEXT NOT NULL,
			port INTEGER NOT NULL,
			username TEXT NOT NULL,
			password_enc TEXT NOT NULL,
			database_name TEXT NOT NULL,
			env_enc TEXT NOT NULL,
			egress_allowlist TEXT NOT NULL,
			enabled BOOLEAN NOT NULL,
			active_version INTEGER NOT NULL,
			config_version BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, name)
		)`,
		`CREATE TABLE modules (
			sha256 TEXT PRIMARY KEY,
			size BIGINT NOT NULL,
			bytes {{BLOB}} NOT NULL,
			created_at BIGINT NOT NULL
		)`,
		`CREATE TABLE versions (
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			version INTEGER NOT NULL,
			sha256 TEXT NOT NULL REFERENCES modules(sha256),
			size BIGINT NOT NULL,
			functions TEXT NOT NULL,
			abi_version INTEGER NOT NULL,
			created_at BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, connection_name, version),
			FOREIGN KEY (tenant_id, connection_name) REFERENCES connections(tenant_id, name) ON DELETE CASCADE
		)`,
		`CREATE TABLE users (
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			id TEXT NOT NULL,
			external_id TEXT,
			email TEXT,
			email_norm TEXT,
			username TEXT,
			phone TEXT,
			profile TEXT NOT NULL,
			password_hash TEXT NOT NULL,
			source TEXT NOT NULL,
			password_set BOOLEAN NOT NULL,
			search_text TEXT NOT NULL,
			migrated_at BIGINT NOT NULL,
			created_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, connection_name, id),
			FOREIGN KEY (tenant_id, connection_name) REFERENCES connections(tenant_id, name) ON DELETE CASCADE
		)`,
		`CREATE UNIQUE INDEX users_external_id ON users(tenant_id, connection_name, external_id)`,
		`CREATE UNIQUE INDEX users_email ON users(tenant_id, connection_name, email_norm)`,
		`CREATE UNIQUE INDEX users_username ON users(tenant_id, connection_name, username)`,
		`CREATE UNIQUE INDEX users_phone ON users(tenant_id, connection_name, phone)`,
		`CREATE INDEX users_created ON users(tenant_id, connection_name, created_at, id)`,
		`CREATE TABLE audit_log (
			id {{AUTOID}},
			time BIGINT NOT NULL,
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			request_id TEXT NOT NULL,
			action TEXT NOT NULL,
			subject TEXT NOT NULL,
			code TEXT NOT NULL,
			duration_ms BIGINT NOT NULL
		)`,
		`CREATE INDEX audit_log_tenant ON audit_log(tenant_id, id)`,
		`CREATE INDEX audit_log_time ON audit_log(time)`,
		`CREATE TABLE migration_jobs (
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			status TEXT NOT NULL,
			next_page INTEGER NOT NULL,
			imported BIGINT NOT NULL,
			legacy_total BIGINT NOT NULL,
			started_at BIGINT NOT NULL,
			updated_at BIGINT NOT NULL,
			error TEXT NOT NULL,
			PRIMARY KEY (tenant_id, connection_name),
			FOREIGN KEY (tenant_id, connection_name) REFERENCES connections(tenant_id, name) ON DELETE CASCADE
		)`,
	},
}, {
	version: 2,
	name:    "tenant cpu quota and private-network grant",
	statements: []string{
		`ALTER TABLE tenants ADD COLUMN cpu_ms_per_minute INTEGER NOT NULL DEFAULT 0`,
		`ALTER TABLE tenants ADD COLUMN allow_private_networks BOOLEAN NOT NULL DEFAULT FALSE`,
		`ALTER TABLE tenants ADD COLUMN private_networks TEXT NOT NULL DEFAULT '[]'`,
	},
}, {
	version: 3,
	name:    "cluster membership and shared quota pools",
	// New tables only, so IF NOT EXISTS: a schema taken back to an
	// earlier version by its columns (TestMigrationKeepsTenants) keeps
	// them and still migrates.
	statements: []string{
		`CREATE TABLE IF NOT EXISTS cluster_nodes (
			id TEXT PRIMARY KEY,
			started_at BIGINT NOT NULL,
			last_seen BIGINT NOT NULL
		)`,
		`CREATE TABLE IF NOT EXISTS quota_slots (
			tenant_id TEXT NOT NULL,
			slot INTEGER NOT NULL,
			node_id TEXT NOT NULL,
			lease_id TEXT NOT NULL,
			expires_at BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, slot)
		)`,
		`CREATE INDEX IF NOT EXISTS quota_slots_lease ON quota_slots(lease_id)`,
		`CREATE TABLE IF NOT EXISTS quota_rate (
			tenant_id TEXT PRIMARY KEY,
			tat BIGINT NOT NULL
		)`,
	},
}, {
	version: 4,
	name:    "plain env values and versions by module",
	statements: []string{
		// The names of the env values that are not secret; every value
		// stays encrypted in env_enc.
		`ALTER TABLE connections ADD COLUMN env_plain TEXT NOT NULL DEFAULT '[]'`,
		// Finds a connection's version of a module (an upload of known
		// bytes) and whether any version still uses a module (pruning).
		`CREATE INDEX versions_sha256 ON versions(sha256, tenant_id, connection_name)`,
	},
}, {
	version: 5,
	name:    "audit entry detail",
	statements: []string{
		`ALTER TABLE audit_log ADD COLUMN detail TEXT NOT NULL DEFAULT ''`,
	},
}, {
	version: 6,
	name:    "tombstones of deleted migrated users",
	statements: []string{
		`CREATE TABLE user_tombstones (
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			external_id TEXT NOT NULL,
			email_norm TEXT,
			username TEXT,
			phone TEXT,
			deleted_at BIGINT NOT NULL,
			PRIMARY KEY (tenant_id, connection_name, external_id),
			FOREIGN KEY (tenant_id, connection_name) REFERENCES connections(tenant_id, name) ON DELETE CASCADE
		)`,
		`CREATE INDEX user_tombstones_email ON user_tombstones(tenant_id, connection_name, email_norm)`,
		`CREATE INDEX user_tombstones_username ON user_tombstones(tenant_id, connection_name, username)`,
		`CREATE INDEX user_tombstones_phone ON user_tombstones(tenant_id, connection_name, phone)`,
	},
}, {
	version: 7,
	name:    "tenant upload quota",
	statements: []string{
		`ALTER TABLE tenants ADD COLUMN uploads_per_minute INTEGER NOT NULL DEFAULT 10`,
	},
}, {
	version: 8,
	name:    "production call log",
	statements: []string{
		// One row per connector call; record is the call's JSON (without
		// its id), size its length. The filters are columns of their own.
		`CREATE TABLE call_log (
			id {{AUTOID}},
			tenant_id TEXT NOT NULL,
			connection_name TEXT NOT NULL,
			at BIGINT NOT NULL,
			function_name TEXT NOT NULL,
			request_id TEXT NOT NULL,
			outcome TEXT NOT NULL,
			code TEXT NOT NULL,
			size BIGINT NOT NULL,
			record TEXT NOT NULL,
			FOREIGN KEY (tenant_id, connection_name) REFERENCES connections(tenant_id, name) ON DELETE CASCADE
		)`,
		`CREATE INDEX call_log_connection ON call_log(tenant_id, connection_name, id)`,
	},
}, {
	version: 9,
	name:    "call log tallies",
	statements: []string{
		// Each connection's calls and their bytes, kept by the writer
		// under the connection's row lock, so it checks the bounds
		// without reading the log.
		`ALTER TABLE connections ADD COLUMN call_count BIGINT NOT NULL DEFAULT 0`,
		`ALTER TABLE connections ADD COLUMN call_bytes BIGINT NOT NULL DEFAULT 0`,
	},
}, {
	version: 10,
	name:    "call log tallies counted",
	statements: []string{
		// In a step of its own, after the columns' (which lock the
		// table), in one pass over the log.
		`UPDATE connections SET call_count = t.n, call_bytes = t.bytes
			FROM (SELECT tenant_id, connection_name, COUNT(*) AS n, SUM(size) AS bytes FROM call_log GROUP BY tenant_id, connection_name) t
			WHERE connections.tenant_id = t.tenant_id AND connections.name = t.connection_name`,
	},
}}

// migrate applies the missing steps, each in its own transaction. On
// PostgreSQL an advisory transaction lock (per schema) makes nodes starting
// together apply each step once; on SQLite the immediate transaction does.
func (s *sqlStore) migrate(ctx context.Context) error {
	latest := migrations[len(migrations)-1].version
	for _, m := range migrations {
		err := s.withTx(ctx, func(tx *sql.Tx) error {
			if s.d.migrateSQL != "" {
				if _, err := tx.ExecContext(ctx, s.d.migrateSQL); err != nil {
					return err
				}
			}
			if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
				version INTEGER PRIMARY KEY,
				name TEXT NOT NULL,
				applied_at BIGINT NOT NULL
			)`); err != nil {
				return err
			}
			var applied, newest int
			if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*), COALESCE(MAX(version), 0) FROM schema_migrations WHERE version = ? OR version > ?`),
				m.version, latest).Scan(&applied, &newest); err != nil {
				return err
			}
			if newest > latest {
				return fmt.Errorf("schema version %d is newer than this program's %d", newest, latest)
			}
			if applied > 0 {
				return nil
			}
			for _, stmt := range m.statements {
				if _, err := tx.ExecContext(ctx, s.d.ddl.Replace(stmt)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, s.now().UnixMicro())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}
