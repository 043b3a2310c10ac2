package userflow

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/password"
	"github.com/sluice-dev/sluice/store"
)

// Login verifies a user. In LAZY_MIGRATION a user already in the local
// store never reaches the connector; a new one is migrated on success.
func (s *Service) Login(ctx context.Context, c Conn, req LoginRequest) (res *LoginResult, err error) {
	start := time.Now()
	field, value, err := req.identify()
	if err != nil {
		return nil, err
	}
	defer func() {
		audited := err
		if err == nil && ctx.Err() != nil {
			audited = &engine.Error{Code: CodeAnswerLost, Message: "the client went away before the answer"}
		}
		s.audit(ctx, c, "login", field+":"+value, start, audited)
	}()
	if c.Mode == engine.ModeCustomUserStore {
		if ctx.Err() != nil {
			return nil, ErrClientCanceled
		}
		p, err := s.connectorLogin(ctx, c, field, value, req.Password)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ErrClientCanceled
			}
			return nil, err
		}
		return &LoginResult{User: p, Source: "connector"}, nil
	}

	local, lerr := s.cfg.Store.GetUserByLogin(ctx, c.Tenant, c.Name, store.LoginField(field), value)
	switch {
	case lerr == nil && local.PasswordSet:
		ok, verr := password.Verify(local.PasswordHash, req.Password)
		if verr != nil {
			return nil, verr
		}
		if !ok {
			return nil, preciseBadCredentials(engine.CodeWrongPassword)
		}
		return &LoginResult{User: localProfile(local), Source: "local"}, nil
	case lerr != nil && ctx.Err() != nil:
		return nil, ErrClientCanceled
	case lerr != nil && !errors.Is(lerr, store.ErrNotFound):
		return nil, lerr
	}
	var imported *store.User
	if lerr == nil {
		imported = &local
	}
	return s.firstLogin(ctx, c, field, value, req.Password, imported)
}

// firstLogin asks the connector about a user not migrated yet (imported,
// when FinishMigration stored it without a password) and migrates it on
// success. Once the connector is asked, the client going away changes
// nothing: the migration runs to its end (bounded by DetachedTimeout and
// the tenant's timeout), so it is either done or not started, never half.
func (s *Service) firstLogin(ctx context.Context, c Conn, field, value, pw string, imported *store.User) (*LoginResult, error) {
	if ctx.Err() != nil {
		return nil, ErrClientCanceled
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DetachedTimeout)
	defer cancel()
	if imported == nil {
		// Deleted users stay deleted: not even the connector is asked.
		if err := s.checkTombstone(ctx, c, tombstoneOf(field, value)); err != nil {
			return nil, err
		}
	}
	p, err := s.connectorLogin(ctx, c, field, value, pw)
	if err != nil {
		return nil, err
	}
	if imported != nil && imported.ExternalID != "" && imported.ExternalID != p.ID {
		return nil, preciseBadCredentials(CodeExternalIDMismatch)
	}
	if imported == nil {
		// The legacy user may have been deleted under other identifiers
		// (changed locally before the delete): its id says.
		if err := s.checkTombstone(ctx, c, store.Tombstone{ExternalID: p.ID, Email: p.Email, Username: p.Username, Phone: p.Phone}); err != nil {
			return nil, err
		}
	}
	hash, err := s.hash(pw)
	if err != nil {
		return nil, err
	}
	u, err := toStoreUser(c, p)
	if err != nil {
		return nil, err
	}
	if imported != nil { // imported earlier: it gets its password now
		local := *imported
		local.Email, local.Username, local.Phone, local.Profile = u.Email, u.Username, u.Phone, u.Profile
		local.ExternalID = p.ID
		local.PasswordHash, local.PasswordSet, local.MigratedAt = hash, true, time.Now()
		local, err = s.cfg.Store.UpdateUser(ctx, local)
		if errors.Is(err, store.ErrNotFound) {
			return nil, preciseBadCredentials(CodeUserDeleted) // deleted meanwhile
		}
		if err != nil {
			return nil, storeErr(err)
		}
		return &LoginResult{User: localProfile(local), Source: "connector"}, nil
	}
	u.ExternalID, u.PasswordHash, u.PasswordSet, u.Source = p.ID, hash, true, store.SourceConnector
	created, err := s.cfg.Store.CreateUser(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		// A concurrent first login of the same user won the insert: its
		// user has the identifier this login named and the same legacy id.
		// Anything else is refused: the legacy user was migrated and then
		// renamed locally (its legacy password no longer opens it), or the
		// connector's profile claims the email, username or phone of
		// another local user (the connector never picks the local account
		// a login lands in).
		existing, gerr := s.cfg.Store.GetUserByLogin(ctx, c.Tenant, c.Name, store.LoginField(field), value)
		if gerr == nil && existing.ExternalID == p.ID {
			return &LoginResult{User: localProfile(existing), Source: "connector"}, nil
		}
		if _, gerr := s.cfg.Store.GetUserByExternalID(ctx, c.Tenant, c.Name, p.ID); gerr == nil {
			return nil, preciseBadCredentials(CodeAlreadyMigrated)
		}
		return nil, storeErr(err)
	}
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: localProfile(created), Source: "connector"}, nil
}

