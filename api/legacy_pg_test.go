package api_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// grantLoopback grants the tenant private networks naming 127.0.0.1:
// the legacy database is the test PostgreSQL on loopback, which stays
// closed to every tenant whose grant does not name it.
func (e *env) grantLoopback(tenant string) {
	e.t.Helper()
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken,
		map[string]any{"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"}}).must(e.t, 200)
}

func (e *env) legacyConn(key, name, mode, uri string) {
	e.t.Helper()
	e.req("PUT", "/v1/connections/"+name, key, map[string]any{
		"mode": mode, "dbType": "postgres", "connection": map[string]any{"uri": uri},
		"egressAllowlist": []string{"127.0.0.1:5432"},
	}).must(e.t, 201)
	e.upload(key, name, wasmbuild.Test(e.t, "../examples/postgres"), "").must(e.t, 201)
}

// connectorCalls reads sluice_calls_total for one tenant and function.
func (e *env) connectorCalls(tenant, function string) int {
	e.t.Helper()
	r := e.req("GET", "/metrics", "", nil).must(e.t, 200)
	total := 0
	for _, line := range strings.Split(string(r.body), "\n") {
		if strings.HasPrefix(line, "sluice_calls_total{") && strings.Contains(line, `function="`+function+`"`) && strings.Contains(line, `tenant="`+tenant+`"`) {
			n, _ := strconv.Atoi(line[strings.LastIndexByte(line, ' ')+1:])
			total += n
		}
	}
	return total
}

// TestLazyMigrationOnPostgres is the lazy migration end to end: a legacy
// PostgreSQL users table with bcrypt hashes, the examples/postgres
// connector, the HTTP API.
func TestLazyMigrationOnPostgres(t *testing.T) {
	uri := testpg.LegacyUsers(t, 250)
	spec := sqliteSpec(t)
	e := newEnv(t, spec)
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.legacyConn(key, "legacy", "LAZY_MIGRATION", uri)
	base := "/v1/connections/legacy"
	login := func(account, pw string) *resp {
		return e.req("POST", base+"/login", key, map[string]any{"account": account, "password": pw})
	}

	login("user1@legacy.example.com", "wrong").must(t, 401)
	if n := e.connectorCalls(tenant, "login"); n != 1 {
		t.Fatalf("connector logins after a wrong password: %d", n)
	}
	first := login("user1@legacy.example.com", testpg.Password).must(t, 200).json(t)
	if first["source"] != "connector" || first["user"].(map[string]any)["nickname"] != "User 1" {
		t.Fatalf("first login %v", first)
	}
	if n := e.connectorCalls(tenant, "login"); n != 2 {
		t.Fatalf("connector logins after the first login: %d", n)
	}
	for _, account := range []string{"user1@legacy.example.com", "user1", "+15550000001"} {
		if r := login(account, testpg.Password).must(t, 200).json(t); r["source"] != "local" {
			t.Fatalf("later login as %s: %v", account, r)
		}
	}
	login("user1", "wrong").must(t, 401)
	if n := e.connectorCalls(tenant, "login"); n != 2 {
		t.Fatalf("later logins reached the connector: %d calls", n)
	}

	// Registration conflicts with the legacy side, or goes through.
	e.req("POST", base+"/register", key, map[string]any{"email": "user7@legacy.example.com", "password": "longenough"}).must(t, 409)
	e.req("POST", base+"/register", key, map[string]any{"username": "USER8", "password": "longenough"}).must(t, 409)
	e.req("POST", base+"/register", key, map[string]any{"email": "new@example.com", "password": "longenough"}).must(t, 201)

	// 20 parallel first logins of one user migrate it once. Each checks
	// a bcrypt hash in a host call, which now ends at the call's deadline:
	// on a busy 2-core machine 20 of them at once need more than the
	// default 5 s.
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken, map[string]any{"maxConcurrency": 32, "timeoutMs": 60000}).must(t, 200)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := login("user5", testpg.Password); r.status != 200 {
				t.Errorf("parallel login: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if _, total, _ := e.store.SearchUsers(t.Context(), tenant, "legacy", "user5", 1, 10); total != 1 {
		t.Fatalf("user5 stored %d times", total)
	}

	st := e.req("GET", base+"/migration", key, nil).must(t, 200).json(t)
	if st["migratedUsers"].(float64) != 3 || st["legacyTotal"].(float64) != 250 {
		t.Fatalf("progress %v", st)
	}

	// Finish the migration, stopping it halfway: with 2 calls a minute the
	// job reads pages 1 and 2 (of 3) and then waits; the server stops.
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken, map[string]any{"callsPerMinute": 2}).must(t, 200)
	e.req("POST", base+"/migration/finish", key, nil).must(t, 202)
	waitFor(t, func() bool {
		j, err := e.store.GetMigrationJob(t.Context(), tenant, "legacy")
		return err == nil && j.NextPage == 3
	})
	e.close()

	// A new server resumes the job from page 3.
	e = newEnv(t, spec)
	job, _ := e.store.GetMigrationJob(context.Background(), tenant, "legacy")
	if job.Status != store.JobCanceled || job.NextPage != 3 || job.Imported != 198 {
		t.Fatalf("stopped job %+v", job)
	}
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken, map[string]any{"callsPerMinute": 600}).must(t, 200)
	e.req("POST", base+"/migration/finish", key, nil).must(t, 202)
	waitFor(t, func() bool {
		j, err := e.store.GetMigrationJob(t.Context(), tenant, "legacy")
		return err == nil && j.Status == store.JobDone
	})
	st = e.req("GET", base+"/migration", key, nil).must(t, 200).json(t)
	if st["migratedUsers"].(float64) != 251 || st["migratedShare"].(float64) != 1 || st["finish"].(map[string]any)["imported"].(float64) != 248 {
		t.Fatalf("after finishing %v", st)
	}
	// An imported user logs in through the connector once, then locally.
	if r := login("user200", testpg.Password).must(t, 200).json(t); r["source"] != "connector" {
		t.Fatalf("imported user's first login %v", r)
	}
	if r := login("user200", testpg.Password).must(t, 200).json(t); r["source"] != "local" {
		t.Fatalf("imported user's second login %v", r)
	}
}

