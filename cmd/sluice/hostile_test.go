package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/hostile"
)

// cliStartup is what starting `sluice call` may add to a call's time
// (process start, engine, compiled module from the disk cache).
const cliStartup = 2 * time.Second

var durationRE = regexp.MustCompile(`(?m)^duration (\S+), memory`)

// TestHostileCall runs every shape of the hostile corpus through a built
// `sluice call --timeout 200ms` process: exit status 1 with the shape's
// error code on stdout (2 and "invalid module" for a refused module), a
// reported duration within the deadline plus hostile.Bound, and a process
// that ends. Each process runs under hostile's address-space limit and is
// killed when it outlasts the watchdog.
func TestHostileCall(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sluice")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The processes share one compile cache (os.UserCacheDir).
	xdg := filepath.Join(dir, "xdg")
	for _, c := range hostile.Corpus() {
		t.Run(c.Name, func(t *testing.T) {
			path := hostile.WasmPath(t, c)
			if c.Stage == hostile.Run {
				warmCompileCache(t, filepath.Join(xdg, "sluice", "compile"), path)
			}
			db := hostile.DBConn(c)
			args := []string{"call", path, c.Func(), "--input", c.In(),
				"--timeout", c.Limit().String(), "--memory", fmt.Sprintf("%dMiB", c.Memory()),
				"--env", "DB_CONNECTION_URI=" + db.URI, "--allow", db.Allow, "--allow-private", "--db-type", db.DBType}
			res := hostile.RunCommand(t, hostile.Watchdog(t), []string{"XDG_CACHE_HOME=" + xdg}, bin, args...)
			checkCall(t, c, res)
		})
	}
}

// warmCompileCache compiles a module whose attack is in its call (not in
// compiling or starting it) into the CLI's disk cache, so that the
// process's time is the call's.
func warmCompileCache(t *testing.T, dir, path string) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{CacheDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	e.Load(ctx, mustRead(t, path)) // a refusal shows in the call
}

func checkCall(t *testing.T, c hostile.Case, res hostile.Command) {
	t.Helper()
	stderrTail := hostile.Excerpt(res.Stderr)
	if res.Hung {
		t.Fatalf("HUNG: sluice call did not end within the watchdog of %s and was killed\nstderr: %s", hostile.Watchdog(t), stderrTail)
	}
	var got hostile.Outcome
	switch res.Code {
	case exitOK:
		got = hostile.OK
	case exitConnector:
		var e engine.Error
		if err := json.Unmarshal([]byte(res.Stdout), &e); err != nil || e.Code == "" {
			t.Fatalf("exit 1 without an error JSON on stdout: %q\nstderr: %s", res.Stdout, stderrTail)
		}
		got = hostile.Outcome(e.Code)
	case exitUsage:
		if !strings.Contains(res.Stderr, "invalid module") {
			t.Fatalf("exit 2 without an invalid module message after %s\nstderr: %s", res.Took.Round(time.Millisecond), stderrTail)
		}
		got = hostile.InvalidModule
	default:
		t.Fatalf("exit status %d after %s\nstdout: %.500s\nstderr: %s", res.Code, res.Took.Round(time.Millisecond), res.Stdout, stderrTail)
	}
	var took time.Duration
	if m := durationRE.FindStringSubmatch(res.Stderr); m != nil {
		took, _ = time.ParseDuration(m[1])
	}
	t.Logf("%s: exit %d, %s, call %s, process %s", c.Name, res.Code, got, took.Round(time.Millisecond), res.Took.Round(time.Millisecond))
	if !c.Allows(got) {
		t.Errorf("sluice call ended with %s; want %v\nstdout: %.500s\nstderr: %.1000s", got, c.Want, res.Stdout, stderrTail)
	}
	wall := c.Limit() + hostile.Bound() + cliStartup
	if got == hostile.InvalidModule || c.Stage != hostile.Run {
		wall = hostile.LoadBound() + c.Limit() + hostile.Bound() + cliStartup
	}
	if res.Took > wall {
		t.Errorf("the process took %s, over %s", res.Took.Round(time.Millisecond), wall)
	}
	if got != hostile.InvalidModule && took > c.Limit()+hostile.Bound() {
		t.Errorf("the call took %s, over its %s deadline plus %s", took.Round(time.Millisecond), c.Limit(), hostile.Bound())
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