func tombstoneOf(field, value string) store.Tombstone {
	switch field {
	case "email":
		return store.Tombstone{Email: value}
	case "phone":
		return store.Tombstone{Phone: value}
	}
	return store.Tombstone{Username: value}
}

// checkTombstone answers the generic bad credentials (audited
// user_deleted) when a tombstone matches q.
func (s *Service) checkTombstone(ctx context.Context, c Conn, q store.Tombstone) error {
	_, err := s.cfg.Store.FindTombstone(ctx, c.Tenant, c.Name, q)
	switch {
	case err == nil:
		return preciseBadCredentials(CodeUserDeleted)
	case errors.Is(err, store.ErrNotFound):
		return nil
	}
	return err
}

// badCredentials carries the precise code for the audit log while its
// message, what the caller sees, is the generic one.
type badCredentials struct {
	precise engine.Code
}

func (b *badCredentials) Error() string { return ErrBadCredentials.Error() }
func (b *badCredentials) Unwrap() error { return ErrBadCredentials }

func preciseBadCredentials(code engine.Code) error {
	return &badCredentials{precise: code}
}

// Precise returns the code a failed login really had (user_not_found or
// wrong_password), for logs and debugging.
func Precise(err error) engine.Code {
	var b *badCredentials
	if errors.As(err, &b) {
		return b.precise
	}
	return codeOf(err)
}

func (s *Service) connectorLogin(ctx context.Context, c Conn, field, value, pw string) (Profile, error) {
	out, err := callJSON(ctx, c, "login", loginInput(field, value, pw))
	if code := codeOf(err); code == engine.CodeWrongPassword || code == engine.CodeUserNotFound {
		return Profile{}, preciseBadCredentials(code)
	}
	if err != nil {
		return Profile{}, err
	}
	return parseProfile("login", out)
}

// Register creates a user unless it exists locally or in the connector's
// database. In LAZY_MIGRATION the new user is stored locally; in
// CUSTOM_USER_STORE the connector's createUser stores it.
func (s *Service) Register(ctx context.Context, c Conn, u NewUser) (p *Profile, err error) {
	if err := u.validate(true); err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { s.audit(ctx, c, "register", subjectOf(u), start, err) }()
	return s.create(ctx, c, u)
}

// Create is the console's or API's create: like Register.
func (s *Service) Create(ctx context.Context, c Conn, u NewUser) (p *Profile, err error) {
	if err := u.validate(c.Mode == engine.ModeLazyMigration); err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { s.audit(ctx, c, "createUser", subjectOf(u), start, err) }()
	return s.create(ctx, c, u)
}

func subjectOf(u NewUser) string {
	switch {
	case u.Email != "":
		return "email:" + u.Email
	case u.Username != "":
		return "username:" + u.Username
	}
	return "phone:" + u.Phone
}

type ident struct{ field, value string }

func idents(email, username, phone string) []ident {
	return []ident{{"email", email}, {"username", username}, {"phone", phone}}
}

