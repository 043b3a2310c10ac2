package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// The lazy-migration threat model (docs/lazy-migration.md), case by case,
// through the HTTP API on a real legacy PostgreSQL table and the real
// examples/postgres connector.

func pgWasm(t testing.TB) []byte        { return wasmbuild.Test(t, "../examples/postgres") }
func loginOnlyWasm(t testing.TB) []byte { return wasmbuild.Test(t, "testdata/loginonly") }

// legacyDB opens the legacy schema uri names, for the test to change the
// legacy side behind the connector's back.
func legacyDB(t *testing.T, uri string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", uri)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func execSQL(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// legacyCfg is a LAZY_MIGRATION connection to the legacy database.
type legacyCfg struct {
	uri      string
	env      map[string]any
	disabled bool
	// allow replaces the egress allowlist (default: the test PostgreSQL).
	allow []string
}

func (c legacyCfg) body() map[string]any {
	allow := c.allow
	if allow == nil {
		allow = []string{"127.0.0.1:5432"}
	}
	b := map[string]any{
		"mode": "LAZY_MIGRATION", "dbType": "postgres", "connection": map[string]any{"uri": c.uri},
		"egressAllowlist": allow, "enabled": !c.disabled,
	}
	if c.env != nil {
		b["env"] = c.env
	}
	return b
}

func (e *env) putConn(key, name string, c legacyCfg) {
	e.t.Helper()
	r := e.req("PUT", "/v1/connections/"+name, key, c.body())
	if r.status != 200 && r.status != 201 {
		e.t.Fatalf("PUT connection %s: %d %s", name, r.status, r.body)
	}
}

func (e *env) setTimeout(tenant string, ms int) {
	e.t.Helper()
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken, map[string]any{"timeoutMs": ms}).must(e.t, 200)
}

func errDetail(t *testing.T, r *resp, name string) string {
	t.Helper()
	d, _ := r.json(t)["error"].(map[string]any)["details"].(map[string]any)
	s, _ := d[name].(string)
	return s
}

