package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"time"
)

const userCols = `tenant_id, connection_name, id, external_id, email, username, phone, profile, password_hash, source, password_set, migrated_at, created_at, updated_at`

func scanUser(r scanner) (User, error) {
	var u User
	var ext, email, username, phone sql.NullString
	var profile string
	var migrated, created, updated int64
	if err := r.Scan(&u.Tenant, &u.Connection, &u.ID, &ext, &email, &username, &phone, &profile, &u.PasswordHash,
		&u.Source, &u.PasswordSet, &migrated, &created, &updated); err != nil {
		return User{}, err
	}
	u.ExternalID, u.Email, u.Username, u.Phone = ext.String, email.String, username.String, phone.String
	u.Profile = json.RawMessage(profile)
	u.MigratedAt, u.CreatedAt, u.UpdatedAt = goTime(migrated), goTime(created), goTime(updated)
	return u, nil
}

// prepareUser validates u and returns its profile text and search text.
func prepareUser(u *User) (profile, search string, err error) {
	switch {
	case u.Tenant == "":
		return "", "", invalid("tenant", "is empty")
	case u.Connection == "":
		return "", "", invalid("connection", "is empty")
	}
	switch u.Source {
	case "":
		u.Source = SourceRegister
	case SourceConnector, SourceRegister, SourceImport:
	default:
		return "", "", invalid("source", "must be connector, register or import")
	}
	if len(u.Profile) == 0 {
		u.Profile = json.RawMessage("{}")
	}
	var fields map[string]any
	if err := json.Unmarshal(u.Profile, &fields); err != nil {
		return "", "", invalid("profile", "must be a JSON object")
	}
	parts := []string{u.ExternalID, u.Email, u.Username, u.Phone}
	for _, k := range []string{"name", "nickname", "givenName", "familyName"} {
		if v, ok := fields[k].(string); ok {
			parts = append(parts, v)
		}
	}
	return string(u.Profile), strings.ToLower(strings.Join(parts, "\n")), nil
}

func (s *sqlStore) CreateUser(ctx context.Context, u User) (User, error) {
	profile, search, err := prepareUser(&u)
	if err != nil {
		return User{}, err
	}
	if u.ID == "" {
		if u.ID, err = newUUID(); err != nil {
			return User{}, err
		}
	}
	now := s.now()
	u.CreatedAt, u.UpdatedAt = now, now
	if u.Source == SourceConnector && u.MigratedAt.IsZero() {
		u.MigratedAt = now
	}
	u.MigratedAt = u.MigratedAt.UTC().Truncate(time.Microsecond)
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO users (`+userCols+`, email_norm, search_text)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		u.Tenant, u.Connection, u.ID, nullable(u.ExternalID), nullable(u.Email), nullable(u.Username), nullable(u.Phone),
		profile, u.PasswordHash, u.Source, u.PasswordSet, dbTime(u.MigratedAt), dbTime(now), dbTime(now),
		nullable(strings.ToLower(u.Email)), search)
	if err != nil {
		return User{}, s.fail("create user", err, ErrUserExists)
	}
	return u, nil
}

func (s *sqlStore) getUser(ctx context.Context, op, where string, args ...any) (User, error) {
	u, err := scanUser(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+userCols+` FROM users WHERE tenant_id = ? AND connection_name = ? AND `+where), args...))
	if err != nil {
		return User{}, s.fail(op, err, ErrUserExists)
	}
	return u, nil
}

func (s *sqlStore) GetUserByID(ctx context.Context, tenantID, connection, id string) (User, error) {
	return s.getUser(ctx, "get user", "id = ?", tenantID, connection, id)
}

func (s *sqlStore) GetUserByExternalID(ctx context.Context, tenantID, connection, externalID string) (User, error) {
	return s.getUser(ctx, "get user by external id", "external_id = ?", tenantID, connection, externalID)
}

func (s *sqlStore) GetUserByLogin(ctx context.Context, tenantID, connection string, field LoginField, value string) (User, error) {
	switch field {
	case LoginEmail:
		return s.getUser(ctx, "get user by email", "email_norm = ?", tenantID, connection, strings.ToLower(value))
	case LoginUsername:
		return s.getUser(ctx, "get user by username", "username = ?", tenantID, connection, value)
	case LoginPhone:
		return s.getUser(ctx, "get user by phone", "phone = ?", tenantID, connection, value)
	}
	return User{}, invalid("field", "must be email, username or phone")
}

func (s *sqlStore) UpdateUser(ctx context.Context, u User) (User, error) {
	profile, search, err := prepareUser(&u)
	if err != nil {
		return User{}, err
	}
	u.UpdatedAt = s.now()
	u.MigratedAt = u.MigratedAt.UTC().Truncate(time.Microsecond)
	var created int64
	err = s.db.QueryRowContext(ctx, s.d.q(`UPDATE users SET external_id = ?, email = ?, email_norm = ?, username = ?, phone = ?,
			profile = ?, password_hash = ?, source = ?, password_set = ?, search_text = ?, migrated_at = ?, updated_at = ?
		WHERE tenant_id = ? AND connection_name = ? AND id = ?
		RETURNING created_at`),
		nullable(u.ExternalID), nullable(u.Email), nullable(strings.ToLower(u.Email)), nullable(u.Username), nullable(u.Phone),
		profile, u.PasswordHash, u.Source, u.PasswordSet, search, dbTime(u.MigratedAt), dbTime(u.UpdatedAt),
		u.Tenant, u.Connection, u.ID).Scan(&created)
	if err != nil {
		return User{}, s.fail("update user", err, ErrUserExists)
	}
	u.CreatedAt = goTime(created)
	return u, nil
}

