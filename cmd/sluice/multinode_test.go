package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestTwoProcessesShareAPostgresStore runs two sluice serve processes on
// one PostgreSQL store: a connector uploaded through one is debugged
// through the other, and both stop cleanly.
func TestTwoProcessesShareAPostgresStore(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	storeURL := testpg.Schema(t, "nodes")

	key := make([]byte, 32)
	rand.Read(key)
	common := []string{"serve", "--addr", "127.0.0.1:0", "--store", storeURL, "--warm-javascript=false",
		"--operator-token", "op-token-multinode", "--master-key", base64.StdEncoding.EncodeToString(key)}
	a := startProcess(t, bin, append(common, "--data-dir", filepath.Join(t.TempDir(), "a"))...)
	b := startProcess(t, bin, append(common, "--data-dir", filepath.Join(t.TempDir(), "b"))...)

	var tenant struct{ APIKey string }
	httpCall(t, "POST", a.url+"/v1/admin/tenants", "op-token-multinode", "application/json", []byte(`{"name":"acme"}`), 201, &tenant)
	conn := `{"mode":"LAZY_MIGRATION","dbType":"postgres","connection":{"host":"db.example.com","port":5432,"username":"app","password":"s3cret","database":"users"}}`
	httpCall(t, "PUT", a.url+"/v1/connections/legacy", tenant.APIKey, "application/json", []byte(conn), 201, nil)
	wasm, err := os.ReadFile(wasmbuild.TestPath(t, "../../examples/static"))
	if err != nil {
		t.Fatal(err)
	}
	httpCall(t, "POST", a.url+"/v1/connections/legacy/versions", tenant.APIKey, "application/wasm", wasm, 201, nil)

	var debug struct {
		OK     bool
		Result struct{ Username string }
	}
	body := `{"function":"login","input":{"query":{"email":"alice@example.com"},"password":"wonderland"}}`
	httpCall(t, "POST", b.url+"/v1/connections/legacy/debug", tenant.APIKey, "application/json", []byte(body), 200, &debug)
	if !debug.OK || debug.Result.Username != "alice" {
		t.Fatalf("debug through the second process: %+v", debug)
	}
	var saved struct{ Connection struct{ Password string } }
	httpCall(t, "GET", b.url+"/v1/connections/legacy", tenant.APIKey, "", nil, 200, &saved)
	if saved.Connection.Password == "s3cret" || saved.Connection.Password == "" {
		t.Fatalf("the second process answered the password %q", saved.Connection.Password)
	}
	for _, p := range []*process{a, b} {
		if code := p.stop(); code != 0 {
			t.Errorf("exit code %d", code)
		}
	}
}

type process struct {
	url  string
	cmd  *exec.Cmd
	done chan struct{}
}

func startProcess(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "SLUICE_STORE=", "SLUICE_OPERATOR_TOKEN=", "SLUICE_MASTER_KEY=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-p.done })
	select {
	case p.url = <-found:
		return p
	case <-p.done:
		t.Fatalf("sluice %s exited: %s", strings.Join(args, " "), stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("sluice did not start: %s", stderr.String())
	}
	return nil
}

func (p *process) stop() int {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return p.cmd.ProcessState.ExitCode()
}

func httpCall(t *testing.T, method, u, token, contentType string, body []byte, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s", method, u, res.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, u, err, b)
		}
	}
}
