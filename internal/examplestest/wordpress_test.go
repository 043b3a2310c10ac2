package examplestest

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// Published password hashes of the formats a WordPress database holds.
const (
	// phpass's own test vector, from Openwall's phpass 0.3 test.php ("a
	// correct portable hash for 'test12345'"); WordPress ships that phpass
	// as wp-includes/class-phpass.php.
	phpassTest12345 = "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"
	// John the Ripper's phpass vector, as passlib's test suite
	// (passlib/tests/test_handlers.py, phpass_test.known_correct_hashes)
	// lists it: 'thisisalongertestPW'.
	phpassLonger = "$P$912345678LIjjb6PhecupozNBmDndU0"
	// md5('password'), which WordPress still accepts (wp_check_password's
	// strlen($hash) <= 32 branch; WordPress's tests/phpunit/tests/auth.php,
	// test_wp_check_password_supports_md5_hash).
	md5Password = "5f4dcc3b5aa765d61d8327deb882cf99"
	// The PHP manual's password_verify() example: 'rasmuslerdorf'. WordPress
	// 6.8 checks such un-prefixed bcrypt hashes (plugins wrote them) with
	// password_verify.
	phpManualBcrypt = "$2y$10$.vGA1O9wmRjrwAVXD98HNOgsNpDczlqm3Jq7KnEd1rVAGv3Fykk1a"
	// A WordPress 6.8 hash (bcrypt cost 12) of 'grimoire-test-123',
	// published in a public project's requirements ("grimoire", milestone
	// M2.1, its "golden test vector") as verified against a live
	// wp_check_password. WordPress's own tests make their $wp$ hashes at
	// run time, so this is the one $wp$ vector not made here.
	wpGolden = "$wp$2y$12$iWN5xRwDE7i9R5jVJvCyqOxS1CNnwUggQaF8O2W9Bg8TuXQz.ngrS"
)

// wpHash is what WordPress 6.8's wp_hash_password writes for pw, made
// here with its algorithm (wp-includes/pluggable.php):
// '$wp' . password_hash(base64_encode(hash_hmac('sha384', trim($pw), 'wp-sha384', true)), PASSWORD_BCRYPT).
func wpHash(t *testing.T, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(wpPreHash(strings.TrimSpace(pw))), 10)
	if err != nil {
		t.Fatal(err)
	}
	return "$wp" + string(h)
}