func (s *Service) create(ctx context.Context, c Conn, u NewUser) (*Profile, error) {
	if ctx.Err() != nil {
		return nil, ErrClientCanceled
	}
	ids := idents(u.Email, u.Username, u.Phone)
	if c.Mode == engine.ModeLazyMigration {
		if err := s.localFree(ctx, c, ids, ""); err != nil {
			return nil, err
		}
	}
	if err := s.legacyFree(ctx, c, ids, ""); err != nil {
		return nil, err
	}
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "createUser", map[string]any{"user": u})
		if err != nil {
			return nil, err
		}
		p, err := parseProfile("createUser", out)
		return &p, err
	}
	hash, err := s.hash(u.Password)
	if err != nil {
		return nil, err
	}
	su, err := toStoreUser(c, u.profile(""))
	if err != nil {
		return nil, err
	}
	su.PasswordHash, su.PasswordSet, su.Source = hash, true, store.SourceRegister
	created, err := s.cfg.Store.CreateUser(ctx, su)
	if err != nil {
		return nil, storeErr(err)
	}
	p := localProfile(created)
	return &p, nil
}

// localFree answers user_exists when a local user other than self has
// one of ids.
func (s *Service) localFree(ctx context.Context, c Conn, ids []ident, self string) error {
	for _, id := range ids {
		if id.value == "" {
			continue
		}
		u, err := s.cfg.Store.GetUserByLogin(ctx, c.Tenant, c.Name, store.LoginField(id.field), id.value)
		if err == nil && u.ID != self {
			return errUserExists(id.field)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// legacyFree asks the connector's getUser about each identifier given and
// answers user_exists when the legacy database has a user with one of
// them (other than the legacy user selfExternal). In LAZY_MIGRATION it
// fails closed: when the connector cannot answer, the answer is
// legacy_unavailable, never "free".
func (s *Service) legacyFree(ctx context.Context, c Conn, ids []ident, selfExternal string) error {
	for _, id := range ids {
		if id.value == "" {
			continue
		}
		out, err := callJSON(ctx, c, "getUser", queryInput(id.field, id.value))
		var found *Profile
		if err == nil {
			found, err = parseOptionalProfile("getUser", out)
		}
		if err != nil {
			if c.Mode == engine.ModeLazyMigration {
				return s.failClosed(ctx, c, err)
			}
			return err
		}
		if found != nil && (selfExternal == "" || found.ID != selfExternal) {
			return errUserExists(id.field)
		}
	}
	return nil
}

// failClosed is the answer of a LAZY_MIGRATION flow whose getUser could
// not say whether a user exists. The caller's own bad input stays
// invalid_input, a platform refusal (a quota, a shutdown) stays what it
// is, and a missing getUser is not_implemented as on every route;
// anything else the connector could not answer is legacy_unavailable.
func (s *Service) failClosed(ctx context.Context, c Conn, err error) error {
	if ctx.Err() != nil {
		return ErrClientCanceled
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		return err
	}
	switch ee.Code {
	case engine.CodeInvalidInput, engine.CodeQuotaExceeded:
		return err
	case engine.CodeNotImplemented:
		// No getUser (or no active version, the seed): the answer every
		// route gives for a missing function, 501, refuses as well.
		return err
	}
	s.cfg.Logger.Warn("legacy user check failed: refused", "tenant", c.Tenant, "connection", c.Name, "err", err)
	why := "getUser answered " + string(ee.Code)
	if ee.Code == ErrDisabled.Code {
		why = "the connection is disabled"
	}
	return &engine.Error{
		Code:    CodeLegacyUnavailable,
		Message: "the legacy user store cannot be asked whether this user exists (" + why + "): refused until it can",
		Details: map[string]string{"cause": string(ee.Code)},
	}
}

// user finds a local user by its id or, failing that, its externalId.
func (s *Service) user(ctx context.Context, c Conn, id string) (store.User, error) {
	u, err := s.cfg.Store.GetUserByID(ctx, c.Tenant, c.Name, id)
	if errors.Is(err, store.ErrNotFound) {
		u, err = s.cfg.Store.GetUserByExternalID(ctx, c.Tenant, c.Name, id)
	}
	return u, storeErr(err)
}

// Get returns one user by id; in LAZY_MIGRATION by its id or its
// externalId.
func (s *Service) Get(ctx context.Context, c Conn, id string) (*Profile, error) {
	if c.Mode == engine.ModeCustomUserStore {
		out, err := callJSON(ctx, c, "getUser", queryInput("id", id))
		if err != nil {
			return nil, err
		}
		p, err := parseOptionalProfile("getUser", out)
		if err == nil && p == nil {
			err = ErrNotFound
		}
		return p, err
	}
	u, err := s.user(ctx, c, id)
	if err != nil {
		return nil, err
	}
	p := localProfile(u)
	return &p, nil
}

// List returns a page of users.
func (s *Service) List(ctx context.Context, c Conn, page, limit int) (*UserList, error) {
	if err := checkPage(page, limit, s.cfg.MaxLimit); err != nil {
		return nil, err
	}
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "listUsers", map[string]any{"page": page, "limit": limit})
		if err != nil {
			return nil, err
		}
		l, err := parseList("listUsers", out)
		return &l, err
	}
	users, total, err := s.cfg.Store.ListUsers(ctx, c.Tenant, c.Name, page, limit)
	return localList(users, total), err
}

// Search returns a page of users matching keyword.
func (s *Service) Search(ctx context.Context, c Conn, keyword string, page, limit int) (*UserList, error) {
	if err := checkPage(page, limit, s.cfg.MaxLimit); err != nil {
		return nil, err
	}
	if keyword == "" || len(keyword) > MaxKeyword {
		return nil, invalid("keyword must be 1 to %d bytes", MaxKeyword)
	}
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "searchUser", map[string]any{"keyword": keyword, "page": page, "limit": limit})
		if err != nil {
			return nil, err
		}
		l, err := parseList("searchUser", out)
		return &l, err
	}
	users, total, err := s.cfg.Store.SearchUsers(ctx, c.Tenant, c.Name, keyword, page, limit)
	return localList(users, total), err
}

