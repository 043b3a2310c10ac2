package sidebyside

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// root is the repository, from this package's directory.
const root = "../.."

const (
	users         = 10_000
	operatorToken = "op-token-sidebyside"
	connName      = "bench"
)

// server is one of the processes compared.
type server struct {
	name string
	url  string
	cmd  *exec.Cmd
	// key is the tenant's API key (Sluice only).
	key string
}

// scenario is one kind of call, made to each server that offers it.
type scenario struct {
	name string
	// slow scenarios (a bcrypt check each call) run 3 times as long, at
	// the first client count only: more clients only queue for the cores.
	slow bool
	// request makes the call of user n to s; nil when s does not offer it.
	request func(s *server, n int) (*http.Request, []byte)
}

// BenchmarkSideBySide compares Sluice running examples/postgres with a Go
// net/http + pgx server and a Node http + pg.Pool server, all on the same
// table, through one load generator (see the package documentation).
// Each invocation runs the whole comparison and prints the table: run it
// with the default -benchtime (the first invocation outlasts it) or 1x.
func BenchmarkSideBySide(b *testing.B) {
	duration := envDuration(b, "SLUICE_SIDEBYSIDE_DURATION", 5*time.Second)
	rounds := envInt(b, "SLUICE_SIDEBYSIDE_ROUNDS", 2)
	clients := envInts(b, "SLUICE_SIDEBYSIDE_CLIENTS", []int{16, 64})
	perfDir := os.Getenv("SLUICE_SIDEBYSIDE_PERF")

	dsn := testpg.LegacyUsers(b, users)
	bin := b.TempDir()
	sluice := startSluice(b, goBuild(b, bin, "./cmd/sluice"), dsn)
	goSrv := startServer(b, "Go net/http + pgx", goBuild(b, bin, "./internal/sidebyside/goserver"), nil, "-dsn", dsn)
	node := startNode(b, dsn)
	servers := []*server{sluice, goSrv, node}

	// Every request carries the tenant key, also those to Go and Node
	// (which ignore it): the same bytes on the wire.
	email := func(n int) string { return fmt.Sprintf("user%d@legacy.example.com", n) }
	get := func(u string, n int) (*http.Request, []byte) {
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+sluice.key)
		return req, []byte(strconv.Quote(email(n)))
	}
	post := func(u string, body any, n int) (*http.Request, []byte) {
		js, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", u, bytes.NewReader(js))
		req.Header.Set("Authorization", "Bearer "+sluice.key)
		req.Header.Set("Content-Type", "application/json")
		return req, []byte(strconv.Quote(email(n)))
	}
	conn := sluice.url + "/v1/connections/" + connName
	scenarios := []scenario{
		{"lookup by id, user-flow route", false, func(s *server, n int) (*http.Request, []byte) {
			if s == sluice {
				return get(fmt.Sprintf("%s/users/%d", conn, n+1), n)
			}
			return get(fmt.Sprintf("%s/users/%d", s.url, n+1), n)
		}},
		{"lookup by email, debug route", false, func(s *server, n int) (*http.Request, []byte) {
			if s == sluice {
				return post(conn+"/debug", map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]string{"email": email(n)}}}, n)
			}
			return get(s.url+"/users?email="+url.QueryEscape(email(n)), n)
		}},
		{"login, bcrypt cost 10", true, func(s *server, n int) (*http.Request, []byte) {
			body := map[string]string{"email": email(n), "password": testpg.Password}
			switch s {
			case sluice:
				return post(conn+"/login", body, n)
			case goSrv:
				return post(s.url+"/login", body, n)
			}
			return nil, nil // the Node server has no bcrypt
		}},
	}

	type key struct{ scenario, clients, server int }
	results := map[key]Result{}
	perRound := map[key][]Result{}
	// A warm-up, not measured: instances, pools and JITs at the most
	// clients, on every server.
	for _, v := range servers {
		if _, err := Run(context.Background(), Load{Clients: clients[len(clients)-1], Duration: 2 * time.Second, Users: users,
			Request: func(n int) (*http.Request, []byte) { return scenarios[0].request(v, n) }, Status: http.StatusOK}); err != nil {
			b.Fatalf("warming %s: %v", v.name, err)
		}
	}
	for round := range rounds {
		for si, sc := range scenarios {
			for ci, c := range clients {
				if sc.slow && ci > 0 {
					continue
				}
				for vi, v := range servers {
					if req, _ := sc.request(v, 0); req == nil {
						continue
					}
					d := duration
					if sc.slow {
						d *= 3
					}
					stopPerf := func() {}
					if perfDir != "" && v == sluice {
						stopPerf = perfRecord(b, filepath.Join(perfDir, fmt.Sprintf("sluice-%d-%dclients-round%d.data", si, c, round+1)), v.cmd.Process.Pid)
					}
					res, err := Run(context.Background(), Load{
						Clients: c, Warmup: min(time.Second, d/5), Duration: d, Users: users,
						Request: func(n int) (*http.Request, []byte) { return sc.request(v, n) },
						Status:  http.StatusOK, PID: v.cmd.Process.Pid,
					})
					stopPerf()
					if err != nil {
						b.Fatalf("round %d, %s, %d clients, %s: %v", round+1, sc.name, c, v.name, err)
					}
					k := key{si, ci, vi}
					results[k] = results[k].Merge(res)
					perRound[k] = append(perRound[k], res)
				}
			}
		}
	}

	// The table, in Markdown: each figure over all rounds, the ratios
	// to Go as the whole and (in parentheses) the rounds' range.
	const sluiceIdx, goIdx, nodeIdx = 0, 1, 2
	var out strings.Builder
	fmt.Fprintf(&out, "\nSide by side: %d users, %d round(s) of %v per server and load (logins: %v, %d clients), servers interleaved\n\n",
		users, rounds, duration, 3*duration, clients[0])
	fmt.Fprintln(&out, "| call | clients | server | calls/s | CPU µs/call | p50 | p99 | p99/p50 | calls/s vs Go | CPU/call vs Go |")
	fmt.Fprintln(&out, "|---|---|---|---|---|---|---|---|---|---|")
	vsGo := func(si, ci, vi int, f func(a, b Result) float64) string {
		a, g := key{si, ci, vi}, key{si, ci, goIdx}
		return ratio(f(results[a], results[g]), perRound[a], perRound[g], f)
	}
	for si, sc := range scenarios {
		for ci, c := range clients {
			for vi, v := range servers {
				r, ok := results[key{si, ci, vi}]
				if !ok {
					continue
				}
				thr, cpu := "", ""
				if vi != goIdx {
					thr, cpu = vsGo(si, ci, vi, throughput), vsGo(si, ci, vi, cpuPerCall)
				}
				fmt.Fprintf(&out, "| %s | %d | %s | %s | %.0f | %s | %s | %.1f | %s | %s |\n", sc.name, c, v.name,
					rate(r.PerSecond()), float64(r.CPUPerCall())/float64(time.Microsecond),
					ms(r.Percentile(50)), ms(r.Percentile(99)), tail(r), thr, cpu)
			}
		}
	}
	fmt.Fprint(&out, `
Routes: lookup by id: Sluice GET /v1/connections/{name}/users/{id} (getUser {"query":{"id"}}), Go and Node GET /users/{id};
lookup by email: Sluice POST /v1/connections/{name}/debug {"function":"getUser","input":{"query":{"email"}}}, Go and Node GET /users?email=;
login: Sluice POST /v1/connections/{name}/login {"email","password"} (CUSTOM_USER_STORE: the connector's login, bcrypt on the host), Go POST /login.
Each server holds a pool of 4 PostgreSQL connections (Sluice's default per connection; -pool and POOL for Go and Node).
CPU is the server process's user+system time (PostgreSQL's and the load generator's not counted).

`)
	// The goals of issue 10, on the user-flow lookup and the login.
	goal := func(what string, v float64, ok bool) {
		verdict := "met"
		if !ok {
			verdict = "MISSED"
		}
		fmt.Fprintf(&out, "- %s: %.2f — %s\n", what, v, verdict)
	}
	fmt.Fprintln(&out, "Goals (issue 10):")
	for ci, c := range clients {
		s, g, n := results[key{0, ci, sluiceIdx}], results[key{0, ci, goIdx}], results[key{0, ci, nodeIdx}]
		goal(fmt.Sprintf("lookup, %d clients: Sluice calls/s ≥ 0.5× Go", c), throughput(s, g), throughput(s, g) >= 0.5)
		goal(fmt.Sprintf("lookup, %d clients: Sluice CPU per call ≤ 2× Go", c), cpuPerCall(s, g), cpuPerCall(s, g) <= 2)
		goal(fmt.Sprintf("lookup, %d clients: Sluice calls/s ≥ 1.5× Node", c), throughput(s, n), throughput(s, n) >= 1.5)
		if c == 64 {
			goal("lookup, 64 clients: Sluice p99 ≤ 5× p50", tail(s), tail(s) <= 5)
		}
	}
	s, g := results[key{2, 0, sluiceIdx}], results[key{2, 0, goIdx}]
	goal(fmt.Sprintf("login, %d clients: Sluice calls/s ≥ 0.95× Go", clients[0]), throughput(s, g), throughput(s, g) >= 0.95)
	goal(fmt.Sprintf("login, %d clients: Sluice CPU per call ≤ 1/0.95× Go", clients[0]), cpuPerCall(s, g), cpuPerCall(s, g) <= 1/0.95)
	fmt.Print(out.String())
	b.ReportMetric(0, "ns/op") // the table is the result
}

