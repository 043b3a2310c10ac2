package main

import (
	"context"
	"crypto/rand"
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

// columns read a row as a profile (sql.ScanUser fills each field from the
// column named after it): the full name is get_full_name()'s, blocked is
// not is_active, and customData carries Django's flags and dates.
const columns = `id, username, NULLIF(email, '') AS email, NULLIF(first_name, '') AS given_name,
	NULLIF(last_name, '') AS family_name, NULLIF(btrim(first_name || ' ' || last_name), '') AS name,
	NOT is_active AS blocked,
	jsonb_build_object('isStaff', is_staff, 'isSuperuser', is_superuser, 'dateJoined', date_joined,
		'lastLogin', last_login) AS custom_data`

// store is the auth_user table of the connection's database.
type store struct {
	table           string
	updateLastLogin bool
}

// open returns the table named by USERS_TABLE ("auth_user" when unset;
// "schema.table" also works); UPDATE_LAST_LOGIN=true makes login set
// last_login.
func open() (store, error) {
	table := os.Getenv("USERS_TABLE")
	if table == "" {
		table = "auth_user"
	}
	for _, part := range strings.Split(table, ".") {
		if !isIdentifier(part) {
			return store{}, fmt.Errorf("USERS_TABLE %q is not a table name (letters, digits and _, optionally schema.table)", table)
		}
	}
	return store{table: table, updateLastLogin: os.Getenv("UPDATE_LAST_LOGIN") == "true"}, nil
}

// isIdentifier reports whether s is a plain SQL identifier, safe to put
// in a statement's text unquoted.
func isIdentifier(s string) bool {
	for i, c := range s {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return s != "" && len(s) <= 63
}

// account is a found user with what login needs beside the profile.
// shared is set, with no user, when several users have the email asked
// for.
type account struct {
	user   *sluice.User
	hash   string
	active bool
	shared bool
}

// find returns the user q names, or a nil user. username is exact, as
// Django's USERNAME_FIELD lookup is; email ignores case
// (BaseUserManager.normalize_email only lowers the domain) and, since
// auth_user does not keep it unique, is refused when several users share
// it (shared is set: get answers invalid_input, login user_not_found).
// Django has no phone: a query by phone finds no one.
func (s store) find(ctx context.Context, q sluice.UserQuery) (account, error) {
	var cond string
	var arg any
	switch {
	case q.ID != "":
		id, err := strconv.ParseInt(q.ID, 10, 32) // an integer column
		if err != nil || id < 1 {
			return account{}, nil // not an id of this table
		}
		cond, arg = "id = $1", id
	case q.Email != "":
		cond, arg = "upper(email) = upper($1)", q.Email
	case q.Username != "":
		cond, arg = "username = $1", q.Username
	case q.Phone != "":
		return account{}, nil
	default:
		return account{}, sluice.InvalidInput("the query needs an id, email or username")
	}
	rows, err := sql.Query(ctx, "SELECT "+columns+", password, is_active FROM "+s.table+
		" WHERE "+cond+" ORDER BY id LIMIT 2", arg)
	if err != nil {
		return account{}, err
	}
	if rows.Len() > 1 {
		return account{shared: true}, nil
	}
	if !rows.Next() {
		return account{}, nil
	}
	a := account{user: &sluice.User{}}
	if err := rows.ScanUser(a.user, &a.hash, &a.active); err != nil {
		return account{}, err
	}
	return a, nil
}

// get is getUser: the user q names, or nil; invalid_input when several
// users share the email asked for (the caller must say which one).
func (s store) get(ctx context.Context, q sluice.UserQuery) (*sluice.User, error) {
	a, err := s.find(ctx, q)
	if err == nil && a.shared {
		err = sluice.InvalidInput("several users have this email: use the username")
	}
	return a.user, err
}

// login checks the password as django.contrib.auth.authenticate with
// ModelBackend does, and refuses an inactive user the same way as a
// wrong password (after checking the password, so timing tells nothing).
// Every login runs one PBKDF2 check, so its time does not tell whether
// the user exists: with no user (or an email several users share, which
// names no one) the password is checked against dummyHash, as
// ModelBackend runs the hasher for an unknown user (Django ticket #20760).
func (s store) login(ctx context.Context, q sluice.LoginQuery, pw string) (*sluice.User, error) {
	if q.Email == "" && q.Username == "" && q.Phone == "" {
		return nil, sluice.InvalidInput("the query needs an email or username")
	}
	a, err := s.find(ctx, sluice.UserQuery{Email: q.Email, Username: q.Username, Phone: q.Phone})
	if err != nil {
		return nil, err
	}
	if a.user == nil {
		if _, err := password.Verify(dummyHash, pw); err != nil {
			return nil, err
		}
		return nil, sluice.ErrUserNotFound
	}
	ok, err := checkPassword(a.user.ID, a.hash, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, sluice.ErrWrongPassword
	}
	if !a.active {
		return nil, fmt.Errorf("user %s is inactive (is_active is false): %w", a.user.ID, sluice.ErrWrongPassword)
	}
	// Django's user_logged_in signal updates last_login; with
	// UPDATE_LAST_LOGIN=true so does this (off by default: a lazy
	// migration may run on a read-only database role).
	if s.updateLastLogin {
		if _, err := sql.Exec(ctx, "UPDATE "+s.table+" SET last_login = now() WHERE id = $1", a.user.ID); err != nil {
			return nil, err
		}
	}
	return a.user, nil
}

// validatePassword is check_password: an inactive user's password still
// checks (Django's User.check_password does not look at is_active).
func (s store) validatePassword(ctx context.Context, id, pw string) (bool, error) {
	a, err := s.find(ctx, sluice.UserQuery{ID: id})
	if err != nil {
		return false, err
	}
	if a.user == nil {
		return false, sluice.ErrUserNotFound
	}
	return checkPassword(a.user.ID, a.hash, pw)
}

// dummyHash is a Django hash of no one's password, of the kind and
// iteration count makePassword writes (the host's pbkdf2_sha256, 600,000
// iterations): what a login checks the password against when there is
// no user or no usable hash, so that every login costs one PBKDF2 run.
const dummyHash = "pbkdf2_sha256$600000$sluicedummysalt0$EceQnB/7v1f7C1i/JNynESrH3IGPyRshGEVdb1I8xy0="

// checkPassword checks pw against a stored Django hash on the host. An
// unusable password ("!" and 40 random characters, set_unusable_password)
// or an empty one matches nothing: pw is checked against dummyHash
// instead, so the answer takes as long as for a wrong password.
func checkPassword(id, hash, pw string) (bool, error) {
	if hash == "" || strings.HasPrefix(hash, "!") {
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

// makePassword is make_password: a pbkdf2_sha256 hash made on the host,
// or for no password an unusable one, "!" and 40 random letters and
// digits (UNUSABLE_PASSWORD_PREFIX, UNUSABLE_PASSWORD_SUFFIX_LENGTH).
func makePassword(pw string) (string, error) {
	if pw != "" {
		return password.Hash(password.DjangoPBKDF2SHA256, pw)
	}
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 40)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return "!" + string(b), nil
}

// list returns page (1-based) of the users whose username, email, first
// or last name contains keyword, ignoring case, in id order; all users
// when keyword is empty.
func (s store) list(ctx context.Context, keyword string, page, limit int) (*sluice.UserList, error) {
	if limit < 1 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	page = max(page, 1)
	cond, args := "true", []any{}
	if keyword != "" {
		cond = "(username ILIKE $1 OR email ILIKE $1 OR first_name ILIKE $1 OR last_name ILIKE $1)"
		args = append(args, "%"+escapeLike(keyword)+"%")
	}
	pageSQL := fmt.Sprintf("SELECT %s FROM %s WHERE %s ORDER BY id LIMIT $%d OFFSET $%d",
		columns, s.table, cond, len(args)+1, len(args)+2)
	// One batch is one transaction: the count and the page agree.
	res, err := sql.Batch(ctx,
		sql.QueryStmt("SELECT count(*) FROM "+s.table+" WHERE "+cond, args...),
		sql.QueryStmt(pageSQL, append(args, limit, int64(page-1)*int64(limit))...))
	if err != nil {
		return nil, err
	}
	list := &sluice.UserList{List: []sluice.User{}}
	if count := res[0].Rows; count.Next() {
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

// lockEmail is the first statement of a batch that writes email: a
// transaction-scoped advisory lock on the table and the email (ignoring
// case), so that two createUser or updateUser calls giving the same
// email run one after the other and the second sees the first's row.
// auth_user does not keep emails unique (no index can), this connector
// does, since users log in by email too. Django's own writes do not
// take the lock.
func (s store) lockEmail(email string) sql.Statement {
	return sql.Stmt("SELECT pg_advisory_xact_lock(hashtextextended($1::text || upper($2::text), 0))", "sluice:"+s.table+":", email)
}

// otherWithEmail is SQL true when a user other than id $n has the email
// $m, ignoring case.
func (s store) otherWithEmail(email, id int) string {
	return fmt.Sprintf("EXISTS (SELECT 1 FROM %s WHERE upper(email) = upper($%d::text) AND id <> $%d)", s.table, email, id)
}

// create inserts a user as UserManager.create_user does: username (the
// email when there is none), is_staff and is_superuser false, is_active
// unless blocked, date_joined now.
func (s store) create(ctx context.Context, n sluice.NewUser) (*sluice.User, error) {
	username := n.Username
	if username == "" {
		username = n.Email
	}
	if username == "" {
		return nil, sluice.InvalidInput("a Django user needs a username or an email")
	}
	if len([]rune(username)) > 150 {
		return nil, sluice.InvalidInput("the username is over Django's 150 characters")
	}
	hash, err := makePassword(n.Password)
	if err != nil {
		return nil, err
	}
	// The insert happens only when no user has the email, checked under
	// the email's lock: of concurrent creates with one email, one wins.
	insert := sql.QueryStmt("INSERT INTO "+s.table+` (password, last_login, is_superuser, username, first_name,
		last_name, email, is_staff, is_active, date_joined) SELECT $1::text, NULL, false, $2::text, $3::text, $4::text, $5::text, false, $6::boolean, now()
		WHERE $5::text = '' OR NOT `+s.otherWithEmail(5, 7)+` RETURNING `+columns,
		hash, username, n.GivenName, n.FamilyName, n.Email, !n.Blocked, 0)
	stmts := []sql.Statement{insert}
	if n.Email != "" {
		stmts = []sql.Statement{s.lockEmail(n.Email), insert}
	}
	res, err := sql.Batch(ctx, stmts...)
	if err != nil {
		return nil, dbError(err)
	}
	rows := res[len(res)-1].Rows
	if !rows.Next() {
		return nil, fmt.Errorf("email %s is taken: %w", n.Email, sluice.ErrUserExists)
	}
	var u sluice.User
	if err := rows.ScanUser(&u); err != nil {
		return nil, err
	}
	return &u, nil
}

// update changes the fields present in up. Fields auth_user has no
// column for (phone, nickname, photo, ...; name, which is first_name and
// last_name) are left out.
func (s store) update(ctx context.Context, id string, up sluice.UserUpdates) (*sluice.User, error) {
	key, err := strconv.ParseInt(id, 10, 32)
	if err != nil {
		return nil, sluice.ErrUserNotFound
	}
	var sets []string
	var args []any
	set := func(column string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf("%s = $%d", column, len(args)))
	}
	if up.Username != nil {
		if *up.Username == "" {
			return nil, sluice.InvalidInput("a Django user's username must not be empty")
		}
		set("username", *up.Username)
	}
	if up.Email != nil {
		set("email", *up.Email)
	}
	if up.GivenName != nil {
		set("first_name", *up.GivenName)
	}
	if up.FamilyName != nil {
		set("last_name", *up.FamilyName)
	}
	if up.Blocked != nil {
		set("is_active", !*up.Blocked)
	}
	if up.Password != nil {
		if *up.Password == "" {
			return nil, sluice.InvalidInput("the new password must not be empty")
		}
		hash, err := makePassword(*up.Password)
		if err != nil {
			return nil, err
		}
		set("password", hash)
	}
	if len(sets) == 0 { // nothing to change: answer the user as it is
		a, err := s.find(ctx, sluice.UserQuery{ID: id})
		if err == nil && a.user == nil {
			err = sluice.ErrUserNotFound
		}
		return a.user, err
	}
	args = append(args, key)
	cond := fmt.Sprintf("id = $%d", len(args))
	checkEmail := up.Email != nil && *up.Email != ""
	if checkEmail {
		// A new email is written only when no other user has it,
		// checked under its lock, as create does.
		args = append(args, *up.Email)
		cond += " AND NOT " + s.otherWithEmail(len(args), len(args)-1)
	}
	update := sql.QueryStmt(fmt.Sprintf("UPDATE %s SET %s WHERE %s RETURNING %s",
		s.table, strings.Join(sets, ", "), cond, columns), args...)
	stmts := []sql.Statement{update}
	if checkEmail {
		stmts = []sql.Statement{s.lockEmail(*up.Email), sql.QueryStmt("SELECT "+s.otherWithEmail(1, 2), *up.Email, key), update}
	}
	res, err := sql.Batch(ctx, stmts...)
	if err != nil {
		return nil, dbError(err)
	}
	if checkEmail {
		var taken bool
		if t := res[1].Rows; t.Next() && t.Scan(&taken) == nil && taken {
			return nil, fmt.Errorf("email %s is taken: %w", *up.Email, sluice.ErrUserExists)
		}
	}
	rows := res[len(res)-1].Rows
	if !rows.Next() {
		return nil, sluice.ErrUserNotFound
	}
	var u sluice.User
	if err := rows.ScanUser(&u); err != nil {
		return nil, err
	}
	return &u, nil
}

func (s store) delete(ctx context.Context, id string) error {
	key, err := strconv.ParseInt(id, 10, 32)
	if err != nil {
		return sluice.ErrUserNotFound
	}
	res, err := sql.Exec(ctx, "DELETE FROM "+s.table+" WHERE id = $1", key)
	if err != nil {
		return err
	}
	if res.RowsAffected == 0 {
		return sluice.ErrUserNotFound
	}
	return nil
}

// dbError maps the unique violation of username to user_exists.
func dbError(err error) error {
	if sql.IsUniqueViolation(err) {
		return fmt.Errorf("%v: %w", err, sluice.ErrUserExists)
	}
	return err
}