// lastAudit is the newest audit entry of action on subject.
func (e *env) lastAudit(tenant, conn, action, subject string) (store.AuditEntry, bool) {
	e.t.Helper()
	entries, err := e.store.ListAudit(context.Background(), tenant, store.AuditQuery{Limit: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	var last store.AuditEntry
	found := false
	for _, a := range entries {
		if a.Connection == conn && a.Action == action && a.Subject == subject && (!found || a.ID > last.ID) {
			last, found = a, true
		}
	}
	return last, found
}

func (e *env) mustAudit(tenant, conn, action, subject, code string) {
	e.t.Helper()
	a, ok := e.lastAudit(tenant, conn, action, subject)
	if !ok || a.Code != code {
		e.t.Fatalf("audit of %s %s on %s: %+v (found %v), want code %q", action, subject, conn, a, ok, code)
	}
}

// accountSubject is the audit subject of a login by account.
func accountSubject(account string) string {
	switch {
	case strings.Contains(account, "@"):
		return "email:" + account
	case strings.HasPrefix(account, "+"):
		return "phone:" + account
	}
	return "username:" + account
}

func (e *env) localUsers(tenant, conn string) []store.User {
	e.t.Helper()
	users, _, err := e.store.ListUsers(context.Background(), tenant, conn, 1, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return users
}

// TestLazyRegistrationFailsClosed: while the connector cannot say
// whether a legacy user exists, nobody can register (or create, or rename
// a local user to) that user's email; once the connector is back, the
// legacy user's legacy password works and the attacker's does not.
func TestLazyRegistrationFailsClosed(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	execSQL(t, legacyDB(t, uri),
		// getUser on this table sleeps past the tenant's timeout.
		`CREATE VIEW slow_getuser AS SELECT * FROM users WHERE EXISTS (SELECT 1 FROM pg_sleep(3))`)
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	const victim, legacyPW, attackerPW = "user1@legacy.example.com", testpg.Password, "attacker-password"
	healthy := legacyCfg{uri: uri}

	tests := []struct {
		name  string
		setup func(conn string) // a broken connection
		cause string
		// repair makes the connection healthy again.
		repair func(conn string)
	}{
		{"no active version", func(conn string) { e.putConn(key, conn, healthy) }, "not_implemented",
			func(conn string) { e.upload(key, conn, pgWasm(t), "").must(t, 201) }},
		{"getUser not implemented", func(conn string) {
			e.putConn(key, conn, healthy)
			// force: a version that cannot serve the mode is activated only so.
			e.upload(key, conn, loginOnlyWasm(t), "?force=true").must(t, 201)
		}, "not_implemented",
			func(conn string) { e.upload(key, conn, pgWasm(t), "?activate=true").must(t, 201) }},
		{"connection disabled", func(conn string) {
			e.putConn(key, conn, healthy)
			e.upload(key, conn, pgWasm(t), "").must(t, 201)
			e.putConn(key, conn, legacyCfg{uri: uri, disabled: true})
		}, "connection_disabled",
			func(conn string) { e.putConn(key, conn, healthy) }},
		{"getUser errors", func(conn string) {
			e.putConn(key, conn, legacyCfg{uri: uri, env: map[string]any{"USERS_TABLE": "no_such_table"}})
			e.upload(key, conn, pgWasm(t), "").must(t, 201)
		}, "connector_error",
			func(conn string) { e.putConn(key, conn, healthy) }},
		{"egress denied", func(conn string) {
			e.putConn(key, conn, legacyCfg{uri: uri, allow: []string{"db.example.com:5432"}})
			e.upload(key, conn, pgWasm(t), "").must(t, 201)
		}, "",
			func(conn string) { e.putConn(key, conn, healthy) }},
		{"getUser times out", func(conn string) {
			e.putConn(key, conn, legacyCfg{uri: uri, env: map[string]any{"USERS_TABLE": "slow_getuser"}})
			e.upload(key, conn, pgWasm(t), "").must(t, 201)
			e.setTimeout(tenant, 300)
		}, "timeout",
			func(conn string) { e.setTimeout(tenant, 5000); e.putConn(key, conn, healthy) }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := "legacy" + string(rune('a'+i))
			base := "/v1/connections/" + conn
			tt.setup(conn)
			for _, route := range []string{"/register", "/users"} {
				for _, body := range []map[string]any{
					{"email": victim, "password": attackerPW},
					{"username": "user1", "password": attackerPW},
					{"email": "someone-new@example.com", "password": attackerPW},
				} {
					// A missing getUser answers what every route answers for
					// a missing function (501 not_implemented); any other
					// cause is 503 legacy_unavailable. Both refuse.
					want, status := "legacy_unavailable", http.StatusServiceUnavailable
					if tt.cause == "not_implemented" {
						want, status = "not_implemented", http.StatusNotImplemented
					}
					r := e.req("POST", base+route, key, body).must(t, status)
					if code := r.errCode(t); code != want {
						t.Fatalf("POST %s %v: code %s", route, body, code)
					}
					if want != "legacy_unavailable" {
						continue
					}
					cause := errDetail(t, r, "cause")
					if tt.cause != "" && cause != tt.cause || cause == "" {
						t.Fatalf("POST %s %v: cause %q, want %q (%s)", route, body, cause, tt.cause, r.body)
					}
				}
			}
			if users := e.localUsers(tenant, conn); len(users) != 0 {
				t.Fatalf("refused registrations stored %+v", users)
			}
			audited := "legacy_unavailable"
			if tt.cause == "not_implemented" {
				audited = "not_implemented"
			}
			e.mustAudit(tenant, conn, "register", "email:"+victim, audited)
			e.mustAudit(tenant, conn, "createUser", "email:"+victim, audited)

			tt.repair(conn)
			e.req("POST", base+"/register", key, map[string]any{"email": victim, "password": attackerPW}).must(t, 409)
			e.req("POST", base+"/login", key, map[string]any{"account": victim, "password": attackerPW}).must(t, 401)
			r := e.req("POST", base+"/login", key, map[string]any{"account": victim, "password": legacyPW}).must(t, 200).json(t)
			if r["source"] != "connector" || r["user"].(map[string]any)["externalId"] != "2" {
				t.Fatalf("legacy login after repair: %v", r)
			}
			e.req("POST", base+"/login", key, map[string]any{"account": victim, "password": attackerPW}).must(t, 401)
		})
	}

	// A local user cannot take a legacy identifier by renaming itself
	// either: not while the legacy side answers, not while it cannot.
	t.Run("rename", func(t *testing.T) {
		conn, base := "legacyrename", "/v1/connections/legacyrename"
		e.putConn(key, conn, healthy)
		e.upload(key, conn, pgWasm(t), "").must(t, 201)
		mallory := e.req("POST", base+"/register", key, map[string]any{"email": "mallory@example.com", "password": attackerPW}).must(t, 201).json(t)
		path := base + "/users/" + mallory["id"].(string)
		e.req("PATCH", path, key, map[string]any{"email": victim}).must(t, 409)
		e.req("PATCH", path, key, map[string]any{"username": "USER1"}).must(t, 409)
		e.putConn(key, conn, legacyCfg{uri: uri, disabled: true})
		r := e.req("PATCH", path, key, map[string]any{"email": victim}).must(t, 503)
		if r.errCode(t) != "legacy_unavailable" || errDetail(t, r, "cause") != "connection_disabled" {
			t.Fatalf("rename while disabled: %s", r.body)
		}
		// A change that takes no new identifier needs no legacy answer.
		e.req("PATCH", path, key, map[string]any{"nickname": "M"}).must(t, 200)
		e.putConn(key, conn, healthy)
		e.req("POST", base+"/login", key, map[string]any{"account": victim, "password": attackerPW}).must(t, 401)
		e.req("POST", base+"/login", key, map[string]any{"account": victim, "password": legacyPW}).must(t, 200)
	})
}

// TestLazyMigrationThreatModel checks what the platform never takes from
// the connector (docs/lazy-migration.md): the local id, the local account
// a login lands in, a migrated user's password, a deleted user's return.
func TestLazyMigrationThreatModel(t *testing.T) {
	uri := testpg.LegacyUsers(t, 12)
	db := legacyDB(t, uri)
	// A view the connector reads but cannot delete from: its deleteUser fails.
	execSQL(t, db, `CREATE VIEW ro_users AS SELECT * FROM users UNION ALL SELECT * FROM users WHERE false`)
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	for _, c := range []struct {
		name string
		cfg  legacyCfg
	}{
		{"legacy", legacyCfg{uri: uri}},
		{"ids", legacyCfg{uri: uri}},
		{"imp", legacyCfg{uri: uri}},
		{"ro", legacyCfg{uri: uri, env: map[string]any{"USERS_TABLE": "ro_users"}}},
	} {
		e.putConn(key, c.name, c.cfg)
		e.upload(key, c.name, pgWasm(t), "").must(t, 201)
	}
	login := func(conn string, body map[string]any) *resp {
		return e.req("POST", "/v1/connections/"+conn+"/login", key, body)
	}
	legacyLogin := func(conn, account string) *resp {
		return login(conn, map[string]any{"account": account, "password": testpg.Password})
	}
	userOf := func(r *resp) map[string]any { return r.json(t)["user"].(map[string]any) }
	legacyRows := func(id int) int {
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM users WHERE id = $1`, id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	t.Run("the legacy id is kept as externalId, never as the local id", func(t *testing.T) {
		base := "/v1/connections/ids"
		u := userOf(legacyLogin("ids", "user2").must(t, 200))
		id := u["id"].(string)
		if u["externalId"] != "3" || id == "3" || len(id) != 36 {
			t.Fatalf("migrated user %v", u)
		}
		for _, path := range []string{"/users/" + id, "/users/3"} {
			if g := e.req("GET", base+path, key, nil).must(t, 200).json(t); g["id"] != id || g["externalId"] != "3" {
				t.Fatalf("GET %s: %v", path, g)
			}
		}
		if u := userOf(legacyLogin("ids", "user2").must(t, 200)); u["externalId"] != "3" {
			t.Fatalf("local login %v", u)
		}
		if l := e.req("GET", base+"/users/search?keyword=3", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 1 ||
			l["list"].([]any)[0].(map[string]any)["externalId"] != "3" {
			t.Fatalf("search by externalId %v", l)
		}
		if l := e.req("GET", base+"/users", key, nil).must(t, 200).json(t); l["list"].([]any)[0].(map[string]any)["externalId"] != "3" {
			t.Fatalf("list %v", l)
		}
		if p := e.req("PATCH", base+"/users/3", key, map[string]any{"nickname": "Two"}).must(t, 200).json(t); p["id"] != id || p["externalId"] != "3" {
			t.Fatalf("patch by externalId %v", p)
		}
		if v := e.req("POST", base+"/users/3/validate-password", key, map[string]any{"password": testpg.Password}).must(t, 200).json(t); v["valid"] != true {
			t.Fatalf("validate by externalId %v", v)
		}
		// externalId is Sluice's: a client cannot set it.
		e.req("PATCH", base+"/users/"+id, key, map[string]any{"externalId": "1"}).must(t, 400)
		reg := e.req("POST", base+"/register", key, map[string]any{"email": "fresh@example.com", "password": "longenough"}).must(t, 201).json(t)
		if _, ok := reg["externalId"]; ok {
			t.Fatalf("a registered user has an externalId: %v", reg)
		}
		e.req("GET", base+"/users/no-such-id", key, nil).must(t, 404)
	})

	t.Run("once migrated, the legacy side no longer decides the password", func(t *testing.T) {
		legacyLogin("legacy", "user1").must(t, 200)
		h, err := bcrypt.GenerateFromPassword([]byte("new legacy password"), 4)
		if err != nil {
			t.Fatal(err)
		}
		execSQL(t, db, `UPDATE users SET password_hash = '`+string(h)+`' WHERE id = 2`)
		calls := e.connectorCalls(tenant, "login")
		if r := legacyLogin("legacy", "user1").must(t, 200).json(t); r["source"] != "local" {
			t.Fatalf("login %v", r)
		}
		login("legacy", map[string]any{"account": "user1", "password": "new legacy password"}).must(t, 401)
		if n := e.connectorCalls(tenant, "login"); n != calls {
			t.Fatalf("a migrated user's logins reached the connector: %d calls, want %d", n, calls)
		}
	})

	t.Run("a migrated user renamed locally is not reopened by its old legacy identifier", func(t *testing.T) {
		id := userOf(legacyLogin("legacy", "user3").must(t, 200))["id"].(string)
		e.req("PATCH", "/v1/connections/legacy/users/"+id, key, map[string]any{
			"username": "renamed3", "email": "renamed3@example.com", "phone": "+15559990003", "password": "brand-new-password",
		}).must(t, 200)
		for _, account := range []string{"user3", "user3@legacy.example.com", "+15550000003"} {
			r := legacyLogin("legacy", account).must(t, 401)
			if r.errCode(t) != "wrong_password" {
				t.Fatalf("old identifier %s: %s", account, r.body)
			}
			e.mustAudit(tenant, "legacy", "login", accountSubject(account), "already_migrated")
		}
		if u := userOf(login("legacy", map[string]any{"account": "renamed3", "password": "brand-new-password"}).must(t, 200)); u["id"] != id {
			t.Fatalf("renamed login %v", u)
		}
	})

	t.Run("a connector profile cannot claim another local user's identifier", func(t *testing.T) {
		owner := e.req("POST", "/v1/connections/legacy/register", key, map[string]any{"email": "claimed@example.com", "password": "owner-password"}).must(t, 201).json(t)
		execSQL(t, db, `UPDATE users SET email = 'claimed@example.com' WHERE id = 5`) // user4
		before := len(e.localUsers(tenant, "legacy"))
		r := legacyLogin("legacy", "user4").must(t, 409)
		if strings.Contains(string(r.body), owner["id"].(string)) {
			t.Fatalf("the refusal shows the local user: %s", r.body)
		}
		if n := len(e.localUsers(tenant, "legacy")); n != before {
			t.Fatalf("local users %d -> %d", before, n)
		}
		if u := userOf(login("legacy", map[string]any{"account": "claimed@example.com", "password": "owner-password"}).must(t, 200)); u["id"] != owner["id"] {
			t.Fatalf("owner login %v", u)
		}
		login("legacy", map[string]any{"account": "claimed@example.com", "password": testpg.Password}).must(t, 401)
	})

	t.Run("an imported user is not rebound to another legacy id", func(t *testing.T) {
		e.req("POST", "/v1/connections/imp/migration/finish", key, nil).must(t, 202)
		waitFor(t, func() bool {
			j, err := e.store.GetMigrationJob(t.Context(), tenant, "imp")
			return err == nil && j.Status == store.JobDone
		})
		// The legacy database gives user5's email to user6's row.
		execSQL(t, db, `UPDATE users SET email = 'moved5@legacy.example.com' WHERE id = 6`,
			`UPDATE users SET email = 'user5@legacy.example.com' WHERE id = 7`)
		legacyLogin("imp", "user5@legacy.example.com").must(t, 401)
		e.mustAudit(tenant, "imp", "login", "email:user5@legacy.example.com", "external_id_mismatch")
		u, err := e.store.GetUserByExternalID(t.Context(), tenant, "imp", "6")
		if err != nil || u.PasswordSet || u.Email != "user5@legacy.example.com" {
			t.Fatalf("imported user changed: %+v %v", u, err)
		}
		// user6's own login is refused too: its legacy profile now claims
		// the email of the imported user5.
		legacyLogin("imp", "user6").must(t, 409)
		if u, err := e.store.GetUserByExternalID(t.Context(), tenant, "imp", "7"); err != nil || u.PasswordSet || u.Email != "user6@legacy.example.com" {
			t.Fatalf("imported user6 changed: %+v %v", u, err)
		}
	})

	t.Run("deleted users stay deleted", func(t *testing.T) {
		tests := []struct {
			name, conn, account string
			legacyID            int
			// before the delete: rename the user, disable the connection
			before func(localID string)
			after  func()
			status string // legacy.status of the delete
			// kept: the legacy row survives the delete
			kept bool
			// logins that must fail after the delete
			retry []string
		}{
			{name: "connector deletes the legacy record", conn: "legacy", account: "user7", legacyID: 8,
				status: "deleted", retry: []string{"user7", "user7@legacy.example.com"}},
			{name: "connector's deleteUser fails", conn: "ro", account: "user8", legacyID: 9,
				status: "failed", kept: true, retry: []string{"user8", "user8@legacy.example.com", "+15550000008"}},
			{name: "renamed before the delete", conn: "ro", account: "user9", legacyID: 10,
				before: func(id string) {
					e.req("PATCH", "/v1/connections/ro/users/"+id, key, map[string]any{
						"username": "renamed9", "email": "renamed9@example.com", "phone": "+15559990009"}).must(t, 200)
				},
				status: "failed", kept: true, retry: []string{"user9", "user9@legacy.example.com"}},
			{name: "connection disabled at the delete", conn: "legacy", account: "user10", legacyID: 11,
				before: func(string) { e.putConn(key, "legacy", legacyCfg{uri: uri, disabled: true}) },
				after:  func() { e.putConn(key, "legacy", legacyCfg{uri: uri}) },
				status: "skipped", kept: true, retry: []string{"user10"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				base := "/v1/connections/" + tt.conn
				id := userOf(legacyLogin(tt.conn, tt.account).must(t, 200))["id"].(string)
				if tt.before != nil {
					tt.before(id)
				}
				// Deleting by the externalId works as by the id.
				d := e.req("DELETE", base+"/users/"+strconv.Itoa(tt.legacyID), key, nil).must(t, 200).json(t)
				legacy, _ := d["legacy"].(map[string]any)
				if d["deleted"] != true || legacy["status"] != tt.status || (tt.status == "failed") != (legacy["code"] != nil) {
					t.Fatalf("delete answered %v", d)
				}
				if tt.after != nil {
					tt.after()
				}
				if n := legacyRows(tt.legacyID); (n == 1) != tt.kept {
					t.Fatalf("legacy rows of id %d after the delete: %d", tt.legacyID, n)
				}
				e.req("GET", base+"/users/"+id, key, nil).must(t, 404)
				e.req("DELETE", base+"/users/"+id, key, nil).must(t, 404)
				for _, account := range tt.retry {
					r := legacyLogin(tt.conn, account).must(t, 401)
					if r.errCode(t) != "wrong_password" || r.json(t)["error"].(map[string]any)["message"] != "wrong account or password" {
						t.Fatalf("login of a deleted user: %s", r.body)
					}
				}
				if _, err := e.store.GetUserByExternalID(t.Context(), tenant, tt.conn, strconv.Itoa(tt.legacyID)); err == nil {
					t.Fatal("the deleted user came back")
				}
				if tt.kept {
					e.mustAudit(tenant, tt.conn, "login", "username:"+tt.account, "user_deleted")
				}
				if tt.status == "deleted" || tt.status == "failed" {
					a, ok := e.lastAudit(tenant, tt.conn, "deleteLegacyUser", "externalId:"+strconv.Itoa(tt.legacyID))
					if !ok || (a.Code == "") != (tt.status == "deleted") {
						t.Fatalf("audit of the legacy delete: %+v %v", a, ok)
					}
				}
			})
		}
		// Finishing the migration does not import them either.
		e.req("POST", "/v1/connections/ro/migration/finish", key, nil).must(t, 202)
		waitFor(t, func() bool {
			j, err := e.store.GetMigrationJob(t.Context(), tenant, "ro")
			return err == nil && j.Status == store.JobDone
		})
		for _, ext := range []string{"9", "10"} {
			if u, err := e.store.GetUserByExternalID(t.Context(), tenant, "ro", ext); err == nil {
				t.Fatalf("finish migration imported deleted user %s: %+v", ext, u)
			}
		}
		if _, err := e.store.GetUserByExternalID(t.Context(), tenant, "ro", "12"); err != nil {
			t.Fatalf("finish migration skipped user11: %v", err)
		}
	})
}

// TestLegacyUsernames: any username the connector can find logs in and
// migrates (spaces, '@', '+', '*', quotes, non-ASCII letters); only
// usernames no table should hold are refused.
func TestLegacyUsernames(t *testing.T) {
	uri := testpg.LegacyUsers(t, 1)
	db := legacyDB(t, uri)
	odd := []string{"Ann Smith", "bob@home", "+bob", "star*", "o'brien+test", "Zoë", "山田太郎", "josé.garcía", "user name with  two spaces", strings.Repeat("é", 64)}
	for _, u := range odd {
		if _, err := db.Exec(`INSERT INTO users (username, password_hash) VALUES ($1, $2)`, u, testpg.Hash()); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.legacyConn(key, "legacy", "LAZY_MIGRATION", uri)
	base := "/v1/connections/legacy"
	for _, name := range odd {
		t.Run(name, func(t *testing.T) {
			r := e.req("POST", base+"/login", key, map[string]any{"username": name, "password": testpg.Password}).must(t, 200).json(t)
			if u := r["user"].(map[string]any); r["source"] != "connector" || u["username"] != name || u["externalId"] == nil {
				t.Fatalf("first login %v", r)
			}
			// An account that is not an email address or a phone number
			// is a username: "bob@home" and "+bob" too.
			if r := e.req("POST", base+"/login", key, map[string]any{"account": name, "password": testpg.Password}).must(t, 200).json(t); r["source"] != "local" {
				t.Fatalf("second login %v", r)
			}
		})
	}
	for _, tc := range []struct{ name, username string }{
		{"too long", strings.Repeat("a", 129)},
		{"newline", "ann\nsmith"},
		{"tab", "ann\tsmith"},
		{"NUL", "ann\x00"},
		{"escape", "\x1b[31mred"},
		{"zero-width space", "ann\u200bsmith"},
		{"right-to-left override", "ann\u202esmith"},
		{"line separator", "ann\u2028smith"},
		{"only spaces", "   "},
	} {
		t.Run("refused "+tc.name, func(t *testing.T) {
			for _, body := range []map[string]any{
				{"username": tc.username, "password": testpg.Password},
				{"account": tc.username, "password": testpg.Password},
			} {
				if code := e.req("POST", base+"/login", key, body).must(t, 400).errCode(t); code != "invalid_input" {
					t.Fatalf("code %s", code)
				}
			}
			e.req("POST", base+"/register", key, map[string]any{"username": tc.username, "password": "longenough"}).must(t, 400)
		})
	}
	// Invalid UTF-8 in a username never reaches the connector.
	e.req("POST", base+"/login", key, []byte("{\"username\":\"ann\xff\",\"password\":\"x\"}")).must(t, 400)
	// The same rule admits such usernames to registration.
	if u := e.req("POST", base+"/register", key, map[string]any{"username": "Carol O'Neil", "password": "longenough"}).must(t, 201).json(t); u["username"] != "Carol O'Neil" {
		t.Fatalf("registered %v", u)
	}
	e.req("POST", base+"/register", key, map[string]any{"username": "ann smith", "password": "longenough"}).must(t, 409)
	if users := e.localUsers(tenant, "legacy"); len(users) != len(odd)+1 {
		t.Fatalf("%d local users, want %d", len(users), len(odd)+1)
	}
}

// TestFirstLoginClientGone: a client that goes away while the connector
// checks its first login leaves a finished migration (or, when the
// connector says no, nothing), audited as such; never half a migration.
func TestFirstLoginClientGone(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	db := legacyDB(t, uri)
	// The connector's lookups on this view take a second and a half.
	execSQL(t, db, `CREATE VIEW slow_login AS SELECT * FROM users WHERE EXISTS (SELECT 1 FROM pg_sleep(1.5))`)
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.putConn(key, "slow", legacyCfg{uri: uri, env: map[string]any{"USERS_TABLE": "slow_login"}})
	e.upload(key, "slow", pgWasm(t), "").must(t, 201)
	base := "/v1/connections/slow"

	// goAway sends a login and cancels it once the connector's query runs
	// on the legacy database.
	goAway := func(t *testing.T, username, pw string) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		body := `{"username":"` + username + `","password":"` + pw + `"}`
		req, err := http.NewRequestWithContext(ctx, "POST", e.ts.URL+base+"/login", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		done := make(chan error, 1)
		go func() {
			res, err := e.ts.Client().Do(req)
			if err == nil {
				res.Body.Close()
			}
			done <- err
		}()
		waitFor(t, func() bool {
			var n int
			err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%FROM slow_login%' AND pid <> pg_backend_pid()`).Scan(&n)
			return err == nil && n > 0
		})
		cancel()
		if err := <-done; err == nil {
			t.Fatal("the canceled login got an answer")
		}
		waitFor(t, func() bool {
			_, ok := e.lastAudit(tenant, "slow", "login", "username:"+username)
			return ok
		})
	}

	t.Run("connector says yes: the user is migrated", func(t *testing.T) {
		goAway(t, "user1", testpg.Password)
		e.mustAudit(tenant, "slow", "login", "username:user1", "answer_lost")
		u, err := e.store.GetUserByExternalID(t.Context(), tenant, "slow", "2")
		if err != nil || !u.PasswordSet || u.Username != "user1" || u.Source != store.SourceConnector {
			t.Fatalf("migrated user %+v %v", u, err)
		}
		calls := e.connectorCalls(tenant, "login")
		if r := e.req("POST", base+"/login", key, map[string]any{"username": "user1", "password": testpg.Password}).must(t, 200).json(t); r["source"] != "local" {
			t.Fatalf("next login %v", r)
		}
		if n := e.connectorCalls(tenant, "login"); n != calls {
			t.Fatalf("the next login reached the connector")
		}
	})
	t.Run("connector says no: nothing is written", func(t *testing.T) {
		goAway(t, "user2", "wrong password")
		e.mustAudit(tenant, "slow", "login", "username:user2", "wrong_password")
		if _, err := e.store.GetUserByExternalID(t.Context(), tenant, "slow", "3"); err == nil {
			t.Fatal("a refused login migrated its user")
		}
		e.req("POST", base+"/login", key, map[string]any{"username": "user2", "password": testpg.Password}).must(t, 200)
	})
}

