package api_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
)

// workerArg makes this test binary a compile worker (see
// engine.Config.CompileWorker).
const workerArg = "sluice-test-compile-worker"

func init() {
	if len(os.Args) > 1 && os.Args[1] == workerArg {
		if err := engine.RunCompileWorker(context.Background(), os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// TestUploadOverModuleLimits: an upload over a module limit, or whose
// compile goes past the compile bounds, ends 400 invalid_module with a
// message naming the limit, and the server goes on.
func TestUploadOverModuleLimits(t *testing.T) {
	tests := []struct {
		name string
		opt  envOption
		want string
	}{
		{"module limit", func(c *envConfig) { c.engine.ModuleLimits = engine.ModuleLimits{MaxNestingDepth: 100} }, "deep, over the limit of 100 (maxNestingDepth)"},
		{"compile time", func(c *envConfig) {
			c.engine.CacheDir = t.TempDir() // not the shared cache, where the module compiled before
			c.engine.CompileWorker = []string{os.Args[0], workerArg}
			c.engine.CompileTimeout = 50 * time.Millisecond
		}, "compiling the module took longer than 50ms (compileTimeout)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, sqliteSpec(t), tt.opt)
			_, key := e.newTenant("limits")
			e.req("PUT", "/v1/connections/c", key, pgConn("pw")).must(t, 201)
			r := e.upload(key, "c", staticWasm(t), "").must(t, 400)
			if code := r.errCode(t); code != "invalid_module" {
				t.Errorf("code %s", code)
			}
			if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tt.want) {
				t.Errorf("message %q does not contain %q", msg, tt.want)
			}
			e.req("GET", "/healthz", "", nil).must(t, 200)
			e.req("GET", "/v1/connections/c/versions", key, nil).must(t, 200)
		})
	}
}
