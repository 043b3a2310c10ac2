package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// lockedBuffer is an io.Writer safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listenRE = regexp.MustCompile(`listening on (http://[^ ]+)`)

// startServe runs serve in the background and returns its base URL, its
// stdout and a stop func returning the exit code. Unless args say, the
// JavaScript runtime is not compiled at start (seconds of a core each).
func startServe(t *testing.T, args ...string) (string, *lockedBuffer, func() int) {
	t.Helper()
	base, stdout, _, stop := startServeLogs(t, args...)
	return base, stdout, stop
}

// startServeLogs is startServe that also returns serve's stderr (its log).
func startServeLogs(t *testing.T, args ...string) (string, *lockedBuffer, *lockedBuffer, func() int) {
	t.Helper()
	if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--warm-javascript") }) {
		args = append([]string{"--warm-javascript=false"}, args...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan int, 1)
	go func() { done <- serve(ctx, args, stdout, stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listenRE.FindStringSubmatch(stdout.String()); m != nil {
			stopped := false
			var code int
			stop := func() int {
				if !stopped {
					cancel()
					code, stopped = <-done, true
				}
				return code
			}
			t.Cleanup(func() { stop() })
			return m[1], stdout, stderr, stop
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("serve exited with %d: %s %s", code, stdout, stderr)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not start: %s %s", stdout, stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestServe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	base, stdout, stop := startServe(t, "--addr", "127.0.0.1:0", "--data-dir", dir, "--public-ips", "203.0.113.7, 203.0.113.8")
	tokenPath := filepath.Join(dir, operatorTokenFile)
	out := stdout.String()
	if !strings.Contains(out, "generated an operator token into "+tokenPath) || !strings.Contains(out, "curl -X POST "+base+"/v1/admin/tenants") {
		t.Errorf("startup message:\n%s", out)
	}
	for _, f := range []string{operatorTokenFile, masterKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, fi.Mode(), err)
		}
	}
	token, _ := os.ReadFile(tokenPath)

	res, err := http.Get(base + "/api/system/public-ips")
	if err != nil {
		t.Fatal(err)
	}
	var ips struct{ IPs []string }
	json.NewDecoder(res.Body).Decode(&ips)
	res.Body.Close()
	if strings.Join(ips.IPs, ",") != "203.0.113.7,203.0.113.8" {
		t.Errorf("public ips: %v", ips.IPs)
	}
	req, _ := http.NewRequest("POST", base+"/v1/admin/tenants", strings.NewReader(`{"name":"acme"}`))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("create tenant with the generated token: %d", res.StatusCode)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}

	// Again on the same data dir: the same token, the tenant is there.
	base, stdout, stop = startServe(t, "--addr", "127.0.0.1:0", "--data-dir", dir)
	if !strings.Contains(stdout.String(), "operator token in "+tokenPath) {
		t.Errorf("second start:\n%s", stdout)
	}
	req, _ = http.NewRequest("GET", base+"/v1/admin/tenants", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(token)))
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ Tenants []struct{ Name string } }
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if len(list.Tenants) != 1 || list.Tenants[0].Name != "acme" {
		t.Errorf("tenants after restart: %+v", list)
	}
	if code := stop(); code != 0 {
		t.Errorf("exit code %d", code)
	}
}

func TestServeEnvAndFlags(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLUICE_DATA_DIR", dir)
	t.Setenv("SLUICE_OPERATOR_TOKEN", "from-env")
	t.Setenv("SLUICE_ADDR", "127.0.0.1:0")
	base, stdout, _ := startServe(t)
	if strings.Contains(stdout.String(), "generated") {
		t.Errorf("generated a token although one was given:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, operatorTokenFile)); err == nil {
		t.Error("wrote a token file although a token was given")
	}
	req, _ := http.NewRequest("GET", base+"/v1/admin/tenants", nil)
	req.Header.Set("Authorization", "Bearer from-env")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("token from SLUICE_OPERATOR_TOKEN: %d", res.StatusCode)
	}

	for _, args := range [][]string{{"--nope"}, {"extra"}, {"--master-key", "short", "--data-dir", t.TempDir()},
		{"--cluster-heartbeat", "1s", "--cluster-ttl", "2s"}, {"--cluster-heartbeat", "0s"}} {
		var o, e bytes.Buffer
		if code := serve(context.Background(), args, &o, &e); code == 0 {
			t.Errorf("serve %v: exit 0", args)
		}
	}
}