func (s *sqlStore) DeleteUser(ctx context.Context, tenantID, connection, id string) error {
	err := s.withTx(ctx, func(tx *sql.Tx) error {
		var ext, email, username, phone sql.NullString
		err := tx.QueryRowContext(ctx, s.d.q(`DELETE FROM users WHERE tenant_id = ? AND connection_name = ? AND id = ?
			RETURNING external_id, email_norm, username, phone`), tenantID, connection, id).Scan(&ext, &email, &username, &phone)
		if err != nil || ext.String == "" {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO user_tombstones
				(tenant_id, connection_name, external_id, email_norm, username, phone, deleted_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, connection_name, external_id) DO UPDATE SET
				email_norm = excluded.email_norm, username = excluded.username, phone = excluded.phone,
				deleted_at = excluded.deleted_at`),
			tenantID, connection, ext.String, email, username, phone, dbTime(s.now()))
		return err
	})
	if err != nil {
		return s.fail("delete user", err, ErrUserExists)
	}
	return nil
}

func (s *sqlStore) FindTombstone(ctx context.Context, tenantID, connection string, q Tombstone) (Tombstone, error) {
	var conds []string
	args := []any{tenantID, connection}
	for _, c := range []struct{ col, v string }{
		{"external_id", q.ExternalID}, {"email_norm", strings.ToLower(q.Email)}, {"username", q.Username}, {"phone", q.Phone},
	} {
		if c.v != "" {
			conds = append(conds, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if len(conds) == 0 {
		return Tombstone{}, invalid("tombstone", "give an external id, email, username or phone")
	}
	var t Tombstone
	var email, username, phone sql.NullString
	var deleted int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT external_id, email_norm, username, phone, deleted_at FROM user_tombstones
		WHERE tenant_id = ? AND connection_name = ? AND (`+strings.Join(conds, " OR ")+`)
		ORDER BY deleted_at DESC LIMIT 1`), args...).Scan(&t.ExternalID, &email, &username, &phone, &deleted)
	if err != nil {
		return Tombstone{}, s.fail("find tombstone", err, ErrConflict)
	}
	t.Email, t.Username, t.Phone, t.DeletedAt = email.String, username.String, phone.String, goTime(deleted)
	return t, nil
}

func (s *sqlStore) ListUsers(ctx context.Context, tenantID, connection string, page, limit int) ([]User, int, error) {
	return s.pageUsers(ctx, "list users", "", nil, tenantID, connection, page, limit)
}

func (s *sqlStore) SearchUsers(ctx context.Context, tenantID, connection, keyword string, page, limit int) ([]User, int, error) {
	keyword = strings.TrimSpace(keyword)
	if keyword == "" {
		return s.ListUsers(ctx, tenantID, connection, page, limit)
	}
	return s.pageUsers(ctx, "search users", ` AND search_text LIKE ? ESCAPE '\'`, []any{likePattern(keyword)}, tenantID, connection, page, limit)
}

func (s *sqlStore) pageUsers(ctx context.Context, op, filter string, args []any, tenantID, connection string, page, limit int) ([]User, int, error) {
	// An unknown connection is ErrNotFound rather than an empty page.
	if err := s.connExists(ctx, tenantID, connection); err != nil {
		return nil, 0, err
	}
	where := ` FROM users WHERE tenant_id = ? AND connection_name = ?` + filter
	args = append([]any{tenantID, connection}, args...)
	var total int
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*)`+where), args...).Scan(&total); err != nil {
		return nil, 0, s.fail(op, err, ErrUserExists)
	}
	lim, off := pageArgs(page, limit)
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+userCols+where+` ORDER BY created_at, id LIMIT ? OFFSET ?`), append(args, lim, off)...)
	if err != nil {
		return nil, 0, s.fail(op, err, ErrUserExists)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, s.fail(op, err, ErrUserExists)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, s.fail(op, err, ErrUserExists)
	}
	return out, total, nil
}

func (s *sqlStore) UserStats(ctx context.Context, tenantID, connection string) (UserStats, error) {
	if err := s.connExists(ctx, tenantID, connection); err != nil {
		return UserStats{}, err
	}
	var st UserStats
	var last int64
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*), COALESCE(MAX(migrated_at), 0) FROM users WHERE tenant_id = ? AND connection_name = ?`),
		tenantID, connection).Scan(&st.Count, &last); err != nil {
		return UserStats{}, s.fail("user stats", err, ErrUserExists)
	}
	st.LastMigratedAt = goTime(last)
	return st, nil
}
