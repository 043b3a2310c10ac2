package api_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/store"
)

// BenchmarkRoutes measures one client calling, through the real router
// over HTTP, the routes a lookup takes: the user-flow GET
// /v1/connections/{name}/users/{id} (CUSTOM_USER_STORE: the connector's
// getUser), the debug route's getUser by email (the answer carries logs
// and the host-call trace). (Logins are a password check's cost: the
// static template hashes in the guest, the postgres one runs bcrypt.) The connectors are
// examples/static (canned users: what the route itself costs) and
// examples/postgres on the test PostgreSQL with 5 000 users. ns/op,
// allocs/op and cpu-µs/op (the process's user and system CPU time per
// call) count the client, the server and the engine together, not
// PostgreSQL (BENCHMARKS.md, "Lean routes").
func BenchmarkRoutes(b *testing.B) {
	spec := storeSpec{name: "sqlite", cfg: store.Config{DataDir: b.TempDir(), MasterKey: testKey()}}
	e := newEnv(b, spec, func(c *envConfig) { c.logTo = io.Discard })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}

	tStatic, kStatic := e.flowConn("static", "users", "CUSTOM_USER_STORE", staticWasm(b))
	tPG, kPG := e.newTenant("pg")
	e.req("PUT", "/v1/admin/tenants/"+tPG+"/quotas", operatorToken, map[string]any{
		"callsPerMinute": 1000000, "allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"},
	}).must(b, 200)
	e.legacyConn(kPG, "users", "CUSTOM_USER_STORE", testpg.LegacyUsers(b, 5000))
	e.req("PUT", "/v1/admin/tenants/"+tStatic+"/quotas", operatorToken, map[string]any{"callsPerMinute": 1000000}).must(b, 200)

	type route struct {
		name, method, path, body string
		status                   int
	}
	for _, conn := range []struct {
		name, key string
		user      string // an id and email the connector knows
		email     string
	}{
		{"static", kStatic, "1", "alice@example.com"},
		{"postgres", kPG, "1234", "user1233@legacy.example.com"},
	} {
		routes := []route{
			{"flow-getUser", "GET", "/v1/connections/users/users/" + conn.user, "", 200},
			{"debug-getUser", "POST", "/v1/connections/users/debug", `{"function":"getUser","input":{"query":{"email":"` + conn.email + `"}}}`, 200},
		}
		for _, r := range routes {
			b.Run(conn.name+"/"+r.name, func(b *testing.B) {
				do := func() error {
					var body io.Reader
					if r.body != "" {
						body = bytes.NewReader([]byte(r.body))
					}
					req, _ := http.NewRequest(r.method, e.ts.URL+r.path, body)
					req.Header.Set("Authorization", "Bearer "+conn.key)
					if r.body != "" {
						req.Header.Set("Content-Type", "application/json")
					}
					res, err := client.Do(req)
					if err != nil {
						return err
					}
					out, _ := io.ReadAll(res.Body)
					res.Body.Close()
					if res.StatusCode != r.status {
						return fmt.Errorf("status %d: %s", res.StatusCode, out)
					}
					return nil
				}
				if err := do(); err != nil { // warm: the instance and the caches
					b.Fatal(err)
				}
				b.ReportAllocs()
				cpu0 := processCPU()
				for b.Loop() {
					if err := do(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// processCPU is the CPU time (user and system) the process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