func throughput(a, b Result) float64 { return a.PerSecond() / b.PerSecond() }
func cpuPerCall(a, b Result) float64 { return float64(a.CPUPerCall()) / float64(b.CPUPerCall()) }
func tail(r Result) float64          { return float64(r.Percentile(99)) / float64(r.Percentile(50)) }

// ratio formats whole with the range of the rounds' ratios.
func ratio(whole float64, a, b []Result, f func(a, b Result) float64) string {
	lo, hi := f(a[0], b[0]), f(a[0], b[0])
	for i := range a {
		lo, hi = min(lo, f(a[i], b[i])), max(hi, f(a[i], b[i]))
	}
	if len(a) == 1 {
		return fmt.Sprintf("%.2f×", whole)
	}
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", whole, lo, hi)
}

func rate(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.2fk", v/1000)
	}
	return fmt.Sprintf("%.1f", v)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// perfRecord samples process pid's stacks with perf into file until the
// returned function is called (SLUICE_SIDEBYSIDE_PERF=DIR: a profile of
// Sluice's side of each run; perf's overhead makes those runs' figures
// no measurement). Read one with perf report -i FILE.
func perfRecord(b *testing.B, file string, pid int) (stop func()) {
	b.Helper()
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("perf", "record", "-q", "-g", "-F", "499", "-o", file, "-p", strconv.Itoa(pid))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("perf record (SLUICE_SIDEBYSIDE_PERF): %v", err)
	}
	return func() {
		cmd.Process.Signal(os.Interrupt)
		if err := cmd.Wait(); err != nil && stderr.Len() > 0 {
			b.Logf("perf record: %v: %s", err, stderr.String())
		}
	}
}

