package examplestest

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// Published Django password hashes, all of the password "lètmein".
const (
	// Django's own test suite, tests/auth_tests/test_hashers.py,
	// TestUtilsHashPass.test_pbkdf2 (Django 4.1: 390,000 iterations;
	// django/django at 02dbf1667c6da61ea9346f7c9f174a158b896811).
	djangoPBKDF2 = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c="
	// The same test in Django 3.2 (260,000 iterations), as the
	// djangohashers crate's tests reproduce it.
	djangoPBKDF2v32 = "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="
	// test_sha1 and test_md5 of the same Django file: the legacy hashers
	// old projects still hold.
	djangoSHA1 = "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8"
	djangoMD5  = "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3"
	// An unusable password (set_unusable_password): "!" and 40 characters.
	djangoUnusable = "!Xk3mQ9vLr2pT8sW4yB6nC1dF5gH7jK0aZeRuIoP"
)

// djangoUser is one seed row of auth_user.
type djangoUser struct {
	key, username, email, password, first, last string
	staff, active                               bool
}

var djangoSteps = []step{
	{name: "login by username, Django 4.1 pbkdf2", fn: "login", input: `{"query":{"username":"ada"},"password":"lètmein"}`,
		want: `{"id":"{{ada}}","username":"ada","email":"ada@example.com","givenName":"Ada","familyName":"Lovelace",
			"name":"Ada Lovelace","blocked":null,"customData":{"isStaff":true,"isSuperuser":false,"lastLogin":null}}`},
	{name: "login by email ignores case", fn: "login", input: `{"query":{"email":"Ada@EXAMPLE.com"},"password":"lètmein"}`,
		want: `{"id":"{{ada}}"}`},
	{name: "login wrong password", fn: "login", input: `{"query":{"username":"ada"},"password":"lètmeinz"}`,
		code: engine.CodeWrongPassword},
	{name: "username is case-sensitive", fn: "login", input: `{"query":{"username":"Ada"},"password":"lètmein"}`,
		code: engine.CodeUserNotFound, sameCallsAs: "login wrong password"},
	{name: "login Django 3.2 pbkdf2", fn: "login", input: `{"query":{"username":"grace"},"password":"lètmein"}`,
		want: `{"id":"{{grace}}","name":"Grace","familyName":null,"customData":{"isStaff":false}}`},
	{name: "login legacy sha1", fn: "login", input: `{"query":{"username":"old_sha1"},"password":"lètmein"}`,
		want: `{"id":"{{sha1}}","email":null,"name":null}`},
	{name: "login legacy md5", fn: "login", input: `{"query":{"username":"old_md5"},"password":"lètmein"}`,
		want: `{"id":"{{md5}}"}`},
	{name: "login inactive user", fn: "login", input: `{"query":{"username":"gone"},"password":"lètmein"}`,
		code: engine.CodeWrongPassword},
	{name: "login unusable password", fn: "login", input: `{"query":{"username":"sso"},"password":""}`,
		code: engine.CodeWrongPassword, sameCallsAs: "login wrong password"},
	{name: "login by a shared email names no one", fn: "login", input: `{"query":{"email":"twin@example.com"},"password":"x"}`,
		code: engine.CodeUserNotFound, sameCallsAs: "login wrong password"},
	{name: "login by phone", fn: "login", input: `{"query":{"phone":"+15550100"},"password":"x"}`, code: engine.CodeUserNotFound},
	{name: "login empty query", fn: "login", input: `{"query":{},"password":"x"}`, code: engine.CodeInvalidInput},

	{name: "getUser by id", fn: "getUser", input: `{"query":{"id":"{{grace}}"}}`, want: `{"id":"{{grace}}","username":"grace"}`},
	{name: "getUser inactive user is blocked", fn: "getUser", input: `{"query":{"username":"gone"}}`,
		want: `{"id":"{{gone}}","blocked":true}`},
	{name: "getUser by email", fn: "getUser", input: `{"query":{"email":"GRACE@example.com"}}`, want: `{"id":"{{grace}}"}`},
	{name: "getUser by a shared email", fn: "getUser", input: `{"query":{"email":"twin@example.com"}}`, code: engine.CodeInvalidInput},
	{name: "getUser id past the column", fn: "getUser", input: `{"query":{"id":"2147483648"}}`, want: `null`},
	{name: "getUser unknown", fn: "getUser", input: `{"query":{"username":"zoe"}}`, want: `null`},

	{name: "searchUser by last name", fn: "searchUser", input: `{"keyword":"LOVE","page":1,"limit":10}`,
		want: `{"totalCount":1,"list":[{"id":"{{ada}}"}]}`},
	{name: "searchUser underscore is literal", fn: "searchUser", input: `{"keyword":"d_","page":1,"limit":10}`,
		want: `{"totalCount":2,"list":[{"id":"{{sha1}}"},{"id":"{{md5}}"}]}`},
	{name: "listUsers", fn: "listUsers", input: `{"page":3,"limit":3}`,
		want: `{"totalCount":8,"list":[{"id":"{{twin1}}"},{"id":"{{twin2}}"}]}`},
	{name: "validatePassword", fn: "validatePassword", input: `{"id":"{{ada}}","password":"lètmein"}`, want: `true`},
	{name: "validatePassword of an inactive user", fn: "validatePassword", input: `{"id":"{{gone}}","password":"lètmein"}`, want: `true`},
	{name: "validatePassword unusable", fn: "validatePassword", input: `{"id":"{{sso}}","password":""}`, want: `false`},
	{name: "validatePassword unknown", fn: "validatePassword", input: `{"id":"424242","password":"x"}`, code: engine.CodeUserNotFound},

	{name: "createUser", fn: "createUser", save: "erin",
		input: `{"user":{"username":"erin","email":"erin@example.com","givenName":"Erin","familyName":"Example","password":"s3cret!"}}`,
		want:  `{"username":"erin","email":"erin@example.com","name":"Erin Example","blocked":null,"customData":{"isStaff":false}}`},
	{name: "created user logs in", fn: "login", input: `{"query":{"email":"erin@example.com"},"password":"s3cret!"}`,
		want: `{"id":"{{erin}}"}`},
	{name: "createUser by email, no password", fn: "createUser", save: "frank", input: `{"user":{"email":"frank@example.com"}}`,
		want: `{"username":"frank@example.com","email":"frank@example.com","givenName":null}`},
	{name: "createUser blocked", fn: "createUser", save: "hal",
		input: `{"user":{"username":"hal","password":"open the pod bay doors","blocked":true}}`, want: `{"blocked":true}`},
	{name: "blocked user cannot log in", fn: "login", input: `{"query":{"username":"hal"},"password":"open the pod bay doors"}`,
		code: engine.CodeWrongPassword},
	{name: "createUser taken username", fn: "createUser", input: `{"user":{"username":"ada","password":"x"}}`,
		code: engine.CodeUserExists},
	{name: "createUser taken email", fn: "createUser", input: `{"user":{"username":"ada2","email":"ADA@example.com"}}`,
		code: engine.CodeUserExists},
	{name: "createUser without username or email", fn: "createUser", input: `{"user":{"phone":"+15550100"}}`,
		code: engine.CodeInvalidInput},

	{name: "updateUser activates", fn: "updateUser", input: `{"id":"{{hal}}","updates":{"blocked":false,"givenName":"HAL"}}`,
		want: `{"id":"{{hal}}","blocked":null,"givenName":"HAL","name":"HAL"}`},
	{name: "activated user logs in", fn: "login", input: `{"query":{"username":"hal"},"password":"open the pod bay doors"}`,
		want: `{"id":"{{hal}}"}`},
	{name: "updateUser password", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"password":"n3w-pass","familyName":""}}`,
		want: `{"id":"{{erin}}","familyName":null,"name":"Erin"}`},
	{name: "old password no longer works", fn: "login", input: `{"query":{"username":"erin"},"password":"s3cret!"}`,
		code: engine.CodeWrongPassword},
	{name: "new password works", fn: "validatePassword", input: `{"id":"{{erin}}","password":"n3w-pass"}`, want: `true`},
	{name: "updateUser taken username", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"username":"grace"}}`,
		code: engine.CodeUserExists},
	{name: "updateUser taken email", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"email":"grace@example.com"}}`,
		code: engine.CodeUserExists},
	{name: "updateUser unknown", fn: "updateUser", input: `{"id":"424242","updates":{"givenName":"x"}}`,
		code: engine.CodeUserNotFound},

	{name: "deleteUser", fn: "deleteUser", input: `{"id":"{{frank}}"}`, want: `true`},
	{name: "deleted user is gone", fn: "getUser", input: `{"query":{"id":"{{frank}}"}}`, want: `null`},
	{name: "deleteUser again", fn: "deleteUser", input: `{"id":"{{frank}}"}`, code: engine.CodeUserNotFound},
}

func TestDjango(t *testing.T) {
	t.Parallel()
	f := djangoFixture(t)
	f.steps = djangoSteps
	runSuite(t, f)
}

// TestDjangoConcurrentCreate checks that createUser calls racing with one
// email (auth_user has no unique index on it) create one user: the
// insert is conditional, under an advisory lock on the email.
func TestDjangoConcurrentCreate(t *testing.T) {
	t.Parallel()
	f := djangoFixture(t)
	const n = 6
	var inputs []string
	for i := range n {
		inputs = append(inputs, fmt.Sprintf(`{"user":{"username":"racer%d","email":"Race@example.com"}}`, i))
	}
	created, exists := createConcurrently(t, f, inputs)
	if created != 1 || exists != n-1 {
		t.Fatalf("%d created, %d user_exists; want 1 and %d", created, exists, n-1)
	}
	h, _ := manager.Host(f.conn)
	res := sqlCall(t, h, "sql.query", "SELECT count(*) FROM "+f.env["USERS_TABLE"]+" WHERE upper(email) = 'RACE@EXAMPLE.COM'")
	if !strings.Contains(string(res), `"rows":[[1]]`) {
		t.Fatalf("users with the email: %s, want 1", res)
	}
}

// djangoFixture creates Django's auth_user (examples/django/schema.sql,
// under a unique name) on the test PostgreSQL, seeded with users whose
// hashes are Django's published vectors.
func djangoFixture(t *testing.T) fixture {
	table := uniqueName("auth_user")
	conn := loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: "django", ConfigVersion: 1, DBType: "postgres",
		URI: dsns["postgres"], Allowlist: []string{"127.0.0.1"}})
	h, err := manager.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	schema, err := os.ReadFile(filepath.Join("..", "..", "examples", "django", "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlCall(t, h, "sql.exec", "DROP TABLE IF EXISTS "+table) })
	for _, stmt := range sqlStatements(regexp.MustCompile(`\bauth_user`).ReplaceAllString(string(schema), table), "users") {
		sqlCall(t, h, "sql.exec", stmt)
	}
	users := []djangoUser{
		{key: "ada", username: "ada", email: "ada@example.com", password: djangoPBKDF2, first: "Ada", last: "Lovelace", staff: true, active: true},
		{key: "grace", username: "grace", email: "grace@example.com", password: djangoPBKDF2v32, first: "Grace", active: true},
		{key: "sha1", username: "old_sha1", password: djangoSHA1, active: true},
		{key: "md5", username: "old_md5", password: djangoMD5, active: true},
		{key: "gone", username: "gone", email: "gone@example.com", password: djangoPBKDF2, active: false},
		{key: "sso", username: "sso", email: "sso@example.com", password: djangoUnusable, active: true},
		{key: "twin1", username: "twin1", email: "twin@example.com", password: djangoUnusable, active: true},
		{key: "twin2", username: "twin2", email: "Twin@example.com", password: djangoUnusable, active: true},
	}
	ids := map[string]string{}
	for _, u := range users {
		res := sqlCall(t, h, "sql.query", "INSERT INTO "+table+` (password, is_superuser, username, first_name, last_name,
			email, is_staff, is_active, date_joined) VALUES ($1, false, $2, $3, $4, $5, $6, $7, '2020-01-02T03:04:05Z') RETURNING id`,
			u.password, u.username, u.first, u.last, u.email, u.staff, u.active)
		var out struct{ Rows [][]json.Number }
		if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
			t.Fatalf("insert: %s (%v)", res, err)
		}
		ids[u.key] = out.Rows[0][0].String()
	}
	stored := func(t *testing.T, id string) (hash string, active bool) {
		res := sqlCall(t, h, "sql.query", "SELECT password, is_active FROM "+table+" WHERE id = $1", id)
		var out struct{ Rows [][]any }
		if err := json.Unmarshal(res, &out); err != nil || len(out.Rows) != 1 {
			t.Fatalf("password of %s: %s (%v)", id, res, err)
		}
		return out.Rows[0][0].(string), out.Rows[0][1].(bool)
	}
	return fixture{
		example: "django", conn: conn, env: map[string]string{"USERS_TABLE": table}, ids: ids,
		after: func(t *testing.T, ids map[string]string) {
			// Django itself must accept what the connector wrote: check it
			// as PBKDF2PasswordHasher.verify does.
			hash, active := stored(t, ids["erin"])
			if !djangoVerify(t, hash, "n3w-pass") || !active {
				t.Errorf("erin: password %q (active %v) is not a Django pbkdf2_sha256 hash of the new password", hash, active)
			}
			if hash, _ := stored(t, ids["hal"]); !djangoVerify(t, hash, "open the pod bay doors") {
				t.Errorf("hal: password %q", hash)
			}
		},
	}
}

// djangoVerify checks pw against a pbkdf2_sha256$<iterations>$<salt>$<b64> hash.
func djangoVerify(t *testing.T, hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2_sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 600000 {
		t.Errorf("iterations %q, want at least Django 4.2's 600000", parts[1])
		return false
	}
	key, err := pbkdf2.Key(sha256.New, pw, []byte(parts[2]), iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(key) == parts[3]
}
