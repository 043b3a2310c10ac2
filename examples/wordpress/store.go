package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

// Page sizes of searchUser and listUsers.
const (
	defaultLimit = 10
	maxLimit     = 100
)

// store is a WordPress site's users: {prefix}users and {prefix}usermeta.
type store struct {
	prefix      string // table prefix, "wp_"
	users, meta string // the tables
	role        string // the role of created users
	// multisite: users has a network's spam and deleted columns.
	multisite bool
}

// multisite caches, per users table, whether it has the spam and deleted
// columns of a multisite network (an instance asks once).
var multisite = map[string]bool{}

// prefixPattern is what WordPress accepts as $table_prefix (wp-settings.php:
// letters, digits and underscores), bounded so the names stay identifiers.
var prefixPattern = regexp.MustCompile(`^[A-Za-z0-9_]{1,40}$`)

// open reads TABLE_PREFIX ("wp_" when unset), DEFAULT_ROLE
// ("subscriber", WordPress's default_role option) and MULTISITE: "true"
// for a multisite network, whose users table has spam and deleted
// columns, "false" for a single site; when unset, the first call of an
// instance asks information_schema whether the columns are there.
func open(ctx context.Context) (store, error) {
	prefix := os.Getenv("TABLE_PREFIX")
	if prefix == "" {
		prefix = "wp_"
	}
	if !prefixPattern.MatchString(prefix) {
		return store{}, fmt.Errorf("TABLE_PREFIX %q is not a table prefix (letters, digits and _)", prefix)
	}
	role := os.Getenv("DEFAULT_ROLE")
	if role == "" {
		role = "subscriber"
	}
	if !regexp.MustCompile(`^[a-z0-9_-]{1,60}$`).MatchString(role) {
		return store{}, fmt.Errorf("DEFAULT_ROLE %q is not a role name (lower-case letters, digits, _ and -)", role)
	}
	s := store{prefix: prefix, users: prefix + "users", meta: prefix + "usermeta", role: role}
	switch ms := os.Getenv("MULTISITE"); ms {
	case "true", "false":
		s.multisite = ms == "true"
	case "":
		known, ok := multisite[s.users]
		if !ok {
			var n int
			err := sql.QueryRow(ctx, "SELECT count(*) FROM information_schema.columns WHERE table_schema = DATABASE() "+
				"AND table_name = ? AND column_name IN ('spam', 'deleted')", s.users).Scan(&n)
			if err != nil {
				return store{}, err
			}
			known = n == 2
			multisite[s.users] = known
		}
		s.multisite = known
	default:
		return store{}, fmt.Errorf("MULTISITE %q is not true or false", ms)
	}
	return s, nil
}

// blocked is the select list's blocked column: a multisite network's
// user marked spam or deleted (Network Admin > Users) is blocked.
func (s store) blocked() string {
	if !s.multisite {
		return ""
	}
	return ", u.spam <> 0 OR u.deleted <> 0 AS blocked"
}

// selectUser reads a user as a profile, and the extra columns after it:
// the meta WordPress's profile screen edits (nickname, first_name,
// last_name) come from usermeta, the last written row of each winning.
func (s store) selectUser(extra ...string) string {
	meta := func(key, as string) string {
		return fmt.Sprintf("(SELECT m.meta_value FROM %s m WHERE m.user_id = u.ID AND m.meta_key = '%s' ORDER BY m.umeta_id DESC LIMIT 1) AS %s",
			s.meta, key, as)
	}
	return "SELECT u.ID AS id, NULLIF(u.user_login, '') AS username, NULLIF(u.user_email, '') AS email, " +
		"NULLIF(u.user_url, '') AS website, NULLIF(u.display_name, '') AS name, " +
		meta("nickname", "nickname") + ", " + meta("first_name", "given_name") + ", " + meta("last_name", "family_name") +
		s.blocked() +
		strings.Join(append([]string{""}, extra...), ", ") + " FROM " + s.users + " u"
}