// TestCustomUserStoreOnPostgres runs all eight routes against the legacy
// table; nothing is stored locally.
func TestCustomUserStoreOnPostgres(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.legacyConn(key, "users", "CUSTOM_USER_STORE", uri)
	base := "/v1/connections/users"

	r := e.req("POST", base+"/login", key, map[string]any{"username": "user2", "password": testpg.Password}).must(t, 200).json(t)
	if r["source"] != "connector" {
		t.Fatalf("login %v", r)
	}
	e.req("POST", base+"/login", key, map[string]any{"username": "user2", "password": "nope"}).must(t, 401)
	e.req("POST", base+"/register", key, map[string]any{"email": "user0@legacy.example.com", "password": "longenough"}).must(t, 409)
	created := e.req("POST", base+"/register", key, map[string]any{"email": "erin@example.com", "username": "erin", "password": "longenough"}).must(t, 201).json(t)
	id := created["id"].(string)
	e.req("POST", base+"/login", key, map[string]any{"account": "erin@example.com", "password": "longenough"}).must(t, 200)
	if l := e.req("GET", base+"/users?page=1&limit=2", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 4 || len(l["list"].([]any)) != 2 {
		t.Fatalf("list %v", l)
	}
	if l := e.req("GET", base+"/users/search?keyword=erin", key, nil).must(t, 200).json(t); l["totalCount"].(float64) != 1 {
		t.Fatalf("search %v", l)
	}
	if u := e.req("GET", base+"/users/"+id, key, nil).must(t, 200).json(t); u["email"] != "erin@example.com" {
		t.Fatalf("get %v", u)
	}
	if u := e.req("PATCH", base+"/users/"+id, key, map[string]any{"nickname": "E", "password": "newpassword"}).must(t, 200).json(t); u["nickname"] != "E" {
		t.Fatalf("patch %v", u)
	}
	if v := e.req("POST", base+"/users/"+id+"/validate-password", key, map[string]any{"password": "newpassword"}).must(t, 200).json(t); v["valid"] != true {
		t.Fatalf("validate %v", v)
	}
	e.req("POST", base+"/users", key, map[string]any{"username": "erin", "password": "longenough"}).must(t, 409)
	e.req("DELETE", base+"/users/"+id, key, nil).must(t, 200)
	e.req("GET", base+"/users/"+id, key, nil).must(t, 404)
	if _, total, err := e.store.ListUsers(t.Context(), tenant, "users", 1, 100); err != nil || total != 0 {
		t.Fatalf("CUSTOM_USER_STORE kept %d users locally (%v)", total, err)
	}
}
