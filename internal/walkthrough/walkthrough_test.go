package walkthrough

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blocks returns the shell blocks of readme marked
// "<!-- walkthrough: NAME -->" on the line before their ```sh fence, by
// name, and the names in the order they appear.
func blocks(readme []byte) (map[string]string, []string, error) {
	out := map[string]string{}
	var order []string
	sc := bufio.NewScanner(bytes.NewReader(readme))
	name, in := "", false
	var body strings.Builder
	for sc.Scan() {
		line := sc.Text()
		switch {
		case in && strings.TrimSpace(line) == "```":
			out[name], in, name = body.String(), false, ""
		case in:
			body.WriteString(line + "\n")
		case strings.HasPrefix(line, "<!-- walkthrough:"):
			name = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "<!-- walkthrough:"), "-->"))
			if _, dup := out[name]; dup {
				return nil, nil, fmt.Errorf("walkthrough block %q twice", name)
			}
			order = append(order, name)
		case name != "" && strings.HasPrefix(line, "```sh"):
			in = true
			body.Reset()
		case name != "" && strings.TrimSpace(line) != "":
			return nil, nil, fmt.Errorf("walkthrough marker %q not followed by a ```sh block", name)
		}
	}
	if in {
		return nil, nil, fmt.Errorf("walkthrough block %q not closed", name)
	}
	return out, order, sc.Err()
}

func TestBlocks(t *testing.T) {
	md := "text\n<!-- walkthrough: a -->\n```sh\necho a\n```\n\n<!-- walkthrough: b -->\n\n```sh\necho b\necho c\n```\n```sh\nnot marked\n```\n"
	got, order, err := blocks([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	if got["a"] != "echo a\n" || got["b"] != "echo b\necho c\n" || len(got) != 2 || strings.Join(order, ",") != "a,b" {
		t.Fatalf("blocks = %q, order %v", got, order)
	}
	for _, bad := range []string{
		"<!-- walkthrough: a -->\ntext\n```sh\n```\n",
		"<!-- walkthrough: a -->\n```sh\necho\n",
		"<!-- walkthrough: a -->\n```sh\n```\n<!-- walkthrough: a -->\n```sh\n```\n",
	} {
		if _, _, err := blocks([]byte(bad)); err == nil {
			t.Errorf("blocks(%q) accepted", bad)
		}
	}
}

// TestREADMEWalkthrough starts the README's server block (`make run`) on a
// free port and a data directory of its own, then runs the other blocks in
// one bash, in order, at the top of the checkout, each command's failure
// failing the test (set -e; the README's curl calls use -f), and checks
// what their answers show.
func TestREADMEWalkthrough(t *testing.T) {
	for _, tool := range []string{"bash", "make", "curl", "psql", "sed"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README walkthrough needs %s: %v", tool, err)
		}
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	bl, order, err := blocks(readme)
	if err != nil {
		t.Fatal(err)
	}
	if len(order) < 3 || order[0] != "server" || order[1] != "static" || order[2] != "postgres" {
		t.Fatalf("README walkthrough blocks %v, want server, static, postgres first", order)
	}

	port := freePort(t)
	base := "http://127.0.0.1:" + port
	env := cleanEnv(os.Environ(),
		"SLUICE_ADDR=127.0.0.1:"+port,
		"SLUICE_DATA_DIR="+t.TempDir(),
		"S="+base,
		"PGURL="+pgBase(t),
		"NEW="+filepath.Join(t.TempDir(), "acme-users"),
	)

	server := exec.Command("bash", "-e", "-o", "pipefail", "-c", bl["server"])
	server.Dir, server.Env = root, env
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var serverOut syncBuffer
	server.Stdout, server.Stderr = &serverOut, &serverOut
	if err := server.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { server.Wait(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(-server.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			syscall.Kill(-server.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("server output:\n%s", serverOut.String())
		}
	})
	waitHealthy(t, base, exited, &serverOut)

	// The other blocks run in one shell, so that what one sets (TOKEN,
	// KEY, ...) the next uses, as in the reader's terminal; a marker line
	// splits their output.
	var script strings.Builder
	for _, name := range order[1:] {
		fmt.Fprintf(&script, "echo '=== walkthrough: %s'\n%s\n", name, bl[name])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	run := exec.CommandContext(ctx, "bash", "-e", "-o", "pipefail", "-c", script.String())
	run.Dir, run.Env = root, env
	var stderr bytes.Buffer
	run.Stderr = &stderr
	out, err := run.Output()
	t.Logf("walkthrough output:\n%s", out)
	if err != nil {
		t.Fatalf("the README walkthrough failed: %v\nstderr:\n%s", err, stderr.String())
	}
	parts := map[string]string{}
	for _, p := range strings.Split(string(out), "=== walkthrough: ")[1:] {
		name, body, _ := strings.Cut(p, "\n")
		parts[name] = body
	}
	for _, c := range []struct{ block, want string }{
		{"static", `"mode":"LAZY_MIGRATION"`},      // the saved connection
		{"static", `"active":true`},                // the upload went live
		{"static", `"ok":true,"result":{"id":"1"`}, // debug getUser
		{"static", `"source":"connector"`},         // the migrating login
		{"postgres", `"allowPrivateNetworks":true`},
		{"postgres", `"kind":"sql"`}, // debug's host-call trace
		{"postgres", `FROM users`},
		{"postgres", `"email":"ada@example.com"`},
		{"postgres", `"migratedUsers":1`},
		{"new", "CUSTOM_USER_STORE  satisfied"}, // sluice build's modes
		{"new", `"email": "grace@example.com"`}, // sluice call
		{"new", "version    2 (a new version)"}, // sluice deploy
		{"new", "active     yes (activated)"},   // --activate
		{"new", `"nickname":"Grace"`},           // the login through it
		{"new", `"source":"connector"`},
	} {
		if !strings.Contains(parts[c.block], c.want) {
			t.Errorf("walkthrough block %s: output lacks %s", c.block, c.want)
		}
	}
}

// pgBase is the test PostgreSQL server's URL without database or
// parameters: what the README's PGURL names.
func pgBase(t *testing.T) string {
	dsn := os.Getenv("SLUICE_TEST_PG_DSN")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("SLUICE_TEST_PG_DSN: %v", err)
	}
	u.Path, u.RawQuery = "", ""
	return u.String()
}

// cleanEnv is env without PG* variables (pgx and psql read them) and
// with extra set.
func cleanEnv(env []string, extra ...string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "SLUICE_ADDR=") || strings.HasPrefix(kv, "SLUICE_DATA_DIR=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// waitHealthy waits for the server to answer /healthz (`make run`
// compiles it first).
func waitHealthy(t *testing.T, base string, exited <-chan struct{}, out *syncBuffer) {
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("the server block exited:\n%s", out.String())
		default:
		}
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("the server did not answer /healthz:\n%s", out.String())
}
