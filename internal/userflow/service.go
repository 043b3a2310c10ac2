package userflow

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsonx"
	"github.com/sluice-dev/sluice/store"
)

// Store is what the flows keep: local users, migration jobs, the audit log.
type Store interface {
	store.UserStore
	store.MigrationJobStore
	store.AuditStore
}

// Argon2Params are the argon2id parameters of local password hashes.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id (19 MiB,
// 2 passes, 1 lane): about 25 ms per hash here, so a 2-core node verifies
// some 80 local logins a second per core without letting an attacker who
// steals the store brute-force cheaply.
func DefaultArgon2() Argon2Params { return Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1} }

// Config configures a Service; it is immutable once passed to New.
type Config struct {
	Store  Store
	Logger *slog.Logger
	// Argon2 parameters for local hashes; zero means DefaultArgon2.
	Argon2 Argon2Params
	// MaxLimit bounds page sizes. Default 100.
	MaxLimit int
	// ImportPageSize is the listUsers page size of FinishMigration.
	// Default 100.
	ImportPageSize int
	// StaleAfter: a running migration job not updated for this long is
	// taken to have died with its node and may be resumed. Default 1 minute.
	StaleAfter time.Duration
	// DetachedTimeout bounds the work a flow finishes after its client
	// went away: a first login that reached the connector (the connector's
	// answer and the local write), a delete's call of the connector's
	// deleteUser. Each connector call is also bounded by the tenant's
	// timeoutMs. Default 1 minute.
	DetachedTimeout time.Duration
}

