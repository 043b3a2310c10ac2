package sidebyside

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// jsUsers is the seed table's size in the JavaScript benchmark.
const jsUsers = 2000

// seedTable makes a schema with api/testdata/js/seed-postgres.sql's
// users table holding n users (user0@legacy.example.com, ...).
func seedTable(b *testing.B, n int) string {
	b.Helper()
	uri := testpg.Schema(b, "jsbench")
	db, err := sql.Open("pgx", uri)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	ddl, err := os.ReadFile(filepath.Join(root, "api", "testdata", "js", "seed-postgres.sql"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.Exec(string(ddl)); err != nil {
		b.Fatal(err)
	}
	var rows bytes.Buffer
	w := bufio.NewWriter(&rows)
	for i := 0; i < n; i++ {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, "('user%d@legacy.example.com','user%d','+1555%07d','%s','User %d')", i, i, i, testpg.Hash(), i)
	}
	w.Flush()
	if _, err := db.Exec("INSERT INTO users (email, username, phone, password, nickname) VALUES " + rows.String()); err != nil {
		b.Fatal(err)
	}
	return uri
}

// BenchmarkJavaScript runs the seed's PostgreSQL template, unchanged,
// through Sluice (its getUser over GET /v1/connections/{name}/users/{id},
// CUSTOM_USER_STORE) against the same script under Node with pg, a new
// Client per call as written and a Client backed by pg.Pool, at 16
// clients; and measures the cold load of the script (upload to first
// result, on a fresh server and after a restart from the compile cache)
// and the memory of an idle JS instance. `make bench BENCH=JavaScript
// BENCHPKG=./internal/sidebyside`.
func BenchmarkJavaScript(b *testing.B) {
	duration := envDuration(b, "SLUICE_SIDEBYSIDE_DURATION", 5*time.Second)
	clients := 16
	dsn := seedTable(b, jsUsers)
	script, err := filepath.Abs(filepath.Join(root, "api", "testdata", "js", "seed-postgres.js"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile(script)
	if err != nil {
		b.Fatal(err)
	}
	bin := goBuild(b, b.TempDir(), "./cmd/sluice")
	dataDir := b.TempDir()

	// Cold load on a fresh server: upload, then the first result.
	sluice, tenantKey := startSluiceJS(b, bin, dataDir, "")
	t0 := time.Now()
	upload(b, sluice.url, tenantKey, dsn, src)
	tUpload := time.Since(t0)
	first(b, sluice.url, tenantKey)
	cold := time.Since(t0)
	mem := idleMemory(b, sluice.url, tenantKey)
	stop(sluice)
	// A restart: the same data directory, so the compiled runtime comes
	// from the compile cache; the first call loads the script again.
	sluice, _ = startSluiceJS(b, bin, dataDir, tenantKey)
	sluice.key = tenantKey
	t1 := time.Now()
	first(b, sluice.url, tenantKey)
	warm := time.Since(t1)

	nodeClient := startNodeJS(b, dsn, script, "client")
	nodePool := startNodeJS(b, dsn, script, "pool")
	servers := []*server{sluice, nodeClient, nodePool}
	email := func(n int) string { return fmt.Sprintf("user%d@legacy.example.com", n) }
	request := func(s *server) func(n int) (*http.Request, []byte) {
		return func(n int) (*http.Request, []byte) {
			u := fmt.Sprintf("%s/users/%d", s.url, n+1)
			if s == sluice {
				u = fmt.Sprintf("%s/v1/connections/%s/users/%d", s.url, connName, n+1)
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Authorization", "Bearer "+tenantKey)
			return req, []byte(strconv.Quote(email(n)))
		}
	}
	for _, s := range servers { // warm-up
		if _, err := Run(context.Background(), Load{Clients: clients, Warmup: 3 * time.Second, Duration: 2 * time.Second, Users: jsUsers, Request: request(s), Status: 200}); err != nil {
			b.Fatalf("warming %s: %v", s.name, err)
		}
	}
	results := make([]Result, len(servers))
	for round := 0; round < 2; round++ {
		for i, s := range servers {
			stopPerf := func() {}
			if dir := os.Getenv("SLUICE_SIDEBYSIDE_PERF"); dir != "" && s == sluice {
				stopPerf = perfRecord(b, filepath.Join(dir, fmt.Sprintf("sluice-js-round%d.data", round+1)), s.cmd.Process.Pid)
			}
			res, err := Run(context.Background(), Load{Clients: clients, Warmup: time.Second, Duration: duration, Users: jsUsers,
				Request: request(s), Status: 200, PID: s.cmd.Process.Pid})
			stopPerf()
			if err != nil {
				b.Fatalf("%s: %v", s.name, err)
			}
			results[i] = results[i].Merge(res)
		}
	}
	// Logins with a bcrypt cost-10 check: the seed's login in the same
	// Sluice against examples/postgres (the Go connector) on a table of
	// the same users and hashes, both CUSTOM_USER_STORE user-flow logins.
	goDSN := testpg.LegacyUsers(b, jsUsers)
	goWasm, err := os.ReadFile(wasmbuild.TestPath(b, filepath.Join(root, "examples", "postgres")))
	if err != nil {
		b.Fatal(err)
	}
	goConn, _ := json.Marshal(map[string]any{"mode": "CUSTOM_USER_STORE", "dbType": "postgres",
		"connection": map[string]string{"uri": goDSN}, "egressAllowlist": []string{"127.0.0.1:5432"}})
	do(b, "PUT", sluice.url+"/v1/connections/gobench", tenantKey, "application/json", string(goConn), 201, nil)
	do(b, "POST", sluice.url+"/v1/connections/gobench/versions", tenantKey, "application/wasm", string(goWasm), 201, nil)
	login := func(conn string) func(n int) (*http.Request, []byte) {
		return func(n int) (*http.Request, []byte) {
			body, _ := json.Marshal(map[string]string{"email": email(n), "password": testpg.Password})
			req, _ := http.NewRequest("POST", sluice.url+"/v1/connections/"+conn+"/login", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+tenantKey)
			req.Header.Set("Content-Type", "application/json")
			return req, []byte(strconv.Quote(email(n)))
		}
	}
	logins := make([]Result, 2)
	for round := 0; round < 2; round++ {
		for i, conn := range []string{connName, "gobench"} {
			res, err := Run(context.Background(), Load{Clients: clients, Warmup: time.Second, Duration: 2 * duration, Users: jsUsers,
				Request: login(conn), Status: 200, PID: sluice.cmd.Process.Pid})
			if err != nil {
				b.Fatalf("login on %s: %v", conn, err)
			}
			logins[i] = logins[i].Merge(res)
		}
	}

	var out strings.Builder
	fmt.Fprintf(&out, "\nJavaScript: the seed's PostgreSQL template (getUser, new Client per call as written), %d users, %d clients, 2 rounds of %v, servers interleaved\n\n", jsUsers, clients, duration)
	fmt.Fprintln(&out, "| server | calls/s | CPU µs/call | p50 | p99 | Sluice calls/s vs it |")
	fmt.Fprintln(&out, "|---|---|---|---|---|---|")
	for i, s := range servers {
		r := results[i]
		vs := ""
		if i > 0 {
			vs = fmt.Sprintf("%.2f×", throughput(results[0], r))
		}
		fmt.Fprintf(&out, "| %s | %s | %.0f | %s | %s | %s |\n", s.name, rate(r.PerSecond()), float64(r.CPUPerCall())/float64(time.Microsecond),
			ms(r.Percentile(50)), ms(r.Percentile(99)), vs)
	}
	fmt.Fprintf(&out, "\nLogins, bcrypt cost 10, %d clients, 2 rounds of %v: the script %s/s (CPU %.0f µs/call, p50 %s), examples/postgres %s/s (CPU %.0f µs/call, p50 %s): %.2f× — goal ≥ 0.9× %s\n",
		clients, 2*duration, rate(logins[0].PerSecond()), float64(logins[0].CPUPerCall())/float64(time.Microsecond), ms(logins[0].Percentile(50)),
		rate(logins[1].PerSecond()), float64(logins[1].CPUPerCall())/float64(time.Microsecond), ms(logins[1].Percentile(50)),
		throughput(logins[0], logins[1]), verdict(throughput(logins[0], logins[1]) >= 0.9))
	fmt.Fprintf(&out, "\nCold load on a fresh server: upload %s, upload to first result %s; first result after a restart (compile cache): %s\n",
		ms(tUpload), ms(cold), ms(warm))
	fmt.Fprintf(&out, "Memory of an idle JS instance (linear memory after a call): %.1f MiB (goal ≤ 32 MiB)\n", float64(mem)/(1<<20))
	fmt.Fprintf(&out, "Goals (issue 13): ≥ 50× Node new-client-per-call: %.2f — %s; ≥ 1× Node pg.Pool: %.2f — %s\n",
		throughput(results[0], results[1]), verdict(throughput(results[0], results[1]) >= 50),
		throughput(results[0], results[2]), verdict(throughput(results[0], results[2]) >= 1))
	fmt.Print(out.String())
	b.ReportMetric(0, "ns/op")
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// startSluiceJS starts `sluice serve` on dataDir; without a key it makes
// the tenant (quotas too high to throttle, loopback granted) and returns
// its key.
func startSluiceJS(b *testing.B, bin, dataDir, key string) (*server, string) {
	b.Helper()
	s := startServer(b, "Sluice, the script", bin, []string{"SLUICE_STORE=", "SLUICE_OPERATOR_TOKEN=", "SLUICE_MASTER_KEY="},
		"serve", "--addr", "127.0.0.1:0", "--data-dir", dataDir, "--operator-token", operatorToken)
	if key == "" {
		var tenant struct{ ID, APIKey string }
		do(b, "POST", s.url+"/v1/admin/tenants", operatorToken, "application/json", `{"name":"jsbench"}`, 201, &tenant)
		do(b, "PUT", s.url+"/v1/admin/tenants/"+tenant.ID+"/quotas", operatorToken, "application/json",
			`{"maxConcurrency":1024,"callsPerMinute":1000000,"timeoutMs":60000,"allowPrivateNetworks":true,"privateNetworks":["127.0.0.1/32"]}`, 200, nil)
		key = tenant.APIKey
	}
	s.key = key
	return s, key
}

func upload(b *testing.B, base, key, dsn string, src []byte) {
	b.Helper()
	connection, _ := json.Marshal(map[string]any{"mode": "CUSTOM_USER_STORE", "dbType": "postgres",
		"connection": map[string]string{"uri": dsn}, "egressAllowlist": []string{"127.0.0.1:5432"}})
	do(b, "PUT", base+"/v1/connections/"+connName, key, "application/json", string(connection), 201, nil)
	do(b, "POST", base+"/v1/connections/"+connName+"/versions", key, "application/javascript", string(src), 201, nil)
}

func first(b *testing.B, base, key string) {
	b.Helper()
	var user struct{ Email string }
	do(b, "GET", base+"/v1/connections/"+connName+"/users/1", key, "", "", 200, &user)
	if user.Email != "user0@legacy.example.com" {
		b.Fatalf("user 1 is %q", user.Email)
	}
}

// idleMemory is the memory of the instance that served a debug call.
func idleMemory(b *testing.B, base, key string) uint64 {
	b.Helper()
	var d struct {
		OK          bool   `json:"ok"`
		MemoryBytes uint64 `json:"memoryBytes"`
	}
	do(b, "POST", base+"/v1/connections/"+connName+"/debug", key, "application/json",
		`{"function":"getUser","input":{"query":{"id":"1"}}}`, 200, &d)
	if !d.OK {
		b.Fatal("the debug call failed")
	}
	return d.MemoryBytes
}

// stop ends s and waits until it has exited (startServer's goroutine
// reaps it).
func stop(s *server) {
	s.cmd.Process.Signal(syscall.SIGTERM)
	for i := 0; i < 200 && syscall.Kill(s.cmd.Process.Pid, 0) == nil; i++ {
		time.Sleep(50 * time.Millisecond)
	}
}

// startNodeJS starts nodeserver/jsserver.js running script in mode
// (client or pool), with nodeserver's pg (startNode installs it).
func startNodeJS(b *testing.B, dsn, script, mode string) *server {
	b.Helper()
	startNode(b, dsn) // installs pg into .cache (and starts the pg.Pool server, unused here)
	cache, _ := filepath.Abs(filepath.Join(root, ".cache", "sidebyside", "node"))
	src, _ := filepath.Abs(filepath.Join("nodeserver", "jsserver.js"))
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		b.Fatalf("node: %v", err)
	}
	name := "Node + pg, new Client per call"
	if mode == "pool" {
		name = "Node + pg, Client over pg.Pool"
	}
	return startServer(b, name, nodeBin,
		[]string{"NODE_PATH=" + filepath.Join(cache, "node_modules"), "DSN=" + dsn, "SCRIPT=" + script, "MODE=" + mode}, src)
}
