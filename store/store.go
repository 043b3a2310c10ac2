package store

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the control plane's persistence. Both implementations (embedded
// SQLite and shared PostgreSQL) satisfy the same contract. Every
// tenant-scoped method takes the tenant ID first; a row of another tenant is
// reported as ErrNotFound.
type Store interface {
	TenantStore
	ConnectionStore
	VersionStore
	UserStore
	AuditStore
	MigrationJobStore
	ClusterStore
	CallStore

	// Ping checks that the store answers (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// TenantStore holds tenants, their quotas and their API keys.
type TenantStore interface {
	// CreateTenant creates a tenant with DefaultQuotas and, when apiKeyHash
	// is not empty, its first API key, in one transaction. A taken name is
	// ErrConflict.
	CreateTenant(ctx context.Context, name, apiKeyHash string) (Tenant, error)
	GetTenant(ctx context.Context, tenantID string) (Tenant, error)
	ListTenants(ctx context.Context) ([]Tenant, error)
	// UpdateQuotas validates q (*ValidationError) and stores it.
	UpdateQuotas(ctx context.Context, tenantID string, q Quotas) (Tenant, error)

	// AddAPIKey stores the hash (HashAPIKey) of a new key of the tenant.
	AddAPIKey(ctx context.Context, tenantID, keyHash string) error
	// DeleteAPIKey revokes one key of the tenant.
	DeleteAPIKey(ctx context.Context, tenantID, keyHash string) error
	ListAPIKeys(ctx context.Context, tenantID string) ([]APIKey, error)
	// TenantByAPIKeyHash finds the tenant owning the key hash.
	TenantByAPIKeyHash(ctx context.Context, keyHash string) (Tenant, error)
}

// ConnectionStore holds the tenants' connection configurations.
type ConnectionStore interface {
	// PutConnection creates or replaces the connection (c.Tenant, c.Name).
	// It keeps CreatedAt and ActiveVersion, increments ConfigVersion and
	// returns the stored connection. An unknown tenant is ErrNotFound.
	PutConnection(ctx context.Context, c Connection) (Connection, error)
	GetConnection(ctx context.Context, tenantID, name string) (Connection, error)
	ListConnections(ctx context.Context, tenantID string) ([]Connection, error)
	// DeleteConnection removes the connection with its versions, local
	// users and migration job. Module blobs stay (shared by sha256).
	DeleteConnection(ctx context.Context, tenantID, name string) error
}

// VersionStore holds uploaded connector versions and their module bytes.
type VersionStore interface {
	// AddVersion stores module (once per sha256) and a new version row in
	// one transaction; nv.Version 0 takes the next number. With nv.Activate
	// the version is also activated in the same transaction.
	//
	// When the connection already has a version with the module's bytes,
	// no version is added: that version is returned with Existing set (and
	// activated with nv.Activate). With nv.MaxVersions > 0, a new version
	// that takes the connection over MaxVersions versions prunes its oldest
	// versions in the same transaction, never the active one nor the new
	// one; a module no version references any more is deleted.
	AddVersion(ctx context.Context, tenantID, connection string, nv NewVersion, module []byte) (Version, error)
	ListVersions(ctx context.Context, tenantID, connection string) ([]Version, error)
	GetVersion(ctx context.Context, tenantID, connection string, version int) (Version, error)
	// ModuleBytes returns the module whose SHA-256 (lowercase hex) is sha256.
	ModuleBytes(ctx context.Context, sha256 string) ([]byte, error)
	// ActivateVersion makes version the active one (an older one is a
	// rollback) and increments the connection's ConfigVersion.
	ActivateVersion(ctx context.Context, tenantID, connection string, version int) (Connection, error)
}

// UserStore holds the local users of a connection (LAZY_MIGRATION).
type UserStore interface {
	// CreateUser stores u (ID generated when empty). A taken ID,
	// ExternalID, Email (case-insensitive), Username or Phone is
	// ErrUserExists, which is also ErrConflict.
	CreateUser(ctx context.Context, u User) (User, error)
	GetUserByID(ctx context.Context, tenantID, connection, id string) (User, error)
	GetUserByExternalID(ctx context.Context, tenantID, connection, externalID string) (User, error)
	// GetUserByLogin finds a user by LoginEmail (case-insensitive),
	// LoginUsername or LoginPhone.
	GetUserByLogin(ctx context.Context, tenantID, connection string, field LoginField, value string) (User, error)
	// UpdateUser replaces the user's stored fields (by Tenant, Connection, ID).
	UpdateUser(ctx context.Context, u User) (User, error)
	// DeleteUser removes a user. A user with an ExternalID (migrated or
	// imported from the connector) leaves a Tombstone in the same
	// transaction, so that its legacy record is never migrated again.
	DeleteUser(ctx context.Context, tenantID, connection, id string) error
	// FindTombstone returns a tombstone of the connection that matches any
	// non-empty field of q: ExternalID, Email (case-insensitive), Username
	// or Phone; ErrNotFound when none does.
	FindTombstone(ctx context.Context, tenantID, connection string, q Tombstone) (Tombstone, error)
	// ListUsers returns page (1-based) of limit users, oldest first, and the total.
	ListUsers(ctx context.Context, tenantID, connection string, page, limit int) ([]User, int, error)
	// SearchUsers matches keyword (case-insensitive substring) against
	// email, username, phone, external ID and the profile's names.
	SearchUsers(ctx context.Context, tenantID, connection, keyword string, page, limit int) ([]User, int, error)
	UserStats(ctx context.Context, tenantID, connection string) (UserStats, error)
}

// AuditStore is an append-only log of calls.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit returns the tenant's newest entries first.
	ListAudit(ctx context.Context, tenantID string, q AuditQuery) ([]AuditEntry, error)
	// PruneAudit deletes entries older than before and reports how many.
	PruneAudit(ctx context.Context, before time.Time) (int64, error)
}