// TestDeleteWithoutLegacyDeleteUser: a connector without deleteUser
// leaves the legacy record, says so, and the tombstone still holds; on
// both store dialects.
func TestDeleteWithoutLegacyDeleteUser(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tenant, key := e.flowConn("acme", "probe", "LAZY_MIGRATION", probeWasm(t))
		base := "/v1/connections/probe"
		login := map[string]any{"username": "ada", "password": "secret"}
		u := e.req("POST", base+"/login", key, login).must(t, 200).json(t)["user"].(map[string]any)
		if u["externalId"] != "1" {
			t.Fatalf("migrated %v", u)
		}
		d := e.req("DELETE", base+"/users/"+u["id"].(string), key, nil).must(t, 200).json(t)
		if d["legacy"].(map[string]any)["status"] != "not_implemented" {
			t.Fatalf("delete answered %v", d)
		}
		e.req("POST", base+"/login", key, login).must(t, 401)
		e.mustAudit(tenant, "probe", "login", "username:ada", "user_deleted")
		// A user registered locally has no legacy record to speak of.
		reg := e.req("POST", base+"/register", key, map[string]any{"username": "grace", "password": "longenough"}).must(t, 201).json(t)
		if d := e.req("DELETE", base+"/users/"+reg["id"].(string), key, nil).must(t, 200).json(t); d["legacy"] != nil {
			t.Fatalf("delete of a registered user answered %v", d)
		}
	})
}