// goBuild builds the package pkg of the root module into dir.
func goBuild(b *testing.B, dir, pkg string) string {
	b.Helper()
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	if msg, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build %s: %v\n%s", pkg, err, msg)
	}
	return out
}

var listening = regexp.MustCompile(`listening on (http://[^ \n]+)`)

// startServer starts bin with args (and env added to this process's) and
// waits for it to print where it listens. Its output goes to files in a
// temporary directory, so that nothing in this process copies it; it is
// stopped when b ends.
func startServer(b *testing.B, name, bin string, env []string, args ...string) *server {
	b.Helper()
	dir := b.TempDir()
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		b.Fatal(err)
	}
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		stdout.Close()
		stderr.Close()
	})
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		text, _ := os.ReadFile(stdout.Name())
		if m := listening.FindSubmatch(text); m != nil {
			return &server{name: name, url: string(m[1]), cmd: cmd}
		}
		select {
		case <-done:
			msg, _ := os.ReadFile(stderr.Name())
			b.Fatalf("%s exited: %s", name, msg)
		default:
		}
	}
	b.Fatalf("%s did not start in 60 s", name)
	return nil
}

// startSluice starts `sluice serve` on an embedded store with a tenant
// whose connection runs examples/postgres in CUSTOM_USER_STORE mode on
// dsn, its quotas too high to throttle, loopback granted, and calls it
// once so that the module is compiled and an instance is warm.
func startSluice(b *testing.B, bin, dsn string) *server {
	b.Helper()
	wasm, err := os.ReadFile(wasmbuild.TestPath(b, filepath.Join(root, "examples", "postgres")))
	if err != nil {
		b.Fatal(err)
	}
	s := startServer(b, "Sluice, examples/postgres", bin, []string{"SLUICE_STORE=", "SLUICE_OPERATOR_TOKEN=", "SLUICE_MASTER_KEY="},
		"serve", "--addr", "127.0.0.1:0", "--data-dir", b.TempDir(), "--operator-token", operatorToken,
		"--warm-javascript=false") // measured from cold (JavaScript), and no compile beside the Go measurements
	var tenant struct{ ID, APIKey string }
	do(b, "POST", s.url+"/v1/admin/tenants", operatorToken, "application/json", `{"name":"sidebyside"}`, 201, &tenant)
	do(b, "PUT", s.url+"/v1/admin/tenants/"+tenant.ID+"/quotas", operatorToken, "application/json",
		`{"maxConcurrency":1024,"callsPerMinute":1000000,"timeoutMs":60000,"allowPrivateNetworks":true,"privateNetworks":["127.0.0.1/32"]}`, 200, nil)
	connection, _ := json.Marshal(map[string]any{"mode": "CUSTOM_USER_STORE", "dbType": "postgres",
		"connection": map[string]string{"uri": dsn}, "egressAllowlist": []string{"127.0.0.1:5432"}})
	do(b, "PUT", s.url+"/v1/connections/"+connName, tenant.APIKey, "application/json", string(connection), 201, nil)
	do(b, "POST", s.url+"/v1/connections/"+connName+"/versions", tenant.APIKey, "application/wasm", string(wasm), 201, nil)
	var user struct{ Email string }
	do(b, "GET", s.url+"/v1/connections/"+connName+"/users/1", tenant.APIKey, "", "", 200, &user)
	if user.Email != "user0@legacy.example.com" {
		b.Fatalf("user 1 is %q", user.Email)
	}
	s.key = tenant.APIKey
	return s
}