// CallStore keeps the production call log: one Call per connector call
// of a connection, bounded per connection (the oldest dropped first).
// Deleting a connection deletes its calls.
type CallStore interface {
	// AppendCalls adds calls in one transaction, then trims the log of
	// every connection it touched to b. A call of a connection that does
	// not exist (deleted meanwhile) is skipped. It reports how many calls
	// were added.
	AppendCalls(ctx context.Context, calls []Call, b CallBounds) (int, error)
	// ListCalls returns a connection's calls matching q: newest first, or
	// oldest first when q.After is set.
	ListCalls(ctx context.Context, tenantID, connection string, q CallQuery) ([]Call, error)
}

// Call is one recorded connector call. Record is its JSON object as the
// API shows it, without "id" (the store does not read it).
type Call struct {
	ID         int64
	Tenant     string
	Connection string
	Time       time.Time
	Function   string
	RequestID  string
	Outcome    string // "ok" or "error"
	Code       string // the error code; empty when ok
	Record     []byte
}

// CallBounds bound the log of one connection: at most MaxCalls calls and
// MaxBytes bytes of records (0: unbounded).
type CallBounds struct {
	MaxCalls int
	MaxBytes int64
}

// CallQuery filters ListCalls; empty fields match every call.
type CallQuery struct {
	Function  string
	Outcome   string
	Code      string
	RequestID string
	// Before: only calls with a smaller id (the next page, newest first).
	Before int64
	// After: only calls with a larger id, oldest first (a live tail).
	After int64
	// Oldest: oldest first (implied by After).
	Oldest bool
	Limit  int // 0: 50; at most 1000
	// MaxBytes, when > 0, ends the list once its records reach this many
	// bytes (it holds at least one call): it bounds a page's memory.
	MaxBytes int
}

// MigrationJobStore holds the bulk-migration progress of a connection.
type MigrationJobStore interface {
	// GetMigrationJob is ErrNotFound when no job was stored.
	GetMigrationJob(ctx context.Context, tenantID, connection string) (MigrationJob, error)
	PutMigrationJob(ctx context.Context, j MigrationJob) (MigrationJob, error)
}

// Tenant is a user pool of the identity platform.
type Tenant struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	Quotas    Quotas    `json:"quotas"`
}

// APIKey describes a stored tenant API key (only its hash is kept).
type APIKey struct {
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"createdAt"`
}

// Mode is a connection's mode.
type Mode string

// The modes of docs/contract.md.
const (
	ModeLazyMigration   Mode = "LAZY_MIGRATION"
	ModeCustomUserStore Mode = "CUSTOM_USER_STORE"
)

// DBType is the kind of database a connection reaches.
type DBType string

// The database types of docs/contract.md.
const (
	DBPostgres DBType = "postgres"
	DBMySQL    DBType = "mysql"
	DBMongoDB  DBType = "mongodb"
	DBHTTP     DBType = "http"
)

// ConnParams is how a connector reaches its database: a URI or its parts.
// URI and Password are secrets (encrypted at rest).
type ConnParams struct {
	URI      string `json:"uri,omitempty"`
	Host     string `json:"host,omitempty"`
	Port     int    `json:"port,omitempty"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Database string `json:"database,omitempty"`
}

// Connection is a tenant's named custom database connection. Env values
// are encrypted at rest; the store returns plaintext. Every env value is a
// secret (never shown by the API) unless its name is in PlainEnv.
type Connection struct {
	Tenant          string            `json:"tenant"`
	Name            string            `json:"name"`
	Mode            Mode              `json:"mode"`
	DBType          DBType            `json:"dbType"`
	Connection      ConnParams        `json:"connection"`
	Env             map[string]string `json:"env"`
	PlainEnv        []string          `json:"plainEnv"` // names of the Env values that are not secret, sorted
	EgressAllowlist []string          `json:"egressAllowlist"`
	Enabled         bool              `json:"enabled"`
	ActiveVersion   int               `json:"activeVersion"` // 0: none
	ConfigVersion   int               `json:"configVersion"` // incremented on every change
	CreatedAt       time.Time         `json:"createdAt"`
	UpdatedAt       time.Time         `json:"updatedAt"`
}