// Service runs the user flows.
type Service struct {
	cfg Config
}

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.Argon2 == (Argon2Params{}) {
		cfg.Argon2 = DefaultArgon2()
	}
	if cfg.MaxLimit <= 0 {
		cfg.MaxLimit = 100
	}
	if cfg.ImportPageSize <= 0 {
		cfg.ImportPageSize = 100
	}
	if cfg.StaleAfter <= 0 {
		cfg.StaleAfter = time.Minute
	}
	if cfg.DetachedTimeout <= 0 {
		cfg.DetachedTimeout = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// MaxLimit is the largest page size the flows accept.
func (s *Service) MaxLimit() int { return s.cfg.MaxLimit }

// ErrBadCredentials is the one answer to a failed login, whatever failed:
// telling "no such user" from "wrong password" would let callers enumerate
// users. The audit log and the debug route keep the precise code.
var ErrBadCredentials = &engine.Error{Code: engine.CodeWrongPassword, Message: "wrong account or password"}

// ErrDisabled answers a flow that needs the connector of a disabled
// connection.
var ErrDisabled = &engine.Error{Code: "connection_disabled", Message: "the connection is disabled: its connector is not called"}

// ErrNotFound is a user that does not exist.
var ErrNotFound = &engine.Error{Code: engine.CodeUserNotFound, Message: "no such user"}

// CodeLegacyUnavailable refuses, in LAZY_MIGRATION, a registration (or a
// change of email, username or phone) while the connector cannot be asked
// whether the legacy database has that user: the connection is disabled,
// has no active version, lacks getUser, or getUser failed or timed out.
// Creating the user anyway could shadow a legacy user not migrated yet
// and hand its account to whoever registered first. Details "cause" is
// the reason: connection_disabled or getUser's error code.
const CodeLegacyUnavailable engine.Code = "legacy_unavailable"

// CodeClientCanceled is a flow whose client went away before it could
// do anything that outlives the client: in LAZY_MIGRATION before a first
// login reached the connector, or before a registration's checks passed
// (nothing was asked of the connector or written); in CUSTOM_USER_STORE
// while the connector's login ran (Sluice writes nothing there).
const CodeClientCanceled engine.Code = "client_canceled"

// ErrClientCanceled answers (to nobody: the client is gone) and audits a
// flow that CodeClientCanceled describes.
var ErrClientCanceled = &engine.Error{Code: CodeClientCanceled, Message: "the client went away before the request started"}

// Audit-only codes of logins: the caller sees the generic
// ErrBadCredentials or, for CodeAnswerLost, nothing.
const (
	// CodeUserDeleted: the login names a user deleted from the local
	// store (a tombstone matches): it is not migrated again.
	CodeUserDeleted engine.Code = "user_deleted"
	// CodeAlreadyMigrated: the connector accepted the login, but its
	// legacy user was migrated already and the local user no longer has
	// the identifier the login named (changed locally): the legacy
	// password no longer opens the account.
	CodeAlreadyMigrated engine.Code = "already_migrated"
	// CodeExternalIDMismatch: an imported user's login was accepted by
	// the connector for another legacy id than the imported one.
	CodeExternalIDMismatch engine.Code = "external_id_mismatch"
	// CodeAnswerLost: the login succeeded (a first login: the user is
	// migrated) but the client had gone before the answer.
	CodeAnswerLost engine.Code = "answer_lost"
)

func errUserExists(what string) error {
	return engine.Errorf(engine.CodeUserExists, "a user with this %s already exists", what)
}

func (s *Service) hash(pw string) (string, error) {
	p := s.cfg.Argon2
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.MemoryKiB, p.Threads, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// audit records the outcome of one flow. It never fails the flow.
func (s *Service) audit(ctx context.Context, c Conn, action, subject string, start time.Time, err error) {
	e := store.AuditEntry{
		Time: time.Now(), Tenant: c.Tenant, Connection: c.Name, RequestID: c.Context.RequestID,
		Action: action, Subject: subject, DurationMs: time.Since(start).Milliseconds(),
	}
	switch code := Precise(err); {
	case code != "":
		e.Code = string(code)
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		e.Code = string(CodeClientCanceled)
	case err != nil:
		e.Code = "internal"
	}
	e.Detail = Detail(err)
	if aerr := s.cfg.Store.AppendAudit(context.WithoutCancel(ctx), e); aerr != nil {
		s.cfg.Logger.Warn("audit log append failed", "err", aerr, "action", action)
	}
}

// call runs a connector function with input, a map encoded as a JSON
// object, plus the call context spliced in (not encoded again).
func call(ctx context.Context, c Conn, function string, input map[string]any) (json.RawMessage, error) {
	in, err := json.Marshal(input)
	if err != nil {
		return nil, err
	}
	return callJSON(ctx, c, function, in)
}

// callJSON is call with the input object already encoded.
func callJSON(ctx context.Context, c Conn, function string, in []byte) (json.RawMessage, error) {
	if c.Disabled {
		return nil, ErrDisabled
	}
	if !c.Connector.Implements(function) {
		return nil, engine.NotImplemented(function)
	}
	out, err := c.Connector.Call(ctx, function, c.Context.WithContext(in))
	var ee *engine.Error
	if errors.As(err, &ee) {
		return nil, &ConnectorError{Function: function, Err: ee}
	}
	return out, err
}

// queryInput is {"query":{field:value}}, the input of getUser, written
// without encoding/json.
func queryInput(field, value string) []byte {
	b := make([]byte, 0, len(`{"query":{"":""}}`)+len(field)+len(value)+8)
	b = append(b, `{"query":{`...)
	b = jsonx.AppendString(b, field)
	b = append(b, ':')
	b = jsonx.AppendString(b, value)
	return append(b, "}}"...)
}

// loginInput is {"password":pw,"query":{field:value}}, login's input.
func loginInput(field, value, pw string) []byte {
	b := make([]byte, 0, len(`{"password":"","query":{"":""}}`)+len(field)+len(value)+len(pw)+8)
	b = append(b, `{"password":`...)
	b = jsonx.AppendString(b, pw)
	b = append(b, `,"query":{`...)
	b = jsonx.AppendString(b, field)
	b = append(b, ':')
	b = jsonx.AppendString(b, value)
	return append(b, "}}"...)
}

// codeOf is the contract code of err, or "".
func codeOf(err error) engine.Code {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ""
}

// local users -------------------------------------------------------------

func localProfile(u store.User) Profile {
	var p Profile
	_ = json.Unmarshal(u.Profile, &p)
	p.ID, p.ExternalID, p.Email, p.Username, p.Phone = u.ID, u.ExternalID, u.Email, u.Username, u.Phone
	return p
}

func toStoreUser(c Conn, p Profile) (store.User, error) {
	keep := p
	keep.ID, keep.ExternalID = "", ""
	b, err := json.Marshal(keep)
	if err != nil {
		return store.User{}, err
	}
	return store.User{Tenant: c.Tenant, Connection: c.Name, Email: p.Email, Username: p.Username, Phone: p.Phone, Profile: b}, nil
}

// storeErr maps store errors to contract errors.
func storeErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return engine.Errorf(engine.CodeUserExists, "a user with this email, username or phone already exists")
	}
	return err
}