// TestConnectorProfileIsNotTrusted: a connector's profile reaches the
// store and the caller only through the known profile fields; its own
// "externalId" is ignored (Sluice sets it from the id) and the legacy
// system's claims (emailVerified) are kept as claims.
func TestConnectorProfileIsNotTrusted(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.flowConn("acme", "raw", "LAZY_MIGRATION", wasmbuild.Test(t, "testdata/rawprofile"))
	base := "/v1/connections/raw"
	e.req("POST", base+"/login", key, map[string]any{"username": "raw", "password": "wrong"}).must(t, 401)
	r := e.req("POST", base+"/login", key, map[string]any{"username": "raw", "password": "anything"}).must(t, 200)
	u := r.json(t)["user"].(map[string]any)
	id, _ := u["id"].(string)
	if u["externalId"] != "legacy-42" || id == "legacy-42" || len(id) != 36 || u["emailVerified"] != true {
		t.Fatalf("migrated user %v", u)
	}
	for _, leak := range []string{"passwordHash", "notforsluice", "role", "admin-id"} {
		if strings.Contains(string(r.body), leak) {
			t.Fatalf("the answer carries %q: %s", leak, r.body)
		}
	}
	stored, err := e.store.GetUserByExternalID(t.Context(), tenant, "raw", "legacy-42")
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"passwordHash", "notforsluice", "role", "admin-id", "externalId"} {
		if strings.Contains(string(stored.Profile), leak) {
			t.Fatalf("the stored profile carries %q: %s", leak, stored.Profile)
		}
	}
	e.req("GET", base+"/users/admin-id", key, nil).must(t, 404)
	if g := e.req("GET", base+"/users/legacy-42", key, nil).must(t, 200).json(t); g["id"] != id {
		t.Fatalf("get by externalId %v", g)
	}
}