func wpPreHash(pw string) string {
	m := hmac.New(sha512.New384, []byte("wp-sha384"))
	m.Write([]byte(pw))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// wpCheck is wp_check_password's "$wp" branch, as the test's own check of
// the hashes the connector writes.
func wpCheck(hash, pw string) bool {
	return strings.HasPrefix(hash, "$wp$2y$") &&
		bcrypt.CompareHashAndPassword([]byte(hash[3:]), []byte(wpPreHash(pw))) == nil
}

// wpUser is one seed row of wp_users and its profile usermeta.
type wpUser struct {
	key, login, email, pass, display, url string
	meta                                  map[string]string
}

var wpSteps = []step{
	{name: "login by user_login, phpass", fn: "login", input: `{"query":{"username":"admin"},"password":"test12345"}`,
		want: `{"id":"{{admin}}","username":"admin","email":"admin@example.com","name":"Site Admin","nickname":"boss",
			"givenName":"Ada","familyName":"Lovelace","website":"https://example.com","phone":null}`},
	{name: "login by user_email, any case", fn: "login", input: `{"query":{"email":"ADMIN@example.com"},"password":"test12345"}`,
		want: `{"id":"{{admin}}"}`},
	{name: "login by an email given as username", fn: "login",
		input: `{"query":{"username":"admin@example.com"},"password":"test12345"}`, want: `{"id":"{{admin}}"}`},
	{name: "login trims the password as wp_authenticate", fn: "login",
		input: `{"query":{"username":"admin"},"password":"  test12345\n"}`, want: `{"id":"{{admin}}"}`},
	{name: "login wrong password, phpass", fn: "login", input: `{"query":{"username":"admin"},"password":"test12346"}`,
		code: engine.CodeWrongPassword},
	{name: "login phpass, longer password", fn: "login", input: `{"query":{"username":"longer"},"password":"thisisalongertestPW"}`,
		want: `{"id":"{{longer}}","nickname":null}`},
	{name: "login md5", fn: "login", input: `{"query":{"email":"md5@example.org"},"password":"password"}`,
		want: `{"id":"{{md5}}"}`},
	{name: "login md5 wrong", fn: "login", input: `{"query":{"email":"md5@example.org"},"password":"Password"}`,
		code: engine.CodeWrongPassword},
	{name: "login plain bcrypt", fn: "login", input: `{"query":{"username":"plugin"},"password":"rasmuslerdorf"}`,
		want: `{"id":"{{plugin}}"}`},
	{name: "login WordPress 6.8 bcrypt", fn: "login", input: `{"query":{"username":"modern"},"password":"correct horse battery staple"}`,
		want: `{"id":"{{modern}}","email":"modern@example.net"}`},
	{name: "login WordPress 6.8 bcrypt wrong", fn: "login", input: `{"query":{"username":"modern"},"password":"correct horse"}`,
		code: engine.CodeWrongPassword},
	{name: "login published WordPress 6.8 vector", fn: "login",
		input: `{"query":{"email":"golden@example.net"},"password":"grimoire-test-123"}`, want: `{"id":"{{golden}}"}`},
	{name: "login without a password", fn: "login", input: `{"query":{"username":"nopass"},"password":""}`,
		code: engine.CodeWrongPassword, sameCallsAs: "login WordPress 6.8 bcrypt wrong"},
	{name: "login by phone", fn: "login", input: `{"query":{"phone":"+15550100"},"password":"x"}`, code: engine.CodeUserNotFound},
	{name: "login unknown", fn: "login", input: `{"query":{"username":"zoe"},"password":"x"}`, code: engine.CodeUserNotFound,
		sameCallsAs: "login WordPress 6.8 bcrypt wrong"},
	{name: "login unknown email", fn: "login", input: `{"query":{"email":"zoe@example.com"},"password":"x"}`, code: engine.CodeUserNotFound,
		sameCallsAs: "login WordPress 6.8 bcrypt wrong"},
	{name: "login empty query", fn: "login", input: `{"query":{},"password":"x"}`, code: engine.CodeInvalidInput},

	{name: "getUser by ID", fn: "getUser", input: `{"query":{"id":"{{longer}}"}}`,
		want: `{"id":"{{longer}}","username":"longer","email":"longer@example.com","name":"longer"}`},
	{name: "getUser by email", fn: "getUser", input: `{"query":{"email":"PLUGIN@example.org"}}`, want: `{"id":"{{plugin}}"}`},
	{name: "getUser unknown", fn: "getUser", input: `{"query":{"username":"zoe"}}`, want: `null`},
	{name: "getUser malformed id", fn: "getUser", input: `{"query":{"id":"-1"}}`, want: `null`},

	{name: "searchUser by display name", fn: "searchUser", input: `{"keyword":"site adm","page":1,"limit":10}`,
		want: `{"totalCount":1,"list":[{"id":"{{admin}}","nickname":"boss"}]}`},
	{name: "searchUser by domain", fn: "searchUser", input: `{"keyword":"example.org","page":1,"limit":10}`,
		want: `{"totalCount":2,"list":[{"id":"{{md5}}"},{"id":"{{plugin}}"}]}`},
	{name: "searchUser underscore is literal", fn: "searchUser", input: `{"keyword":"_","page":1,"limit":10}`,
		want: `{"totalCount":0,"list":[]}`},
	{name: "listUsers", fn: "listUsers", input: `{"page":2,"limit":4}`,
		want: `{"totalCount":7,"list":[{"id":"{{modern}}"},{"id":"{{nopass}}"},{"id":"{{golden}}"}]}`},
	{name: "validatePassword", fn: "validatePassword", input: `{"id":"{{modern}}","password":"correct horse battery staple"}`, want: `true`},
	{name: "validatePassword wrong", fn: "validatePassword", input: `{"id":"{{admin}}","password":"nope"}`, want: `false`},
	{name: "validatePassword unknown", fn: "validatePassword", input: `{"id":"424242","password":"x"}`, code: engine.CodeUserNotFound},

	{name: "createUser", fn: "createUser", save: "erin",
		input: `{"user":{"username":"erin","email":"erin@example.com","name":"Erin E.","givenName":"Erin","website":"https://erin.example",
			"password":" s3cret! "}}`,
		want: `{"username":"erin","email":"erin@example.com","name":"Erin E.","givenName":"Erin","nickname":"erin",
			"website":"https://erin.example","familyName":null}`},
	{name: "created user logs in", fn: "login", input: `{"query":{"email":"erin@example.com"},"password":"s3cret!"}`,
		want: `{"id":"{{erin}}"}`},
	{name: "createUser by email only", fn: "createUser", save: "frank", input: `{"user":{"email":"frank@example.com"}}`,
		want: `{"username":"frank@example.com","email":"frank@example.com","name":"frank@example.com"}`},
	{name: "createUser taken login", fn: "createUser", input: `{"user":{"username":"ADMIN","password":"x"}}`,
		code: engine.CodeUserExists},
	{name: "createUser taken email", fn: "createUser", input: `{"user":{"username":"admin2","email":"Admin@Example.com"}}`,
		code: engine.CodeUserExists},
	{name: "createUser without login or email", fn: "createUser", input: `{"user":{"phone":"+15550100"}}`,
		code: engine.CodeInvalidInput},

	{name: "updateUser profile and meta", fn: "updateUser",
		input: `{"id":"{{erin}}","updates":{"nickname":"E","familyName":"Example","givenName":"","name":"Erin Example"}}`,
		want:  `{"id":"{{erin}}","nickname":"E","familyName":"Example","givenName":null,"name":"Erin Example","email":"erin@example.com"}`},
	{name: "updateUser password", fn: "updateUser", input: `{"id":"{{admin}}","updates":{"password":"n3w pass"}}`,
		want: `{"id":"{{admin}}","nickname":"boss"}`},
	{name: "old phpass password no longer works", fn: "login", input: `{"query":{"username":"admin"},"password":"test12345"}`,
		code: engine.CodeWrongPassword},
	{name: "new password works", fn: "login", input: `{"query":{"username":"admin"},"password":"n3w pass"}`,
		want: `{"id":"{{admin}}"}`},
	{name: "updateUser taken email", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"email":"md5@example.org"}}`,
		code: engine.CodeUserExists},
	{name: "updateUser unknown", fn: "updateUser", input: `{"id":"424242","updates":{"nickname":"x"}}`,
		code: engine.CodeUserNotFound},

	{name: "deleteUser", fn: "deleteUser", input: `{"id":"{{frank}}"}`, want: `true`},
	{name: "deleted user is gone", fn: "getUser", input: `{"query":{"id":"{{frank}}"}}`, want: `null`},
	{name: "deleteUser again", fn: "deleteUser", input: `{"id":"{{frank}}"}`, code: engine.CodeUserNotFound},
}

func TestWordPress(t *testing.T) {
	t.Parallel()
	f := wpFixture(t)
	f.steps = wpSteps
	runSuite(t, f)
}

// TestWordPressConcurrentCreate checks that createUser calls racing with
// one login, or one email, create one user and one set of usermeta rows
// (wp_users has no unique index on either): the insert is conditional.
func TestWordPressConcurrentCreate(t *testing.T) {
	t.Parallel()
	f := wpFixture(t)
	prefix := f.env["TABLE_PREFIX"]
	h, _ := manager.Host(f.conn)
	count := func(t *testing.T, q string, args ...any) string {
		var out struct{ Rows [][]json.Number }
		if err := json.Unmarshal(sqlCall(t, h, "sql.query", q, args...), &out); err != nil || len(out.Rows) != 1 {
			t.Fatalf("%s: %v", q, err)
		}
		return out.Rows[0][0].String()
	}
	const n = 6
	for _, tc := range []struct{ name, user, where string }{
		{"one login", `{"user":{"username":"racer","email":"racer%d@example.com"}}`, "user_login = 'racer'"},
		{"one email", `{"user":{"username":"racer%d","email":"race@example.com"}}`, "user_email = 'race@example.com'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			metaBefore := count(t, "SELECT count(*) FROM "+prefix+"usermeta")
			var inputs []string
			for i := range n {
				inputs = append(inputs, fmt.Sprintf(tc.user, i))
			}
			created, exists := createConcurrently(t, f, inputs)
			if created != 1 || exists != n-1 {
				t.Fatalf("%d created, %d user_exists; want 1 and %d", created, exists, n-1)
			}
			if got := count(t, "SELECT count(*) FROM "+prefix+"users WHERE "+tc.where); got != "1" {
				t.Fatalf("%s users, want 1", got)
			}
			metaAfter := count(t, "SELECT count(*) FROM "+prefix+"usermeta")
			if b, a := json.Number(metaBefore), json.Number(metaAfter); mustInt(t, a)-mustInt(t, b) != 5 {
				t.Fatalf("usermeta rows %s -> %s, want the 5 of one user", b, a)
			}
		})
	}
}

// TestWordPressMultisite runs the template on a multisite network's
// users table (the spam and deleted columns install_network adds, found
// in information_schema): a user marked spam or deleted is blocked and
// cannot log in; the others can, unblocked.
func TestWordPressMultisite(t *testing.T) {
	t.Parallel()
	f := wpFixture(t)
	prefix := f.env["TABLE_PREFIX"]
	h, _ := manager.Host(f.conn)
	// wp-admin/includes/schema.php, install_network().
	sqlCall(t, h, "sql.exec", "ALTER TABLE "+prefix+"users ADD spam tinyint(2) NOT NULL default '0', ADD deleted tinyint(2) NOT NULL default '0'")
	sqlCall(t, h, "sql.exec", "UPDATE "+prefix+"users SET spam = 1 WHERE ID = ?", f.ids["modern"])
	sqlCall(t, h, "sql.exec", "UPDATE "+prefix+"users SET deleted = 1 WHERE ID = ?", f.ids["golden"])
	f.steps = []step{
		{name: "a spam user cannot log in", fn: "login",
			input: `{"query":{"username":"modern"},"password":"correct horse battery staple"}`, code: engine.CodeWrongPassword},
		{name: "a deleted user cannot log in", fn: "login",
			input: `{"query":{"email":"golden@example.net"},"password":"grimoire-test-123"}`, code: engine.CodeWrongPassword},
		{name: "a spam user is blocked", fn: "getUser", input: `{"query":{"id":"{{modern}}"}}`,
			want: `{"id":"{{modern}}","blocked":true}`},
		{name: "others log in", fn: "login", input: `{"query":{"username":"admin"},"password":"test12345"}`,
			want: `{"id":"{{admin}}","blocked":null}`},
		{name: "listUsers shows who is blocked", fn: "listUsers", input: `{"page":2,"limit":4}`,
			want: `{"totalCount":7,"list":[{"id":"{{modern}}","blocked":true},{"id":"{{nopass}}","blocked":null},{"id":"{{golden}}","blocked":true}]}`},
	}
	f.after = func(t *testing.T, ids map[string]string) {}
	runSuite(t, f)
}

func mustInt(t *testing.T, n json.Number) int64 {
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// wpFixture creates WordPress's tables (examples/wordpress/schema.sql,
// under a unique TABLE_PREFIX) on the test MySQL and seeds them with users
// whose hashes are the published vectors above.
func wpFixture(t *testing.T) fixture {
	prefix := uniqueName("wp") + "_"
	conn := loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: "wordpress", ConfigVersion: 1, DBType: "mysql",
		URI: dsns["mysql"], Allowlist: []string{"127.0.0.1"}})
	h, err := manager.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "wordpress", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlCall(t, h, "sql.exec", "DROP TABLE IF EXISTS "+prefix+"users, "+prefix+"usermeta") })
	for _, stmt := range sqlStatements(regexp.MustCompile(`\bwp_`).ReplaceAllString(string(schema), prefix), "users") {
		sqlCall(t, h, "sql.exec", stmt)
	}
	users := []wpUser{
		{key: "admin", login: "admin", email: "admin@example.com", pass: phpassTest12345, display: "Site Admin", url: "https://example.com",
			meta: map[string]string{"nickname": "boss", "first_name": "Ada", "last_name": "Lovelace"}},
		{key: "longer", login: "longer", email: "longer@example.com", pass: phpassLonger, display: "longer"},
		{key: "md5", login: "md5user", email: "md5@example.org", pass: md5Password, display: "md5user"},
		{key: "plugin", login: "plugin", email: "plugin@example.org", pass: phpManualBcrypt, display: "plugin"},
		{key: "modern", login: "modern", email: "modern@example.net", pass: wpHash(t, "correct horse battery staple"), display: "modern"},
		{key: "nopass", login: "nopass", email: "nopass@example.net", pass: "", display: "nopass"},
		{key: "golden", login: "golden", email: "golden@example.net", pass: wpGolden, display: "golden"},
	}
	ids := map[string]string{}
	for _, u := range users {
		var out struct{ LastInsertID int64 }
		res := sqlCall(t, h, "sql.exec", "INSERT INTO "+prefix+`users (user_login, user_pass, user_nicename, user_email,
			user_url, user_registered, display_name) VALUES (?, ?, ?, ?, ?, '2019-04-01 10:00:00', ?)`,
			u.login, u.pass, u.login, u.email, u.url, u.display)
		if err := json.Unmarshal(res, &out); err != nil {
			t.Fatal(err)
		}
		ids[u.key] = fmt.Sprint(out.LastInsertID)
		for k, v := range u.meta {
			sqlCall(t, h, "sql.exec", "INSERT INTO "+prefix+"usermeta (user_id, meta_key, meta_value) VALUES (?, ?, ?)", out.LastInsertID, k, v)
		}
	}
	meta := func(t *testing.T, id, key string) []string {
		res := sqlCall(t, h, "sql.query", "SELECT meta_value FROM "+prefix+"usermeta WHERE user_id = ? AND meta_key = ?", id, key)
		var out struct{ Rows [][]string }
		if err := json.Unmarshal(res, &out); err != nil {
			t.Fatal(err)
		}
		var vals []string
		for _, r := range out.Rows {
			vals = append(vals, r[0])
		}
		return vals
	}
	pass := func(t *testing.T, id string) string {
		res := sqlCall(t, h, "sql.query", "SELECT user_pass FROM "+prefix+"users WHERE ID = ?", id)
		var out struct{ Rows [][]string }
		if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
			t.Fatalf("user_pass of %s: %s (%v)", id, res, err)
		}
		return out.Rows[0][0]
	}
	return fixture{
		example: "wordpress", conn: conn, env: map[string]string{"TABLE_PREFIX": prefix}, ids: ids,
		after: func(t *testing.T, ids map[string]string) {
			// WordPress 6.8 itself must accept what the connector wrote.
			if h := pass(t, ids["erin"]); !wpCheck(h, "s3cret!") {
				t.Errorf("erin's user_pass %q is not a WordPress 6.8 hash of the trimmed password", h)
			}
			if h := pass(t, ids["admin"]); !wpCheck(h, "n3w pass") {
				t.Errorf("admin's new user_pass %q is not a WordPress 6.8 hash", h)
			}
			if h, err := bcrypt.Cost([]byte(pass(t, ids["erin"])[3:])); err != nil || h != 10 {
				t.Errorf("bcrypt cost %d, %v; want 10", h, err)
			}
			if got := meta(t, ids["erin"], prefix+"capabilities"); len(got) != 1 || got[0] != `a:1:{s:10:"subscriber";b:1;}` {
				t.Errorf("capabilities %q", got)
			}
			if got := meta(t, ids["erin"], "nickname"); len(got) != 1 || got[0] != "E" {
				t.Errorf("nickname rows %q, want one", got)
			}
			if got := meta(t, ids["erin"], "first_name"); len(got) != 0 {
				t.Errorf("first_name rows %q, want none after clearing", got)
			}
			if got := meta(t, ids["frank"], "nickname"); len(got) != 0 {
				t.Errorf("deleted user's usermeta %q remains", got)
			}
		},
	}
}