func localList(users []store.User, total int) *UserList {
	l := &UserList{TotalCount: total, List: make([]Profile, 0, len(users))}
	for _, u := range users {
		l.List = append(l.List, localProfile(u))
	}
	return l
}

// Update changes a user's profile and, when given, its password.
func (s *Service) Update(ctx context.Context, c Conn, id string, up Updates) (p *Profile, err error) {
	if err := up.validate(); err != nil {
		return nil, err
	}
	start := time.Now()
	defer func() { s.audit(ctx, c, "updateUser", "id:"+id, start, err) }()
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "updateUser", map[string]any{"id": id, "updates": up})
		if err != nil {
			return nil, err
		}
		p, err := parseProfile("updateUser", out)
		return &p, err
	}
	u, err := s.user(ctx, c, id)
	if err != nil {
		return nil, err
	}
	// A new email, username or phone must be free locally and, like a
	// registration's, in the legacy database (fail closed): else a user
	// could take a legacy user's identifier before it migrates.
	var changed []ident
	for _, ch := range []struct {
		field string
		to    *string
		from  string
	}{{"email", up.Email, u.Email}, {"username", up.Username, u.Username}, {"phone", up.Phone, u.Phone}} {
		if ch.to != nil && *ch.to != "" && !strings.EqualFold(*ch.to, ch.from) {
			changed = append(changed, ident{ch.field, *ch.to})
		}
	}
	if err := s.localFree(ctx, c, changed, u.ID); err != nil {
		return nil, err
	}
	if err := s.legacyFree(ctx, c, changed, u.ExternalID); err != nil {
		return nil, err
	}
	prof := localProfile(u)
	up.apply(&prof)
	next, err := toStoreUser(c, prof)
	if err != nil {
		return nil, err
	}
	u.Email, u.Username, u.Phone, u.Profile = next.Email, next.Username, next.Phone, next.Profile
	if up.Password != nil {
		if u.PasswordHash, err = s.hash(*up.Password); err != nil {
			return nil, err
		}
		u.PasswordSet = true
	}
	if u, err = s.cfg.Store.UpdateUser(ctx, u); err != nil {
		return nil, storeErr(err)
	}
	out := localProfile(u)
	return &out, nil
}

// DeleteResult is what a delete did.
type DeleteResult struct {
	Deleted bool `json:"deleted"`
	// Legacy is, in LAZY_MIGRATION, what happened to the legacy record of
	// a user that came from the connector.
	Legacy *LegacyDelete `json:"legacy,omitempty"`
}

