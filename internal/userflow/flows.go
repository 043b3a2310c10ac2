package userflow

import (
	"context"
	"errors"
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
	defer func() { s.audit(ctx, c, "login", field+":"+value, start, err) }()
	if c.Mode == engine.ModeCustomUserStore {
		p, err := s.connectorLogin(ctx, c, field, value, req.Password)
		if err != nil {
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
	case lerr != nil && !errors.Is(lerr, store.ErrNotFound):
		return nil, lerr
	}

	// Not migrated yet (or imported without a password): ask the connector.
	p, err := s.connectorLogin(ctx, c, field, value, req.Password)
	if err != nil {
		return nil, err
	}
	hash, err := s.hash(req.Password)
	if err != nil {
		return nil, err
	}
	if lerr == nil { // imported earlier: it gets its password now
		u, err := toStoreUser(c, p)
		if err != nil {
			return nil, err
		}
		local.Email, local.Username, local.Phone, local.Profile = u.Email, u.Username, u.Phone, u.Profile
		local.PasswordHash, local.PasswordSet, local.MigratedAt = hash, true, time.Now()
		if local, err = s.cfg.Store.UpdateUser(ctx, local); err != nil {
			return nil, storeErr(err)
		}
		return &LoginResult{User: localProfile(local), Source: "connector"}, nil
	}
	u, err := toStoreUser(c, p)
	if err != nil {
		return nil, err
	}
	u.ExternalID, u.PasswordHash, u.PasswordSet, u.Source = p.ID, hash, true, store.SourceConnector
	created, err := s.cfg.Store.CreateUser(ctx, u)
	if errors.Is(err, store.ErrConflict) {
		// A concurrent first login migrated the same user: use that one.
		if existing, gerr := s.cfg.Store.GetUserByExternalID(ctx, c.Tenant, c.Name, p.ID); gerr == nil {
			return &LoginResult{User: localProfile(existing), Source: "connector"}, nil
		}
		return nil, storeErr(err)
	}
	if err != nil {
		return nil, err
	}
	return &LoginResult{User: localProfile(created), Source: "connector"}, nil
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
	out, err := call(ctx, c, "login", map[string]any{"query": map[string]string{field: value}, "password": pw})
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

func (s *Service) create(ctx context.Context, c Conn, u NewUser) (*Profile, error) {
	ids := []struct{ field, value string }{{"email", u.Email}, {"username", u.Username}, {"phone", u.Phone}}
	if c.Mode == engine.ModeLazyMigration {
		for _, id := range ids {
			if id.value == "" {
				continue
			}
			_, err := s.cfg.Store.GetUserByLogin(ctx, c.Tenant, c.Name, store.LoginField(id.field), id.value)
			if err == nil {
				return nil, errUserExists(id.field)
			}
			if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
	}
	// The legacy side: getUser by each identifier given (unless the
	// connection is disabled in LAZY_MIGRATION: then Sluice's own store
	// is the only user store).
	for _, id := range ids {
		if id.value == "" || (c.Disabled && c.Mode == engine.ModeLazyMigration) {
			continue
		}
		out, err := call(ctx, c, "getUser", map[string]any{"query": map[string]string{id.field: id.value}})
		if err != nil {
			return nil, err
		}
		found, err := parseOptionalProfile("getUser", out)
		if err != nil {
			return nil, err
		}
		if found != nil {
			return nil, errUserExists(id.field)
		}
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

// Get returns one user by id.
func (s *Service) Get(ctx context.Context, c Conn, id string) (*Profile, error) {
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "getUser", map[string]any{"query": map[string]string{"id": id}})
		if err != nil {
			return nil, err
		}
		p, err := parseOptionalProfile("getUser", out)
		if err == nil && p == nil {
			err = ErrNotFound
		}
		return p, err
	}
	u, err := s.cfg.Store.GetUserByID(ctx, c.Tenant, c.Name, id)
	if err != nil {
		return nil, storeErr(err)
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
	u, err := s.cfg.Store.GetUserByID(ctx, c.Tenant, c.Name, id)
	if err != nil {
		return nil, storeErr(err)
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

// Delete removes a user.
func (s *Service) Delete(ctx context.Context, c Conn, id string) (err error) {
	start := time.Now()
	defer func() { s.audit(ctx, c, "deleteUser", "id:"+id, start, err) }()
	if c.Mode == engine.ModeCustomUserStore {
		out, err := call(ctx, c, "deleteUser", map[string]any{"id": id})
		if err != nil {
			return err
		}
		if ok, err := parseBool("deleteUser", out); err != nil || !ok {
			return badResult("deleteUser", "%s, want true", out)
		}
		return nil
	}
	return storeErr(s.cfg.Store.DeleteUser(ctx, c.Tenant, c.Name, id))
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
	u, err := s.cfg.Store.GetUserByID(ctx, c.Tenant, c.Name, id)
	if err != nil {
		return false, storeErr(err)
	}
	if !u.PasswordSet {
		return false, nil
	}
	return password.Verify(u.PasswordHash, pw)
}
