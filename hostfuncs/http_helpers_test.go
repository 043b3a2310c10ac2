package hostfuncs_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The HTTP and password tests share one engine and compile each guest
// once per test binary. The engine's compilation cache lives in a fixed
// directory under the temporary directory so reruns skip compiling (no
// TestMain here: other host-function tests of this package may have
// their own).
var (
	httpEngineOnce sync.Once
	httpEngine     *engine.Engine
	httpEngineErr  error

	httpGuestsMu sync.Mutex
	httpGuests   = map[string]*engine.Module{}
)

// httpGuest returns the compiled guest testdata/httpguest/<name>.
func httpGuest(t *testing.T, name string) (*engine.Engine, *engine.Module) {
	t.Helper()
	httpEngineOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sluice-hostfuncs-test-wazero")
		httpEngine, httpEngineErr = engine.New(context.Background(), engine.Config{CacheDir: dir})
	})
	if httpEngineErr != nil {
		t.Fatal(httpEngineErr)
	}
	httpGuestsMu.Lock()
	defer httpGuestsMu.Unlock()
	if m, ok := httpGuests[name]; ok {
		return httpEngine, m
	}
	wasm := wasmbuild.Test(t, filepath.Join("testdata", "httpguest", name))
	m, err := httpEngine.Load(context.Background(), wasm)
	if err != nil {
		t.Fatalf("loading guest %s: %v", name, err)
	}
	httpGuests[name] = m
	return httpEngine, m
}

// newHTTPManager returns a Manager closed at the end of the test.
func newHTTPManager(t *testing.T, cfg hostfuncs.Config) *hostfuncs.Manager {
	t.Helper()
	m := hostfuncs.New(cfg)
	t.Cleanup(func() { m.Close() })
	return m
}

// httpConfig is the Manager configuration of the HTTP tests (their
// connections' tenants are granted loopback: httpConn).
var httpConfig = hostfuncs.Config{}

// httpGuestCall runs fn of guest with the host of conn.
func httpGuestCall(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection, guest, fn string, input any) (*engine.Result, *engine.Error) {
	t.Helper()
	e, mod := httpGuest(t, guest)
	host, err := m.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Call(context.Background(), mod, engine.Request{
		Tenant:   conn.Tenant,
		Pool:     conn.Name + "/" + strconv.Itoa(conn.ConfigVersion),
		Function: fn,
		Input:    in,
		Env:      conn.Env(map[string]string{"API_KEY": "k-123"}),
		Host:     host,
	})
	if err != nil {
		var ee *engine.Error
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", fn, err)
		}
		return res, ee
	}
	return res, nil
}

// httpProbe runs one command of the probe guest and returns the outcome
// (its customData) and the call's result.
func httpProbe(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection, cmd any) (map[string]any, *engine.Result) {
	t.Helper()
	b, err := json.Marshal(cmd)
	if err != nil {
		t.Fatal(err)
	}
	input := map[string]any{"query": map[string]any{"id": string(b)}, "context": map[string]any{"tenant": conn.Tenant, "connection": conn.Name, "requestId": "r1"}}
	res, cerr := httpGuestCall(t, m, conn, "probe", "getUser", input)
	if cerr != nil {
		t.Fatalf("probe %s: %v (logs %v)", b, cerr, res.Logs)
	}
	var user struct {
		CustomData map[string]any `json:"customData"`
	}
	if err := json.Unmarshal(res.Output, &user); err != nil {
		t.Fatalf("probe output %s: %v", res.Output, err)
	}
	return user.CustomData, res
}

// httpProbeErr is the code of the error a probe command got, or "".
func httpProbeErr(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}
