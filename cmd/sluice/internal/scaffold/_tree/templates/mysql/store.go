package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

// Page sizes of searchUser and listUsers.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// columns are the table's profile columns: sql.ScanUser fills the field
// of sluice.User each is named after (custom_data is customData), and
// leaves a NULL one empty.
const columns = `id, email, email_verified, username, phone, phone_verified, nickname, name,
	given_name, family_name, photo, gender, birthdate, address, company, website, blocked, custom_data`

// store is the users table of the connection's database.
type store struct {
	table string
}

// open returns the table named by the USERS_TABLE variable ("users" when
// unset; "database.table" also works).
func open() (store, error) {
	table := os.Getenv("USERS_TABLE")
	if table == "" {
		table = "users"
	}
	for _, part := range strings.Split(table, ".") {
		if !isIdentifier(part) {
			return store{}, fmt.Errorf("USERS_TABLE %q is not a table name (letters, digits and _, optionally database.table)", table)
		}
	}
	return store{table: table}, nil
}

// isIdentifier reports whether s is a plain SQL identifier, safe to put
// in a statement's text unquoted.
func isIdentifier(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != "" && len(s) <= 64
}

// find returns the user q names and its password hash ("" when it has
// none), or a nil user when there is no such user.
func (s store) find(ctx context.Context, q sluice.UserQuery) (*sluice.User, string, error) {
	var cond string
	var arg any
	switch {
	case q.ID != "":
		id, err := strconv.ParseInt(q.ID, 10, 64)
		if err != nil {
			return nil, "", nil // not an id of this table
		}
		cond, arg = "id = ?", id
	case q.Email != "": // the column's _ci collation ignores case
		cond, arg = "email = ?", q.Email
	case q.Username != "":
		cond, arg = "username = ?", q.Username
	case q.Phone != "":
		cond, arg = "phone = ?", q.Phone
	default:
		return nil, "", sluice.InvalidInput("the query needs an id, email, username or phone")
	}
	var u sluice.User
	var hash string
	err := sql.QueryRow(ctx, "SELECT "+columns+", coalesce(password_hash, '') FROM "+s.table+
		" WHERE "+cond+" ORDER BY id LIMIT 1", arg).ScanUser(&u, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &u, hash, nil
}

func (s store) login(ctx context.Context, q sluice.LoginQuery, pw string) (*sluice.User, error) {
	if q.Email == "" && q.Username == "" && q.Phone == "" {
		return nil, sluice.InvalidInput("the query needs an email, username or phone")
	}
	u, hash, err := s.find(ctx, sluice.UserQuery{Email: q.Email, Username: q.Username, Phone: q.Phone})
	if err != nil {
		return nil, err
	}
	if u == nil {
		if _, err := password.Verify(dummyHash, pw); err != nil {
			return nil, err
		}
		return nil, sluice.ErrUserNotFound
	}
	ok, err := checkPassword(u.ID, hash, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sluice.ErrWrongPassword
	}
	return u, nil
}

func (s store) validatePassword(ctx context.Context, id, pw string) (bool, error) {
	u, hash, err := s.find(ctx, sluice.UserQuery{ID: id})
	if err != nil {
		return false, err
	}
	if u == nil {
		return false, sluice.ErrUserNotFound
	}
	return checkPassword(u.ID, hash, pw)
}

// dummyHash is a bcrypt hash of no one's password, of the cost this
// template writes (10, the host's): what a login checks the password
// against when there is no user or no hash, so that every login costs
// one bcrypt run and its time does not tell whether the user exists.
// Change its cost with the one your store's hashes have.
const dummyHash = "$2a$10$ej.mhiNIACqO92cj6.uiD.esOUzQZrnQQRpwSGD0xGbjthrulcvJ."

// checkPassword checks pw against a stored hash on the host. A user
// without a hash has no password that matches: pw is checked against
// dummyHash instead, so the answer takes as long as a wrong password's.
func checkPassword(id, hash, pw string) (bool, error) {
	if hash == "" {
		_, err := password.Verify(dummyHash, pw)
		return false, err
	}
	ok, err := password.Verify(hash, pw)
	if err != nil {
		// A bad stored hash is the table's fault, not the caller's input:
		// report it as a connector error (no %w, so the code is dropped).
		return false, fmt.Errorf("checking the password hash of user %s: %v", id, err)
	}
	return ok, nil
}

// list returns page (1-based) of the users whose email, username,
// nickname, name or phone contains keyword, ignoring case; all users when
// keyword is empty. Users come in creation order.
func (s store) list(ctx context.Context, keyword string, page, limit int) (*sluice.UserList, error) {
	if limit < 1 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	page = max(page, 1)
	cond, args := "TRUE", []any{}
	if keyword != "" { // LIKE ignores case under the _ci collation
		cond = "(email LIKE ? OR username LIKE ? OR nickname LIKE ? OR name LIKE ? OR phone LIKE ?)"
		pattern := "%" + escapeLike(keyword) + "%"
		args = []any{pattern, pattern, pattern, pattern, pattern}
	}
	pageSQL := "SELECT " + columns + " FROM " + s.table + " WHERE " + cond + " ORDER BY id LIMIT ? OFFSET ?"
	// One batch is one transaction: the count and the page agree.
	res, err := sql.Batch(ctx,
		sql.QueryStmt("SELECT count(*) FROM "+s.table+" WHERE "+cond, args...),
		sql.QueryStmt(pageSQL, append(args, limit, int64(page-1)*int64(limit))...))
	if err != nil {
		return nil, err
	}
	list := &sluice.UserList{List: []sluice.User{}}
	count := res[0].Rows
	if count.Next() {
		if err := count.Scan(&list.TotalCount); err != nil {
			return nil, err
		}
	}
	for rows := res[1].Rows; rows.Next(); {
		var u sluice.User
		if err := rows.ScanUser(&u); err != nil {
			return nil, err
		}
		list.List = append(list.List, u)
	}
	return list, nil
}

// escapeLike makes s match itself in a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s store) create(ctx context.Context, n sluice.NewUser) (*sluice.User, error) {
	if n.Email == "" && n.Username == "" && n.Phone == "" {
		return nil, sluice.InvalidInput("a user needs an email, username or phone")
	}
	var hash any // NULL: no password
	if n.Password != "" {
		h, err := password.Hash(password.Bcrypt, n.Password)
		if err != nil {
			return nil, err // invalid_input for a password over 72 bytes
		}
		hash = h
	}
	custom, err := jsonArg(n.CustomData)
	if err != nil {
		return nil, err
	}
	// MySQL has no RETURNING: read the new row back in the same transaction.
	res, err := sql.Batch(ctx,
		sql.Stmt("INSERT INTO "+s.table+` (email, email_verified, username, phone,
			phone_verified, nickname, name, given_name, family_name, photo, gender, birthdate,
			address, company, website, blocked, custom_data, password_hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			null(n.Email), n.EmailVerified, null(n.Username), null(n.Phone), n.PhoneVerified,
			null(n.Nickname), null(n.Name), null(n.GivenName), null(n.FamilyName), null(n.Photo),
			null(n.Gender), null(n.Birthdate), null(n.Address), null(n.Company), null(n.Website),
			n.Blocked, custom, hash),
		sql.QueryStmt("SELECT "+columns+" FROM "+s.table+" WHERE id = LAST_INSERT_ID()"))
	if err != nil {
		return nil, dbError(err)
	}
	var u sluice.User
	rows := res[1].Rows
	rows.Next()
	return &u, rows.ScanUser(&u)
}

// update changes the fields present in up; a field set to "" becomes NULL.
func (s store) update(ctx context.Context, id string, up sluice.UserUpdates) (*sluice.User, error) {
	key, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, sluice.ErrUserNotFound
	}
	var sets []string
	var args []any
	set := func(column string, v any) {
		args = append(args, v)
		sets = append(sets, column+" = ?")
	}
	text := func(column string, v *string) {
		if v != nil {
			set(column, null(*v))
		}
	}
	flag := func(column string, v *bool) {
		if v != nil {
			set(column, *v)
		}
	}
	text("email", up.Email)
	flag("email_verified", up.EmailVerified)
	text("username", up.Username)
	text("phone", up.Phone)
	flag("phone_verified", up.PhoneVerified)
	text("nickname", up.Nickname)
	text("name", up.Name)
	text("given_name", up.GivenName)
	text("family_name", up.FamilyName)
	text("photo", up.Photo)
	text("gender", up.Gender)
	text("birthdate", up.Birthdate)
	text("address", up.Address)
	text("company", up.Company)
	text("website", up.Website)
	flag("blocked", up.Blocked)
	if up.CustomData != nil {
		custom, err := jsonArg(up.CustomData)
		if err != nil {
			return nil, err
		}
		set("custom_data", custom)
	}
	if up.Password != nil {
		if *up.Password == "" {
			return nil, sluice.InvalidInput("the new password must not be empty")
		}
		hash, err := password.Hash(password.Bcrypt, *up.Password)
		if err != nil {
			return nil, err
		}
		set("password_hash", hash)
	}
	if len(sets) == 0 { // nothing to change: answer the user as it is
		u, _, err := s.find(ctx, sluice.UserQuery{ID: id})
		if err == nil && u == nil {
			err = sluice.ErrUserNotFound
		}
		return u, err
	}
	// MySQL has no RETURNING: read the row back in the same transaction.
	res, err := sql.Batch(ctx,
		sql.Stmt("UPDATE "+s.table+" SET "+strings.Join(sets, ", ")+" WHERE id = ?", append(args, key)...),
		sql.QueryStmt("SELECT "+columns+" FROM "+s.table+" WHERE id = ?", key))
	if err != nil {
		return nil, dbError(err)
	}
	rows := res[1].Rows
	if !rows.Next() {
		return nil, sluice.ErrUserNotFound
	}
	var u sluice.User
	return &u, rows.ScanUser(&u)
}

func (s store) delete(ctx context.Context, id string) error {
	key, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return sluice.ErrUserNotFound
	}
	res, err := sql.Exec(ctx, "DELETE FROM "+s.table+" WHERE id = ?", key)
	if err != nil {
		return err
	}
	if res.RowsAffected == 0 {
		return sluice.ErrUserNotFound
	}
	return nil
}

// dbError maps the constraint violations of a write to contract errors.
func dbError(err error) error {
	switch {
	case sql.IsUniqueViolation(err):
		return fmt.Errorf("%v: %w", err, sluice.ErrUserExists)
	case sql.MySQLErrno(err) == 4025 || sql.MySQLErrno(err) == 3819: // users_identifier_check (MariaDB, MySQL)
		return sluice.InvalidInput("a user needs an email, username or phone")
	}
	return err
}

// null is NULL for an empty string, so that unique columns may be empty
// for several users.
func null(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonArg encodes customData for the JSON column; NULL when empty.
func jsonArg(m map[string]any) (any, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, sluice.InvalidInput("customData: " + err.Error())
	}
	return json.RawMessage(b), nil
}