// LegacyDelete is the outcome of the connector's deleteUser for a deleted
// migrated user.
type LegacyDelete struct {
	// Status: "deleted"; "not_found" (the legacy database no longer had
	// it); "not_implemented" (the connector has no deleteUser: the legacy
	// record stays); "skipped" (the connection is disabled or has no
	// active version: the legacy record stays); "failed" (deleteUser
	// failed: the legacy record may stay; Code says why). In every case
	// the local user is deleted and its tombstone keeps it from being
	// migrated again.
	Status string `json:"status"`
	// Code is the error code of a failed deleteUser.
	Code string `json:"code,omitempty"`
}

// Delete removes a user (by id or, in LAZY_MIGRATION, externalId). In
// LAZY_MIGRATION a user that came from the connector leaves a tombstone,
// and the connector's deleteUser, when implemented, deletes the legacy
// record; the result says how that went.
func (s *Service) Delete(ctx context.Context, c Conn, id string) (res *DeleteResult, err error) {
	start := time.Now()
	defer func() { s.audit(ctx, c, "deleteUser", "id:"+id, start, err) }()
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "deleteUser", map[string]any{"id": id})
		if err != nil {
			return nil, err
		}
		if err := parseDeleted(out); err != nil {
			return nil, err
		}
		return &DeleteResult{Deleted: true}, nil
	}
	u, err := s.user(ctx, c, id)
	if err != nil {
		return nil, err
	}
	if err := s.cfg.Store.DeleteUser(ctx, c.Tenant, c.Name, u.ID); err != nil {
		return nil, storeErr(err)
	}
	res = &DeleteResult{Deleted: true}
	if u.ExternalID == "" {
		return res, nil
	}
	// The local delete is done: the legacy one runs to its end even if
	// the client goes away.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.DetachedTimeout)
	defer cancel()
	res.Legacy = s.deleteLegacy(ctx, c, u.ExternalID)
	return res, nil
}

func (s *Service) deleteLegacy(ctx context.Context, c Conn, externalID string) *LegacyDelete {
	if c.Disabled {
		return &LegacyDelete{Status: "skipped"}
	}
	if !c.Connector.Implements("deleteUser") {
		return &LegacyDelete{Status: "not_implemented"}
	}
	start := time.Now()
	out, err := call(ctx, c, "deleteUser", map[string]any{"id": externalID})
	if err == nil {
		if ok, perr := parseBool("deleteUser", out); perr != nil || !ok {
			err = badResult("deleteUser", "%s, want true", out)
		}
	}
	s.audit(ctx, c, "deleteLegacyUser", "externalId:"+externalID, start, err)
	switch code := codeOf(err); {
	case err == nil:
		return &LegacyDelete{Status: "deleted"}
	case code == engine.CodeUserNotFound:
		return &LegacyDelete{Status: "not_found"}
	case code == engine.CodeNotImplemented:
		// No active version: flowConnector answers the seed's message.
		return &LegacyDelete{Status: "skipped"}
	case code == "":
		s.cfg.Logger.Warn("legacy deleteUser failed", "tenant", c.Tenant, "connection", c.Name, "err", err)
		return &LegacyDelete{Status: "failed", Code: "internal"}
	default:
		s.cfg.Logger.Warn("legacy deleteUser failed", "tenant", c.Tenant, "connection", c.Name, "err", err)
		return &LegacyDelete{Status: "failed", Code: string(code)}
	}
}

// ValidatePassword checks a user's current password (before a change).
func (s *Service) ValidatePassword(ctx context.Context, c Conn, id, pw string) (valid bool, err error) {
	if err := checkPassword(pw, MinPassword); err != nil {
		return false, err
	}
	start := time.Now()
	defer func() { s.audit(ctx, c, "validatePassword", "id:"+id, start, err) }()
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "validatePassword", map[string]any{"id": id, "password": pw})
		if err != nil {
			return false, err
		}
		return parseBool("validatePassword", out)
	}
	u, err := s.user(ctx, c, id)
	if err != nil {
		return false, err
	}
	if !u.PasswordSet {
		return false, nil
	}
	return password.Verify(u.PasswordHash, pw)
}
