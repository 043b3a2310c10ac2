package invoke_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// cacheDir is an engine compile cache shared by the package's tests, so
// each guest compiles once per run.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-invoke-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// fixture is a Runner over a real engine, host manager and SQLite store,
// with one tenant.
type fixture struct {
	t      *testing.T
	engine *engine.Engine
	store  store.Store
	runner *invoke.Runner
	reg    *prometheus.Registry
	tenant store.Tenant
}

// clock is a settable clock for the rate quota.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFixture(t *testing.T, ecfg engine.Config, now func() time.Time) *fixture {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, store.MasterKeySize)
	rand.Read(key)
	st, err := store.OpenSQLite(ctx, filepath.Join(t.TempDir(), "sluice.db"), key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ecfg.CacheDir = cacheDir
	eng, err := engine.New(ctx, ecfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	hosts := hostfuncs.New(hostfuncs.Config{})
	t.Cleanup(func() { hosts.Close() })
	r, err := invoke.New(invoke.Config{Engine: eng, Store: st, Hosts: hosts, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(r)
	tenant, err := st.CreateTenant(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, engine: eng, store: st, runner: r, reg: reg, tenant: tenant}
}

// connection saves a connection named name running wasm (none when nil)
// and returns it as the store has it.
func (f *fixture) connection(name string, wasm []byte) store.Connection {
	f.t.Helper()
	ctx := context.Background()
	conn, err := f.store.PutConnection(ctx, store.Connection{
		Tenant: f.tenant.ID, Name: name, Mode: store.ModeLazyMigration, DBType: store.DBPostgres,
		Connection: store.ConnParams{URI: "postgres://app:pw@db.example.com:5432/users"},
		Env:        map[string]string{}, EgressAllowlist: []string{"db.example.com:5432"}, Enabled: true,
	})
	if err != nil {
		f.t.Fatal(err)
	}
	if wasm == nil {
		return conn
	}
	// As an upload does: load (validate and compile), then store.
	info, err := f.runner.Load(ctx, "t", wasm)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.store.AddVersion(ctx, f.tenant.ID, name, store.NewVersion{
		SHA256: info.SHA256, Functions: info.Functions, ABIVersion: info.ABIVersion, Activate: true,
	}, wasm); err != nil {
		f.t.Fatal(err)
	}
	if conn, err = f.store.GetConnection(ctx, f.tenant.ID, name); err != nil {
		f.t.Fatal(err)
	}
	return conn
}

// call runs fn of the active version of conn with the fixture's tenant
// under quotas q.
func (f *fixture) call(conn store.Connection, q store.Quotas, fn, input string) (*engine.Result, error) {
	t := f.tenant
	t.Quotas = q
	return f.runner.Call(context.Background(), invoke.Call{Tenant: t, Connection: conn, Function: fn, Input: []byte(input)})
}

// metric returns the value of the counter name with labels, 0 when absent.
func (f *fixture) metric(name string, labels map[string]string) float64 {
	f.t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		f.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

func staticWasm(t testing.TB) []byte { return wasmbuild.Test(t, "../../examples/static") }

// loopWasm is a minimal connector whose login loops until its time limit.
func loopWasm() []byte {
	sec := func(id byte, content ...byte) []byte {
		return append([]byte{id, byte(len(content))}, content...)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 2, 0x60, 0, 1, 0x7F, 0x60, 1, 0x7F, 1, 0x7F)...) // () -> i32, (i32) -> i32
	m = append(m, sec(3, 2, 0, 1)...)
	m = append(m, sec(5, 1, 0, 1)...) // one memory of 1 page
	exports := []byte{3}
	exports = append(append(exports, str("memory")...), 2, 0)
	exports = append(append(exports, str("sluice_abi_version")...), 0, 0)
	exports = append(append(exports, str("login")...), 0, 1)
	m = append(m, sec(7, exports...)...)
	code := []byte{2,
		4, 0, 0x41, 1, 0x0B, // sluice_abi_version: i32.const 1
		9, 0, 0x03, 0x40, 0x0C, 0, 0x0B, 0x41, 0, 0x0B, // login: loop br 0 end; i32.const 0
	}
	return append(m, sec(10, code...)...)
}

const getAlice = `{"query":{"id":"1"}}`

// TestCall: what a call returns when the function ran (its result or
// its error in Result, err nil) and the typed errors of calls that could
// not start.
func TestCall(t *testing.T) {
	f := newFixture(t, engine.Config{}, nil)
	conn := f.connection("c", staticWasm(t))
	empty := f.connection("empty", nil)
	q := store.DefaultQuotas()
	tests := []struct {
		name    string
		call    invoke.Call
		output  string      // the result's "id", when it ran and succeeded
		code    engine.Code // the Result's error, when it ran and failed
		wantErr error       // the sentinel err wraps, when it did not run
		message string      // err's message
	}{
		{name: "active version", call: invoke.Call{Connection: conn, Function: "getUser", Input: []byte(getAlice)}, output: "1"},
		{name: "version 1 by number", call: invoke.Call{Connection: conn, Version: 1, Function: "getUser", Input: []byte(getAlice)}, output: "1"},
		{name: "the connector's error is the Result's",
			call: invoke.Call{Connection: conn, Function: "login", Input: []byte(`{"query":{"username":"alice"},"password":"nope"}`)},
			code: engine.CodeWrongPassword},
		{name: "the engine's refusal is the Result's",
			call: invoke.Call{Connection: conn, Function: "getUser", Input: []byte(`not json`)},
			code: engine.CodeInvalidInput},
		{name: "no such version", call: invoke.Call{Connection: conn, Version: 7, Function: "getUser", Input: []byte(getAlice)},
			wantErr: invoke.ErrNoSuchVersion, message: "connection c has no version 7"},
		{name: "no active version", call: invoke.Call{Connection: empty, Function: "getUser", Input: []byte(getAlice)},
			wantErr: invoke.ErrNoActiveVersion, message: "connection empty has no active version: upload a module first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.call.Tenant = f.tenant
			tt.call.Tenant.Quotas = q
			res, err := f.runner.Call(context.Background(), tt.call)
			if tt.wantErr != nil {
				var ve *invoke.VersionError
				if res != nil || !errors.Is(err, tt.wantErr) || !errors.As(err, &ve) || err.Error() != tt.message {
					t.Fatalf("got %v, %v; want a *VersionError %q wrapping %v", res, err, tt.message, tt.wantErr)
				}
				return
			}
			if err != nil || res == nil {
				t.Fatalf("got %v, %v; want a Result", res, err)
			}
			if tt.code != "" {
				if res.Error == nil || res.Error.Code != tt.code {
					t.Fatalf("Result.Error %v, want %s", res.Error, tt.code)
				}
				return
			}
			var u struct{ ID string }
			if res.Error != nil || json.Unmarshal(res.Output, &u) != nil || u.ID != tt.output {
				t.Fatalf("Result %+v (%s), want user %s", res.Error, res.Output, tt.output)
			}
		})
	}
	if n := f.metric("sluice_calls_total", map[string]string{"tenant": f.tenant.ID, "function": "getUser", "outcome": "ok"}); n != 2 {
		t.Errorf("sluice_calls_total getUser ok = %v, want 2", n)
	}
	if n := f.metric("sluice_calls_total", map[string]string{"function": "login", "outcome": "wrong_password"}); n != 1 {
		t.Errorf("sluice_calls_total login wrong_password = %v, want 1", n)
	}
	info, err := f.runner.Info(context.Background(), conn, 0)
	if err != nil || !info.Implements("listUsers") {
		t.Errorf("Info: %+v, %v", info, err)
	}
	if _, err := f.runner.Info(context.Background(), empty, 0); !errors.Is(err, invoke.ErrNoActiveVersion) {
		t.Errorf("Info of a connection without versions: %v", err)
	}
}

// TestRateQuota: with callsPerMinute 2 a third call in the same instant is
// refused with the time to wait, counted by reason; after that time it
// passes.
func TestRateQuota(t *testing.T) {
	clk := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	f := newFixture(t, engine.Config{}, clk.Now)
	conn := f.connection("c", staticWasm(t))
	q := store.DefaultQuotas()
	q.CallsPerMinute = 2
	for i := range 2 {
		if _, err := f.call(conn, q, "getUser", getAlice); err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	_, err := f.call(conn, q, "getUser", getAlice)
	var qe *invoke.QuotaError
	if !errors.As(err, &qe) || qe.Reason != invoke.ReasonRate || qe.Limit != 2 || qe.RetryAfter != 30*time.Second {
		t.Fatalf("third call: %v (%+v), want the rate quota with 30s to wait", err, qe)
	}
	clk.add(30 * time.Second)
	if _, err := f.call(conn, q, "getUser", getAlice); err != nil {
		t.Fatalf("after 30s: %v", err)
	}
	if n := f.metric("sluice_quota_rejections_total", map[string]string{"tenant": f.tenant.ID, "reason": "rate"}); n != 1 {
		t.Errorf("sluice_quota_rejections_total rate = %v, want 1", n)
	}
}

// TestConcurrencyQuotaAndWait: a call in flight holds the tenant's only
// slot (on any of its connections) and Wait waits for it.
func TestConcurrencyQuotaAndWait(t *testing.T) {
	f := newFixture(t, engine.Config{}, nil)
	loop := f.connection("loop", loopWasm())
	static := f.connection("c", staticWasm(t))
	q := store.DefaultQuotas()
	q.MaxConcurrency, q.TimeoutMs = 1, 1500

	type outcome struct {
		res *engine.Result
		err error
	}
	done := make(chan outcome)
	go func() {
		res, err := f.call(loop, q, "login", `{}`)
		done <- outcome{res, err}
	}()
	waitFor(t, func() bool { return f.engine.Stats().Busy == 1 })

	_, err := f.call(static, q, "getUser", getAlice)
	var qe *invoke.QuotaError
	if !errors.As(err, &qe) || qe.Reason != invoke.ReasonConcurrency || qe.Limit != 1 || qe.RetryAfter != time.Second {
		t.Fatalf("second call: %v, want the concurrency quota", err)
	}
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := f.runner.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with a call in flight: %v, want the context's deadline", err)
	}
	if err := f.runner.Wait(context.Background()); err != nil {
		t.Errorf("Wait: %v", err)
	}
	select {
	case o := <-done:
		if o.err != nil || o.res == nil || o.res.Error == nil || o.res.Error.Code != engine.CodeTimeout {
			t.Errorf("the looping call: %v, %v; want a Result with timeout", o.res, o.err)
		}
	default:
		t.Fatal("Wait returned before the call in flight ended")
	}
	if _, err := f.call(static, q, "getUser", getAlice); err != nil {
		t.Errorf("after the call ended: %v", err)
	}
	if n := f.metric("sluice_quota_rejections_total", map[string]string{"reason": "concurrency"}); n != 1 {
		t.Errorf("sluice_quota_rejections_total concurrency = %v, want 1", n)
	}
}

// TestEvictedModuleIsReloaded: the engine releases modules no pool used
// for ModuleIdleTimeout; the next call loads the module again from the
// store's bytes and succeeds.
func TestEvictedModuleIsReloaded(t *testing.T) {
	f := newFixture(t, engine.Config{IdleTimeout: 40 * time.Millisecond, ModuleIdleTimeout: 40 * time.Millisecond}, nil)
	conn := f.connection("c", staticWasm(t))
	q := store.DefaultQuotas()
	for i := range 2 {
		res, err := f.call(conn, q, "getUser", getAlice)
		if err != nil || res.Error != nil {
			t.Fatalf("call %d: %v, %v", i, res, err)
		}
		waitFor(t, func() bool { return f.engine.Stats().Modules == 0 })
	}
	if n := f.metric("sluice_calls_total", map[string]string{"outcome": "ok"}); n != 2 {
		t.Errorf("sluice_calls_total ok = %v, want 2 (a retried call counts once)", n)
	}
}

// TestEvict: evicting a configuration closes its idle instances; the next
// call starts a new one.
func TestEvict(t *testing.T) {
	f := newFixture(t, engine.Config{}, nil)
	conn := f.connection("c", staticWasm(t))
	q := store.DefaultQuotas()
	if _, err := f.call(conn, q, "getUser", getAlice); err != nil {
		t.Fatal(err)
	}
	if st := f.engine.Stats(); st.Pools != 1 || st.Idle != 1 {
		t.Fatalf("after a call: %+v, want one pool with one idle instance", st)
	}
	if n := f.metric("sluice_engine_instances", map[string]string{"state": "idle"}); n != 1 {
		t.Errorf("sluice_engine_instances idle = %v, want 1", n)
	}
	f.runner.Evict(context.Background(), conn)
	if st := f.engine.Stats(); st.Pools != 0 || st.Idle != 0 {
		t.Errorf("after Evict: %+v, want no pool", st)
	}
	if res, err := f.call(conn, q, "getUser", getAlice); err != nil || res.Error != nil {
		t.Errorf("after Evict: %v, %v", res, err)
	}
}

func TestNewNeedsItsParts(t *testing.T) {
	if _, err := invoke.New(invoke.Config{}); err == nil {
		t.Error("New without Engine, Store and Hosts succeeded")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