// find returns the user q names and its password hash, or a nil user.
// WordPress has no phone: a query by phone finds no one.
func (s store) find(ctx context.Context, q sluice.UserQuery) (*sluice.User, string, error) {
	var cond string
	var arg any
	switch {
	case q.ID != "":
		id, err := strconv.ParseUint(q.ID, 10, 64)
		if err != nil {
			return nil, "", nil // not an ID of this table
		}
		cond, arg = "u.ID = ?", id
	case q.Email != "": // the _ci collation ignores case, as WordPress's email_exists does
		cond, arg = "u.user_email = ?", q.Email
	case q.Username != "":
		cond, arg = "u.user_login = ?", q.Username
	case q.Phone != "":
		return nil, "", nil
	default:
		return nil, "", sluice.InvalidInput("the query needs an id, email or username")
	}
	var u sluice.User
	var hash string
	err := sql.QueryRow(ctx, s.selectUser("u.user_pass")+" WHERE "+
		cond+" ORDER BY u.ID LIMIT 1", arg).ScanUser(&u, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	return &u, hash, nil
}

// login finds the user as wp_authenticate does: by user_login, or by
// user_email (also when a "username" holding an @ names no login). Every
// login runs one bcrypt check, so its time does not tell whether the
// user exists: with no user the password is checked against dummyHash.
func (s store) login(ctx context.Context, q sluice.LoginQuery, pw string) (*sluice.User, error) {
	var u *sluice.User
	var hash string
	var err error
	switch {
	case q.Username != "":
		u, hash, err = s.find(ctx, sluice.UserQuery{Username: q.Username})
		if err == nil && u == nil && strings.Contains(q.Username, "@") {
			u, hash, err = s.find(ctx, sluice.UserQuery{Email: q.Username})
		}
	case q.Email != "":
		u, hash, err = s.find(ctx, sluice.UserQuery{Email: q.Email})
	case q.Phone != "":
		return nil, sluice.ErrUserNotFound // WordPress has no phone
	default:
		return nil, sluice.InvalidInput("the query needs an email or username")
	}
	if err != nil {
		return nil, err
	}
	if u == nil {
		if _, err := checkPassword("", dummyHash, pw); err != nil {
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
	if u.Blocked {
		// wp_authenticate_spam_check refuses a spam user once the
		// password checked; this refuses a deleted one too, as a wrong
		// password (after the check, so timing tells nothing).
		return nil, fmt.Errorf("user %s is marked spam or deleted: %w", u.ID, sluice.ErrWrongPassword)
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

// list returns page (1-based) of the users whose login, email, display
// name or nicename contains keyword (the collation ignores case), in ID
// order; all users when keyword is empty.
func (s store) list(ctx context.Context, keyword string, page, limit int) (*sluice.UserList, error) {
	if limit < 1 {
		limit = defaultLimit
	}
	limit = min(limit, maxLimit)
	page = max(page, 1)
	cond, args := "1 = 1", []any{}
	if keyword != "" {
		cond = "(u.user_login LIKE ? OR u.user_email LIKE ? OR u.display_name LIKE ? OR u.user_nicename LIKE ?)"
		k := "%" + escapeLike(keyword) + "%"
		args = append(args, k, k, k, k)
	}
	// One batch is one transaction: the count and the page agree.
	res, err := sql.Batch(ctx,
		sql.QueryStmt("SELECT count(*) FROM "+s.users+" u WHERE "+cond, args...),
		sql.QueryStmt(s.selectUser()+" WHERE "+cond+" ORDER BY u.ID LIMIT ? OFFSET ?",
			append(args, limit, int64(page-1)*int64(limit))...))
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

// escapeLike makes s match itself in a LIKE pattern (MySQL's escape is \).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// taken reports whether another user than id has login or email (empty
// ones are not looked for). WordPress checks the same way
// (username_exists, email_exists): its tables have no unique index.
func (s store) taken(ctx context.Context, login, email string, id uint64) (bool, error) {
	var conds []string
	var args []any
	if login != "" {
		conds, args = append(conds, "user_login = ?"), append(args, login)
	}
	if email != "" {
		conds, args = append(conds, "user_email = ?"), append(args, email)
	}
	if len(conds) == 0 {
		return false, nil
	}
	rows, err := sql.Query(ctx, "SELECT ID FROM "+s.users+" WHERE ("+strings.Join(conds, " OR ")+") AND ID <> ? LIMIT 1",
		append(args, id)...)
	if err != nil {
		return false, err
	}
	return rows.Next(), nil
}

// nicename is sanitize_title's result for a login, roughly: lower case,
// runs of other characters as one "-", at most 50 bytes.
func nicename(login string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(login) {
		if 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' {
			b.WriteRune(c)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
		if b.Len() >= 50 {
			break
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// create inserts a user as wp_insert_user does: user_login is the
// username (or the email when there is none), display_name the name (or
// the login), and usermeta gets nickname (the login by default),
// first_name, last_name and the default role ({prefix}capabilities,
// {prefix}user_level).
func (s store) create(ctx context.Context, n sluice.NewUser) (*sluice.User, error) {
	login := n.Username
	if login == "" {
		login = n.Email
	}
	if login == "" {
		return nil, sluice.InvalidInput("a WordPress user needs a username or an email")
	}
	if len(login) > 60 {
		return nil, sluice.InvalidInput("the username is over WordPress's 60 characters")
	}
	hash := "" // no password: no hash matches an empty user_pass
	if n.Password != "" {
		h, err := hashPassword(n.Password)
		if err != nil {
			return nil, err
		}
		hash = h
	}
	display := n.Name
	if display == "" {
		display = login
	}
	nickname := n.Nickname
	if nickname == "" {
		nickname = login
	}
	caps := fmt.Sprintf(`a:1:{s:%d:"%s";b:1;}`, len(s.role), s.role) // PHP serialize(array(role => true))
	// The insert happens only when no user has the login or the email
	// (one statement: InnoDB's next-key locks on what it read make a
	// concurrent insert of the same login or email wait, or fail with a
	// deadlock, which runs the batch again: at REPEATABLE READ, InnoDB's
	// default and WordPress's); the usermeta rows and the answer only
	// when it did.
	stmts := []sql.Statement{
		sql.Stmt("INSERT INTO "+s.users+` (user_login, user_pass, user_nicename, user_email, user_url,
			user_registered, user_activation_key, user_status, display_name)
			SELECT ?, ?, ?, ?, ?, ?, '', 0, ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM `+s.users+
			` WHERE user_login = ? OR (? <> '' AND user_email = ?))`,
			login, hash, nicename(login), n.Email, n.Website, time.Now().UTC().Format("2006-01-02 15:04:05"), display,
			login, n.Email, n.Email),
		sql.Stmt("SET @sluice_uid = IF(ROW_COUNT() > 0, LAST_INSERT_ID(), NULL)"),
		sql.Stmt("INSERT INTO "+s.meta+" (user_id, meta_key, meta_value) SELECT @sluice_uid, k, v FROM ("+
			"SELECT 'nickname' AS k, ? AS v UNION ALL SELECT 'first_name', ? UNION ALL SELECT 'last_name', ? "+
			"UNION ALL SELECT ?, ? UNION ALL SELECT ?, ?) AS m WHERE @sluice_uid IS NOT NULL",
			nickname, n.GivenName, n.FamilyName, s.prefix+"capabilities", caps, s.prefix+"user_level", "0"),
		sql.QueryStmt(s.selectUser() + " WHERE u.ID = @sluice_uid"),
	}
	var res []sql.BatchResult
	var err error
	for try := 0; ; try++ {
		res, err = sql.Batch(ctx, stmts...)
		// A deadlock rolled the batch back: run it again, to find the
		// winner's row. MariaDB reports one met while it reserves the
		// auto-increment value as 1467.
		if errno := sql.MySQLErrno(err); errno != 1213 && errno != 1467 || try == 4 {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	if res[0].Result.RowsAffected == 0 {
		return nil, fmt.Errorf("the login or the email is taken: %w", sluice.ErrUserExists)
	}
	rows := res[3].Rows
	if !rows.Next() {
		return nil, fmt.Errorf("the new user was not found after its insert")
	}
	var u sluice.User
	return &u, rows.ScanUser(&u)
}

// update changes the fields present in up: the columns of users and the
// profile's usermeta rows (replaced; "" deletes them). Fields WordPress
// has no place for (phone, the verified flags, photo, customData, ...)
// are left out.
func (s store) update(ctx context.Context, id string, up sluice.UserUpdates) (*sluice.User, error) {
	key, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return nil, sluice.ErrUserNotFound
	}
	var sets []string
	var args []any
	column := func(name string, v *string) {
		if v != nil {
			sets, args = append(sets, name+" = ?"), append(args, *v)
		}
	}
	if up.Username != nil && *up.Username == "" {
		return nil, sluice.InvalidInput("a WordPress user's login must not be empty")
	}
	login, email := "", ""
	if up.Username != nil {
		login = *up.Username
	}
	if up.Email != nil {
		email = *up.Email
	}
	if taken, err := s.taken(ctx, login, email, key); err != nil {
		return nil, err
	} else if taken {
		return nil, sluice.ErrUserExists
	}
	column("user_login", up.Username)
	column("user_email", up.Email)
	column("user_url", up.Website)
	column("display_name", up.Name)
	if up.Password != nil {
		if *up.Password == "" {
			return nil, sluice.InvalidInput("the new password must not be empty")
		}
		hash, err := hashPassword(*up.Password)
		if err != nil {
			return nil, err
		}
		sets, args = append(sets, "user_pass = ?"), append(args, hash)
	}
	// The row must exist before usermeta is touched.
	stmts := []sql.Statement{sql.QueryStmt("SELECT ID FROM "+s.users+" WHERE ID = ? FOR UPDATE", key)}
	if len(sets) > 0 {
		stmts = append(stmts, sql.Stmt("UPDATE "+s.users+" SET "+strings.Join(sets, ", ")+" WHERE ID = ?", append(args, key)...))
	}
	for _, m := range []struct {
		key string
		v   *string
	}{{"nickname", up.Nickname}, {"first_name", up.GivenName}, {"last_name", up.FamilyName}} {
		if m.v == nil {
			continue
		}
		stmts = append(stmts, sql.Stmt("DELETE FROM "+s.meta+" WHERE user_id = ? AND meta_key = ? AND EXISTS (SELECT 1 FROM "+
			s.users+" WHERE ID = ?)", key, m.key, key))
		if *m.v != "" {
			stmts = append(stmts, sql.Stmt("INSERT INTO "+s.meta+" (user_id, meta_key, meta_value) SELECT ID, ?, ? FROM "+
				s.users+" WHERE ID = ?", m.key, *m.v, key))
		}
	}
	stmts = append(stmts, sql.QueryStmt(s.selectUser()+" WHERE u.ID = ?", key))
	res, err := sql.Batch(ctx, stmts...)
	if err != nil {
		return nil, err
	}
	rows := res[len(res)-1].Rows
	if !rows.Next() {
		return nil, sluice.ErrUserNotFound
	}
	var u sluice.User
	return &u, rows.ScanUser(&u)
}

// delete removes the user and its usermeta, as wp_delete_user does
// (without reassigning posts: that is WordPress's business).
func (s store) delete(ctx context.Context, id string) error {
	key, err := strconv.ParseUint(id, 10, 64)
	if err != nil {
		return sluice.ErrUserNotFound
	}
	res, err := sql.Batch(ctx,
		sql.Stmt("DELETE FROM "+s.meta+" WHERE user_id = ?", key),
		sql.Stmt("DELETE FROM "+s.users+" WHERE ID = ?", key))
	if err != nil {
		return err
	}
	if res[1].Result.RowsAffected == 0 {
		return sluice.ErrUserNotFound
	}
	return nil
}