// NewVersion is what AddVersion needs besides the module bytes.
type NewVersion struct {
	Version    int      // 0: the next number
	SHA256     string   // optional; checked against the bytes when set
	Functions  []string // implemented connector functions
	ABIVersion int
	Activate   bool // also make it the active version
	// MaxVersions caps the versions the connection keeps (0: no cap). It
	// must be at least 2: the active version and the new one.
	MaxVersions int
}

// Version is an uploaded connector module of a connection.
type Version struct {
	Tenant     string    `json:"tenant"`
	Connection string    `json:"connection"`
	Version    int       `json:"version"`
	SHA256     string    `json:"sha256"`
	Size       int64     `json:"size"`
	Functions  []string  `json:"functions"`
	ABIVersion int       `json:"abiVersion"`
	CreatedAt  time.Time `json:"createdAt"`
	// Existing is set by AddVersion when the connection already had this
	// module: no version was added.
	Existing bool `json:"-"`
	// Pruned lists the versions AddVersion deleted to stay within
	// NewVersion.MaxVersions.
	Pruned []int `json:"-"`
}

// LoginField names the user field a login identifier is matched against.
type LoginField string

// The login fields.
const (
	LoginEmail    LoginField = "email"
	LoginUsername LoginField = "username"
	LoginPhone    LoginField = "phone"
)

// User sources.
const (
	SourceConnector = "connector" // migrated by a lazy-migration login
	SourceRegister  = "register"
	SourceImport    = "import"
)

// User is a locally stored user of a connection.
type User struct {
	ID           string          `json:"id"`
	Tenant       string          `json:"tenant"`
	Connection   string          `json:"connection"`
	ExternalID   string          `json:"externalId,omitempty"`
	Email        string          `json:"email,omitempty"`
	Username     string          `json:"username,omitempty"`
	Phone        string          `json:"phone,omitempty"`
	Profile      json.RawMessage `json:"profile,omitempty"` // the whole user profile
	PasswordHash string          `json:"-"`
	Source       string          `json:"source"`
	PasswordSet  bool            `json:"passwordSet"`
	MigratedAt   time.Time       `json:"migratedAt,omitzero"`
	CreatedAt    time.Time       `json:"createdAt"`
	UpdatedAt    time.Time       `json:"updatedAt"`
}

// Tombstone remembers a deleted user that came from the connector: its
// ExternalID and the email, username and phone it had when deleted.
type Tombstone struct {
	ExternalID string    `json:"externalId"`
	Email      string    `json:"email,omitempty"`
	Username   string    `json:"username,omitempty"`
	Phone      string    `json:"phone,omitempty"`
	DeletedAt  time.Time `json:"deletedAt"`
}

// UserStats summarises a connection's local users.
type UserStats struct {
	Count          int       `json:"count"`
	LastMigratedAt time.Time `json:"lastMigratedAt,omitzero"`
}

// AuditEntry is one logged call.
type AuditEntry struct {
	ID         int64     `json:"id"`
	Time       time.Time `json:"time"`
	Tenant     string    `json:"tenant"`
	Connection string    `json:"connection,omitempty"`
	RequestID  string    `json:"requestId,omitempty"`
	Action     string    `json:"action"`
	Subject    string    `json:"subject,omitempty"`
	Code       string    `json:"code,omitempty"` // error code, empty on success
	// Detail is the failure in full, for the tenant and the operator:
	// the connector's or driver's message, SQLSTATE, refused address...
	// The user flows' callers only ever see the code and a plain message.
	Detail     string `json:"detail,omitempty"`
	DurationMs int64  `json:"durationMs"`
}

// AuditQuery filters ListAudit.
type AuditQuery struct {
	Connection string // empty: every connection
	Limit      int    // 0: 100
}

// Migration job statuses.
const (
	JobPending  = "pending"
	JobRunning  = "running"
	JobDone     = "done"
	JobFailed   = "failed"
	JobCanceled = "canceled"
)

// MigrationJob is the bulk-migration progress of a connection.
type MigrationJob struct {
	Tenant      string    `json:"tenant"`
	Connection  string    `json:"connection"`
	Status      string    `json:"status"`
	NextPage    int       `json:"nextPage"`
	Imported    int64     `json:"imported"`
	LegacyTotal int64     `json:"legacyTotal"`
	StartedAt   time.Time `json:"startedAt,omitzero"`
	UpdatedAt   time.Time `json:"updatedAt"`
	Error       string    `json:"error,omitempty"`
}