// TestServeRefusesAllowPrivateNetworks: the node-wide switch is gone; the
// flag and its variable are refused with directions to the tenant quota,
// before anything is created.
func TestServeRefusesAllowPrivateNetworks(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		args []string
	}{
		{"flag", "", []string{"--allow-private-networks"}},
		{"variable", "true", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			t.Setenv("SLUICE_ALLOW_PRIVATE_NETWORKS", tc.env)
			var o, e bytes.Buffer
			args := append([]string{"--data-dir", dir, "--addr", "127.0.0.1:0"}, tc.args...)
			if code := serve(context.Background(), args, &o, &e); code != 2 {
				t.Fatalf("exit %d, want 2; stderr:\n%s", code, e.String())
			}
			for _, want := range []string{"no longer supported", "allowPrivateNetworks", "privateNetworks", "/v1/admin/tenants/TENANT/quotas"} {
				if !strings.Contains(e.String(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, e.String())
				}
			}
			if _, err := os.Stat(dir); err == nil {
				t.Error("created the data directory before refusing")
			}
		})
	}
	t.Setenv("SLUICE_ALLOW_PRIVATE_NETWORKS", "false")
	startServe(t, "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0")
}

// TestStoreProtected: a PostgreSQL store's hosts become protected egress
// addresses; the embedded store and unix sockets give none.
func TestStoreProtected(t *testing.T) {
	ctx := context.Background()
	got, err := storeProtected(ctx, "postgres://u@127.0.0.1:5433,[::1]:5434/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	var prefixes []string
	for _, p := range got {
		prefixes = append(prefixes, p.Prefix.String())
	}
	if strings.Join(prefixes, " ") != "127.0.0.1/32 ::1/128" || got[0].What != "the control-plane store's address" {
		t.Errorf("storeProtected = %+v", got)
	}
	for _, url := range []string{"", "postgres:///db?host=/var/run/postgresql"} {
		if p, err := storeProtected(ctx, url); err != nil || len(p) != 0 {
			t.Errorf("storeProtected(%q) = %v, %v; want none", url, p, err)
		}
	}
}

// TestServeInstanceRateFlags: an instance rate or burst that would let
// no instance start is refused, naming the flag.
func TestServeInstanceRateFlags(t *testing.T) {
	for _, args := range [][]string{{"--instance-rate", "0"}, {"--instance-rate", "-1"}, {"--instance-burst", "0"}} {
		var o, e bytes.Buffer
		if code := serve(context.Background(), append(args, "--data-dir", t.TempDir()), &o, &e); code != 2 || !strings.Contains(e.String(), args[0]) {
			t.Errorf("%v: exit %d, want 2 naming the flag: %s", args, code, e.String())
		}
	}
}

// TestServeWarmsJavaScript: by default serve compiles the JavaScript
// runtime module at start, in the background, into the data directory's
// compile cache, and says so in its log.
func TestServeWarmsJavaScript(t *testing.T) {
	dir := t.TempDir()
	_, _, stderr, _ := startServeLogs(t, "--warm-javascript", "--addr", "127.0.0.1:0", "--data-dir", dir)
	for deadline := time.Now().Add(5 * time.Minute); !strings.Contains(stderr.String(), "javascript runtime ready"); time.Sleep(50 * time.Millisecond) {
		if strings.Contains(stderr.String(), "javascript runtime: not compiled") || time.Now().After(deadline) {
			t.Fatalf("no warm JavaScript runtime: %s", stderr)
		}
	}
	if entries, err := os.ReadDir(filepath.Join(dir, cacheDirName)); err != nil || len(entries) == 0 {
		t.Errorf("compile cache %s: %d entries, %v", cacheDirName, len(entries), err)
	}
}

// TestServeMaxVersions: SLUICE_MAX_VERSIONS reaches the API (an upload
// over the cap prunes the oldest inactive version), and a cap that
// cannot hold the active version and an upload is refused.
func TestServeMaxVersions(t *testing.T) {
	for _, n := range []string{"0", "1"} {
		var o, e bytes.Buffer
		if code := serve(context.Background(), []string{"--max-versions", n, "--data-dir", t.TempDir()}, &o, &e); code != 2 || !strings.Contains(e.String(), "--max-versions") {
			t.Errorf("--max-versions %s: exit %d, want 2: %s", n, code, e.String())
		}
	}
	t.Setenv("SLUICE_MAX_VERSIONS", "2")
	t.Setenv("SLUICE_OPERATOR_TOKEN", "op")
	base, _, _ := startServe(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var tenant struct{ APIKey string }
	httpCall(t, "POST", base+"/v1/admin/tenants", "op", "application/json", []byte(`{"name":"acme"}`), 201, &tenant)
	conn := `{"mode":"LAZY_MIGRATION","dbType":"postgres","connection":{"host":"db.example.com","port":5432,"username":"app","database":"users"}}`
	httpCall(t, "PUT", base+"/v1/connections/c", tenant.APIKey, "application/json", []byte(conn), 201, nil)
	var last struct{ Pruned []int }
	for _, dir := range []string{"../../examples/static", "../../api/testdata/probe", "../../api/testdata/nologin"} {
		httpCall(t, "POST", base+"/v1/connections/c/versions", tenant.APIKey, "application/wasm", wasmbuild.Test(t, dir), 201, &last)
	}
	var list struct {
		ActiveVersion int
		Versions      []struct{ Version int }
	}
	httpCall(t, "GET", base+"/v1/connections/c/versions", tenant.APIKey, "", nil, 200, &list)
	if len(last.Pruned) != 1 || last.Pruned[0] != 2 || list.ActiveVersion != 1 || len(list.Versions) != 2 || list.Versions[1].Version != 3 {
		t.Fatalf("with SLUICE_MAX_VERSIONS=2: pruned %v, versions %+v", last.Pruned, list)
	}
}

// TestServeCallLog: SLUICE_CALL_LOG_MAX_CALLS reaches the call log (a
// connection keeps its newest calls), bad call-log flags are refused,
// and stopping the server ends an open call-log stream instead of
// waiting for it.
func TestServeCallLog(t *testing.T) {
	for _, args := range [][]string{{"--call-log-max-calls", "-1"}, {"--call-log-max-bytes", "lots"}, {"--call-log-queue", "0"}} {
		var o, e bytes.Buffer
		if code := serve(context.Background(), append(args, "--data-dir", t.TempDir()), &o, &e); code != 2 || !strings.Contains(e.String(), args[0]) {
			t.Errorf("%v: exit %d, want 2: %s", args, code, e.String())
		}
	}
	t.Setenv("SLUICE_CALL_LOG_MAX_CALLS", "2")
	t.Setenv("SLUICE_OPERATOR_TOKEN", "op")
	base, _, stop := startServe(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var tenant struct{ APIKey string }
	httpCall(t, "POST", base+"/v1/admin/tenants", "op", "application/json", []byte(`{"name":"acme"}`), 201, &tenant)
	conn := `{"mode":"LAZY_MIGRATION","dbType":"postgres","connection":{"host":"db.example.com","port":5432,"username":"app","database":"users"}}`
	httpCall(t, "PUT", base+"/v1/connections/c", tenant.APIKey, "application/json", []byte(conn), 201, nil)
	httpCall(t, "POST", base+"/v1/connections/c/versions", tenant.APIKey, "application/wasm", wasmbuild.Test(t, "../../examples/static"), 201, nil)
	for _, email := range []string{"alice@example.com", "bob@example.com", "carol@example.com"} {
		httpCall(t, "POST", base+"/v1/connections/c/debug", tenant.APIKey, "application/json",
			[]byte(`{"function":"getUser","input":{"query":{"email":"`+email+`"}}}`), 200, nil)
	}
	var page struct {
		Calls []struct{ Source, Function string }
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		httpCall(t, "GET", base+"/v1/connections/c/calls", tenant.APIKey, "", nil, 200, &page)
		if len(page.Calls) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(page.Calls) != 2 || page.Calls[0].Source != "debug" || page.Calls[0].Function != "getUser" {
		t.Fatalf("with SLUICE_CALL_LOG_MAX_CALLS=2: %+v", page.Calls)
	}

	req, _ := http.NewRequest("GET", base+"/v1/connections/c/calls/stream", nil)
	req.Header.Set("Authorization", "Bearer "+tenant.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("stream: %v %v", res, err)
	}
	defer res.Body.Close()
	if code := stop(); code != 0 { // would wait --shutdown-timeout (30s) and exit 1 on the open stream
		t.Errorf("exit code %d with a stream open", code)
	}
}
