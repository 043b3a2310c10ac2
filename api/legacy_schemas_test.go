package api_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"strconv"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// Lazy migration end to end through the HTTP API from the real schemas
// of two products, with the connectors of examples/wordpress and
// examples/django and password hashes those projects publish
// (internal/examplestest runs every function of both and cites each
// vector's source).

// schemaStatements splits a schema file into statements, without comments.
func schemaStatements(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			lines = append(lines, l)
		}
	}
	var stmts []string
	for _, s := range strings.Split(strings.Join(lines, "\n"), ";") {
		if s = strings.TrimSpace(s); s != "" {
			stmts = append(stmts, s)
		}
	}
	return stmts
}

// wordpressDB creates a MySQL database holding WordPress's tables
// (examples/wordpress/schema.sql), dropped when t ends; it returns the
// database handle and the connection URI.
func wordpressDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	dsn := os.Getenv("SLUICE_TEST_MYSQL_DSN")
	if dsn == "" {
		dsn = "root@tcp(127.0.0.1:3306)/test"
	}
	root, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { root.Close() })
	suffix := make([]byte, 6)
	rand.Read(suffix)
	name := "sluice_wp_" + hex.EncodeToString(suffix)
	execSQL(t, root, "CREATE DATABASE "+name)
	t.Cleanup(func() { root.Exec("DROP DATABASE " + name) })
	dbDSN := strings.Replace(dsn, "/test", "/"+name, 1)
	db, err := sql.Open("mysql", dbDSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	execSQL(t, db, schemaStatements(t, "../examples/wordpress/schema.sql")...)
	return db, "mysql://root@127.0.0.1:3306/" + name
}

func TestWordPressLazyMigration(t *testing.T) {
	db, uri := wordpressDB(t)
	insert := func(login, email, pass string) string {
		t.Helper()
		r, err := db.Exec(`INSERT INTO wp_users (user_login, user_pass, user_nicename, user_email, user_registered, display_name)
			VALUES (?, ?, ?, ?, '2019-04-01 10:00:00', ?)`, login, pass, login, email, login)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := r.LastInsertId()
		execSQL(t, db, "INSERT INTO wp_usermeta (user_id, meta_key, meta_value) VALUES ("+strconv.FormatInt(id, 10)+", 'nickname', 'nick-"+login+"')")
		return strconv.FormatInt(id, 10)
	}
	// phpass's own test vector (Openwall phpass 0.3 test.php), and
	// md5('password') (WordPress's tests/phpunit/tests/auth.php).
	adminID := insert("admin", "admin@example.com", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0")
	md5ID := insert("md5user", "md5@example.org", "5f4dcc3b5aa765d61d8327deb882cf99")

	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("wp-site")
	e.grantLoopback(tenant)
	e.req("PUT", "/v1/connections/wp", key, map[string]any{
		"mode": "LAZY_MIGRATION", "dbType": "mysql", "connection": map[string]any{"uri": uri},
		"egressAllowlist": []string{"127.0.0.1:3306"},
	}).must(t, 201)
	e.upload(key, "wp", wasmbuild.Test(t, "../examples/wordpress"), "").must(t, 201)
	login := func(account, pw string) *resp {
		return e.req("POST", "/v1/connections/wp/login", key, map[string]any{"account": account, "password": pw})
	}

	u := login("admin", "test12345").must(t, 200).json(t)["user"].(map[string]any)
	if u["externalId"] != adminID || u["username"] != "admin" || u["email"] != "admin@example.com" || u["nickname"] != "nick-admin" {
		t.Fatalf("migrated user %v", u)
	}
	if u := login("md5@example.org", "password").must(t, 200).json(t)["user"].(map[string]any); u["externalId"] != md5ID {
		t.Fatalf("migrated md5 user %v", u)
	}
	login("md5@example.org", "Password").must(t, 401)
	login("nobody", "test12345").must(t, 401)
	// Once migrated, Sluice decides: the legacy hash no longer matters.
	execSQL(t, db, "UPDATE wp_users SET user_pass = '$P$BxxxxxxxxxxxxxxxxxxxxxxxxxxxxxX' WHERE ID = "+adminID)
	login("admin@example.com", "test12345").must(t, 200)
	if users := e.localUsers(tenant, "wp"); len(users) != 2 {
		t.Fatalf("local users %+v, want the two migrated", users)
	}
}

func TestDjangoLazyMigration(t *testing.T) {
	uri := testpg.Schema(t, "django")
	db := legacyDB(t, uri)
	execSQL(t, db, schemaStatements(t, "../examples/django/schema.sql")...)
	insert := func(username, email, pass string, active bool) string {
		t.Helper()
		var id int64
		if err := db.QueryRow(`INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,
			is_staff, is_active, date_joined) VALUES ($1, false, $2, 'Ada', 'Lovelace', $3, false, $4, now()) RETURNING id`,
			pass, username, email, active).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(id, 10)
	}
	// Django's tests/auth_tests/test_hashers.py, test_pbkdf2 (Django 4.1): "lètmein".
	const vector = "pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c="
	adaID := insert("ada", "ada@example.com", vector, true)
	insert("gone", "gone@example.com", vector, false)

	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("dj-site")
	e.grantLoopback(tenant)
	e.putConn(key, "dj", legacyCfg{uri: uri})
	e.upload(key, "dj", wasmbuild.Test(t, "../examples/django"), "").must(t, 201)
	login := func(account, pw string) *resp {
		return e.req("POST", "/v1/connections/dj/login", key, map[string]any{"account": account, "password": pw})
	}

	login("ada", "lètmeinz").must(t, 401)
	u := login("ada", "lètmein").must(t, 200).json(t)["user"].(map[string]any)
	if u["externalId"] != adaID || u["username"] != "ada" || u["givenName"] != "Ada" || u["name"] != "Ada Lovelace" {
		t.Fatalf("migrated user %v", u)
	}
	// is_active false: Django's ModelBackend refuses the user, and so does the migration.
	login("gone", "lètmein").must(t, 401)
	login("gone@example.com", "lètmein").must(t, 401)
	// Once migrated, Sluice decides: deactivating the legacy row no longer matters.
	execSQL(t, db, "UPDATE auth_user SET is_active = false, password = '!' WHERE id = "+adaID)
	login("ada@example.com", "lètmein").must(t, 200)
	if users := e.localUsers(tenant, "dj"); len(users) != 1 {
		t.Fatalf("local users %+v, want ada only", users)
	}
}