// startNode installs nodeserver's dependencies from the npm registry
// (npm ci into .cache/sidebyside/node, again only when the lock file
// changed) and starts it.
func startNode(b *testing.B, dsn string) *server {
	b.Helper()
	src, err := filepath.Abs("nodeserver")
	if err != nil {
		b.Fatal(err)
	}
	cache, err := filepath.Abs(filepath.Join(root, ".cache", "sidebyside", "node"))
	if err != nil {
		b.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		b.Fatal(err)
	}
	cached, _ := os.ReadFile(filepath.Join(cache, "package-lock.json"))
	if _, err := os.Stat(filepath.Join(cache, "node_modules", "pg")); err != nil || !bytes.Equal(lock, cached) {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			b.Fatal(err)
		}
		for _, f := range []string{"package.json", "package-lock.json"} {
			data, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(cache, f), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--omit=optional")
		cmd.Dir = cache
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("npm ci in %s (Node and npm must be installed): %v\n%s", cache, err, msg)
		}
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		b.Fatalf("node: %v", err)
	}
	return startServer(b, "Node http + pg.Pool", nodeBin,
		[]string{"NODE_PATH=" + filepath.Join(cache, "node_modules"), "DSN=" + dsn}, filepath.Join(src, "server.js"))
}

// do sends one setup request and decodes its answer into out (when not nil).
func do(b *testing.B, method, u, token, contentType, body string, want int, out any) {
	b.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		b.Fatalf("%s %s: %d %s", method, u, res.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			b.Fatalf("%s %s: %v: %s", method, u, err, data)
		}
	}
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a duration such as 5s", name, v)
	}
	return d
}

func envInt(b *testing.B, name string, def int) int {
	return envInts(b, name, []int{def})[0]
}

func envInts(b *testing.B, name string, def []int) []int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want positive whole numbers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}
