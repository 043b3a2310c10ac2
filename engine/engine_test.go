package engine_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// cacheDir is a compilation cache shared by the package's tests, so each
// guest is compiled once per run rather than once per test.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-engine-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func newEngine(t testing.TB, cfg engine.Config) *engine.Engine {
	t.Helper()
	if cfg.CacheDir == "" {
		cfg.CacheDir = cacheDir
	}
	e, err := engine.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

func load(t testing.TB, e *engine.Engine, guest string) *engine.Module {
	t.Helper()
	m, err := e.Load(context.Background(), wasmbuild.Test(t, "testdata/guests/"+guest))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func call(t testing.TB, e *engine.Engine, m *engine.Module, req engine.Request) (*engine.Result, *engine.Error) {
	t.Helper()
	if req.Tenant == "" {
		req.Tenant = "t1"
	}
	res, err := e.Call(context.Background(), m, req)
	if err == nil {
		return res, nil
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("Call returned a non-engine error: %v", err)
	}
	if res == nil || res.Error != ee {
		t.Fatalf("failed call must return its Result with the same error; got %+v", res)
	}
	return res, ee
}

func TestValidateRejectsBadModules(t *testing.T) {
	e := newEngine(t, engine.Config{MaxModuleBytes: 8 << 20})
	basic := wasmbuild.Test(t, "testdata/guests/basic")
	random := make([]byte, 4096)
	rand.Read(random)
	tests := []struct {
		name    string
		wasm    []byte
		want    string
		tooBig  bool
		compile bool // only the compiler can tell
	}{
		{name: "empty", wasm: nil, want: "empty module"},
		{name: "random bytes", wasm: random, want: "not a WebAssembly module"},
		{name: "text", wasm: []byte("function login() {}"), want: "not a WebAssembly module"},
		{name: "header only", wasm: []byte("\x00asm\x01\x00\x00\x00"), want: "does not export its memory"},
		{name: "bad version", wasm: []byte("\x00asm\x02\x00\x00\x00"), want: "unsupported WebAssembly binary version 2"},
		{name: "truncated", wasm: basic[:len(basic)/2], want: "truncated"},
		{name: "unknown import", wasm: wasmbuild.Test(t, "testdata/guests/badimport"), want: "imports unknown function env.foo"},
		{name: "no connector exports", wasm: wasmbuild.Test(t, "testdata/guests/noexports"), want: "exports none of the connector functions"},
		{name: "reserved export", wasm: handmade(false, "__sluice_interrupt"), want: "names starting with __sluice are reserved"},
		{name: "oversized", wasm: append(append([]byte{}, basic...), make([]byte, 8<<20)...), want: "over the limit", tooBig: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.Load(context.Background(), tt.wasm)
			var me *engine.ModuleError
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a *ModuleError", err)
			}
			if !strings.Contains(me.Reason, tt.want) {
				t.Errorf("reason %q does not contain %q", me.Reason, tt.want)
			}
			if me.TooLarge != tt.tooBig {
				t.Errorf("TooLarge = %v", me.TooLarge)
			}
		})
	}
}

func TestLoadReportsModule(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	info := m.Info()
	want := []string{"login", "getUser", "searchUser", "createUser", "updateUser", "deleteUser", "listUsers", "validatePassword"}
	if fmt.Sprint(info.Functions) != fmt.Sprint(want) {
		t.Errorf("functions %v, want %v", info.Functions, want)
	}
	if info.ABIVersion != 1 || len(info.SHA256) != 64 {
		t.Errorf("info %+v", info)
	}
	if got := info.MissingFor(engine.ModeCustomUserStore); len(got) != 0 {
		t.Errorf("missing %v", got)
	}
	h := load(t, e, "hostile")
	if got := h.Info().MissingFor(engine.ModeLazyMigration); fmt.Sprint(got) != "[getUser]" {
		t.Errorf("missing for lazy migration: %v", got)
	}
}

func TestLoadCompilesOnceUnderConcurrency(t *testing.T) {
	e := newEngine(t, engine.Config{})
	wasm := wasmbuild.Test(t, "testdata/guests/basic")
	mods := make([]*engine.Module, 8)
	var wg sync.WaitGroup
	for i := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, err := e.Load(context.Background(), wasm)
			if err != nil {
				t.Error(err)
			}
			mods[i] = m
		}()
	}
	wg.Wait()
	for _, m := range mods[1:] {
		if m != mods[0] {
			t.Fatal("one module was compiled more than once")
		}
	}
}

type echoHost struct{}

func (echoHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	switch op {
	case "test.echo":
		tr.Target = "echo:1"
		tr.Statement = "ECHO"
		tr.Rows = 1
		return req, nil
	case "test.deny":
		return nil, engine.Errorf(engine.CodeEgressDenied, "10.0.0.1:5432 is private")
	case "test.fail":
		return nil, errors.New("database on fire")
	case "test.dup":
		return nil, &engine.Error{Code: "db_error", Message: "duplicate key", Details: map[string]string{"sqlstate": "23505"}, Owns: engine.CodeUserExists}
	}
	return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %s", op)
}

func TestBasicCalls(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	tests := []struct {
		name     string
		function string
		input    string
		env      map[string]string
		host     engine.Host
		want     string // JSON result, when wantCode is empty
		wantCode engine.Code
		wantMsg  string
	}{
		{name: "echo", function: "login", input: `{"query":{"email":"a@b.c"},"password":"pw"}`, want: `{"query":{"email":"a@b.c"},"password":"pw"}`},
		{name: "null result", function: "getUser", input: `{}`, want: `null`},
		{name: "environ", function: "searchUser", input: `{}`, env: map[string]string{"DB_HOST": "db.example.com", "SECRET": "s3"},
			want: `{"list":[{"customData":{"DB_HOST":"db.example.com","SECRET":"s3","args":"0"},"id":"env"}],"totalCount":1}`},
		{name: "connector error code passes", function: "deleteUser", input: `{"code":"user_not_found","message":"no such user"}`, wantCode: engine.CodeUserNotFound, wantMsg: "no such user"},
		{name: "wrong password passes", function: "deleteUser", input: `{"code":"wrong_password","message":"nope"}`, wantCode: engine.CodeWrongPassword},
		{name: "unknown code is connector_error", function: "deleteUser", input: `{"code":"egress_denied","message":"fake"}`, wantCode: engine.CodeConnectorError, wantMsg: "egress_denied: fake"},
		{name: "no output", function: "validatePassword", input: `{"do":"no-output"}`, wantCode: engine.CodeConnectorError, wantMsg: "without writing output"},
		{name: "invalid JSON output", function: "validatePassword", input: `{"do":"bad-json"}`, wantCode: engine.CodeConnectorError, wantMsg: "invalid JSON"},
		{name: "unknown status", function: "validatePassword", input: `{"do":"bad-status"}`, wantCode: engine.CodeConnectorError, wantMsg: "unknown status 7"},
		{name: "bad envelope", function: "validatePassword", input: `{"do":"bad-envelope"}`, wantCode: engine.CodeConnectorError, wantMsg: "malformed error envelope"},
		{name: "unknown function", function: "dropTables", input: `{}`, wantCode: engine.CodeInvalidInput},
		{name: "host call", function: "updateUser", input: `{"op":"test.echo","req":{"a":1}}`, host: echoHost{}, want: `{"result":{"a":1}}`},
		{name: "host call error", function: "updateUser", input: `{"op":"test.fail","req":{}}`, host: echoHost{}, want: `{"error":{"code":"host_error","message":"database on fire"}}`},
		{name: "a host code beats a generic failure", function: "updateUser", input: `{"op":"test.deny","req":{},"then":{"code":"connector_error","message":"lookup failed"}}`,
			host: echoHost{}, wantCode: engine.CodeEgressDenied, wantMsg: "10.0.0.1:5432 is private"},
		{name: "a host code passed on", function: "updateUser", input: `{"op":"test.deny","req":{},"then":{"code":"egress_denied","message":"10.0.0.1:5432 is private"}}`,
			host: echoHost{}, wantCode: engine.CodeEgressDenied, wantMsg: "10.0.0.1:5432 is private"},
		{name: "the connector's own code is kept", function: "updateUser", input: `{"op":"test.deny","req":{},"then":{"code":"user_not_found","message":"not here"}}`,
			host: echoHost{}, wantCode: engine.CodeUserNotFound, wantMsg: "not here"},
		{name: "a later host call worked", function: "updateUser", input: `{"op":"test.deny","req":{},"after":"test.echo","then":{"code":"connector_error","message":"gave up"}}`,
			host: echoHost{}, wantCode: engine.CodeConnectorError, wantMsg: "gave up"},
		{name: "host_error is not host-owned", function: "updateUser", input: `{"op":"test.fail","req":{},"then":{"code":"connector_error","message":"gave up"}}`,
			host: echoHost{}, wantCode: engine.CodeConnectorError, wantMsg: "gave up"},
		{name: "a duplicate key stands for user_exists", function: "updateUser", input: `{"op":"test.dup","req":{},"then":{"code":"db_error","message":"duplicate key"}}`,
			host: echoHost{}, wantCode: engine.CodeUserExists, wantMsg: "duplicate key"},
		{name: "the guest sees db_error", function: "updateUser", input: `{"op":"test.dup","req":{}}`, host: echoHost{},
			want: `{"error":{"code":"db_error","message":"duplicate key","details":{"sqlstate":"23505"}}}`},
		{name: "host call without host", function: "updateUser", input: `{"op":"sql.query","req":{}}`, want: `{"error":{"code":"not_implemented","message":"host call sql.query is not available here"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := call(t, e, m, engine.Request{Pool: tt.name, Function: tt.function, Input: []byte(tt.input), Env: tt.env, Host: tt.host})
			if tt.wantCode != "" {
				if err == nil || err.Code != tt.wantCode || !strings.Contains(err.Message, tt.wantMsg) {
					t.Fatalf("got error %v, want %s containing %q", err, tt.wantCode, tt.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(res.Output) != tt.want {
				t.Errorf("result %s, want %s", res.Output, tt.want)
			}
		})
	}
}

func TestNotImplemented(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "hostile")
	_, err := call(t, e, m, engine.Request{Function: "getUser", Input: []byte(`{}`)})
	if err == nil || err.Code != engine.CodeNotImplemented || err.Message != "Please implement the GetUser script for this database connection" {
		t.Fatalf("got %v", err)
	}
}

func TestLogsAndTrace(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	res, err := call(t, e, m, engine.Request{Function: "listUsers", Input: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	want := []engine.LogEntry{
		{Stream: "stdout", Level: "info", Message: "to stdout"},
		{Stream: "stderr", Level: "error", Message: "to stderr"},
		{Stream: "log", Level: "warn", Message: "a warning"},
	}
	if fmt.Sprint(res.Logs) != fmt.Sprint(want) {
		t.Errorf("logs %+v", res.Logs)
	}
	res, err = call(t, e, m, engine.Request{Function: "updateUser", Input: []byte(`{"op":"test.deny","req":{"q":"select"}}`), Host: echoHost{}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Trace) != 1 || !res.Trace[0].Denied || res.Trace[0].Kind != "test" || res.Trace[0].BytesIn != len(`{"q":"select"}`) {
		t.Errorf("trace %+v", res.Trace)
	}
	if !strings.Contains(string(res.Output), `"code":"egress_denied"`) {
		t.Errorf("output %s", res.Output)
	}
}

// TestLogLinesAcrossWrites: WASI writes become log lines however the
// guest splits them, over iovecs and fd_write calls; what is left
// unfinished is a line of its own when the call ends.
func TestLogLinesAcrossWrites(t *testing.T) {
	src := `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (import "sluice" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "null")
  ;; iovecs at 100: "ab" "c\nde" "" "f\n\ng"; then "hi\n", and "j" on stderr
  (data (i32.const 100) "\c8\00\00\00\02\00\00\00\ca\00\00\00\04\00\00\00\00\00\00\00\00\00\00\00\ce\00\00\00\04\00\00\00")
  (data (i32.const 140) "\d2\00\00\00\03\00\00\00\d5\00\00\00\01\00\00\00")
  (data (i32.const 200) "abc\ndef\n\nghi\nj")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "login") (param i32) (result i32)
    (drop (call $w (i32.const 1) (i32.const 100) (i32.const 4) (i32.const 60)))
    (drop (call $w (i32.const 1) (i32.const 140) (i32.const 1) (i32.const 60)))
    (drop (call $w (i32.const 2) (i32.const 148) (i32.const 1) (i32.const 60)))
    (call $out (i32.const 0) (i32.const 4))
    (i32.const 0)))`
	e := newEngine(t, engine.Config{})
	m, err := e.Load(context.Background(), wasmbuild.WAT(t, src))
	if err != nil {
		t.Fatal(err)
	}
	res, cerr := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{}`)})
	if cerr != nil {
		t.Fatal(cerr)
	}
	want := []engine.LogEntry{
		{Stream: "stdout", Level: "info", Message: "abc"},
		{Stream: "stdout", Level: "info", Message: "def"},
		{Stream: "stdout", Level: "info", Message: ""},
		{Stream: "stdout", Level: "info", Message: "ghi"},
		{Stream: "stderr", Level: "error", Message: "j"},
	}
	if fmt.Sprint(res.Logs) != fmt.Sprint(want) {
		t.Errorf("logs %q, want %q", res.Logs, want)
	}
}

// TestHostileGuests runs each hostile behaviour and checks it is contained
// with the right error, and that a normal call succeeds right after.
func TestHostileGuests(t *testing.T) {
	limits := engine.Limits{
		Timeout:        500 * time.Millisecond,
		MemoryBytes:    32 << 20,
		MaxOutputBytes: 1 << 20,
		MaxLogBytes:    16 << 10,
		MaxHostCalls:   50,
		MaxHostBytes:   64 << 10,
	}
	e := newEngine(t, engine.Config{})
	m := load(t, e, "hostile")
	tests := []struct {
		do       string
		wantCode engine.Code
		wantMsg  string
		memory   uint64 // instead of limits.MemoryBytes
		quiet    bool   // a quiet call (no logs kept) still says what panicked
	}{
		{do: "loop", wantCode: engine.CodeTimeout},
		{do: "sleep", wantCode: engine.CodeTimeout},
		{do: "membomb", wantCode: engine.CodeResourceExhausted, wantMsg: "memory limit"},
		// Go grows its goroutine stacks in linear memory: a small memory
		// limit is reached long before the deadline, even on a busy machine.
		{do: "recurse", wantCode: engine.CodeResourceExhausted, memory: 16 << 20},
		{do: "panic", wantCode: engine.CodeConnectorError, wantMsg: "the connector panicked: panic: hostile panic (the connector trapped: "},
		{do: "panic", wantCode: engine.CodeConnectorError, wantMsg: "the connector panicked: panic: hostile panic", quiet: true},
		{do: "exit", wantCode: engine.CodeConnectorError, wantMsg: "exited with code 3"},
		{do: "logflood", wantCode: engine.CodeResourceExhausted, wantMsg: "log limit"},
		{do: "hostlogflood", wantCode: engine.CodeResourceExhausted, wantMsg: "log limit"},
		{do: "hugeoutput", wantCode: engine.CodeResourceExhausted, wantMsg: "output is 10485760 bytes"},
		{do: "hostcallflood", wantCode: engine.CodeResourceExhausted, wantMsg: "host call limit of 50"},
		{do: "hostbytesflood", wantCode: engine.CodeResourceExhausted, wantMsg: "over the limit of 65536"},
	}
	for _, tt := range tests {
		t.Run(tt.do, func(t *testing.T) {
			start := time.Now()
			lim := limits
			if tt.memory != 0 {
				lim.MemoryBytes = tt.memory
			}
			res, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"do":"` + tt.do + `"}`), Limits: lim, Host: echoHost{}, Quiet: tt.quiet})
			if err == nil || err.Code != tt.wantCode || !strings.Contains(err.Message, tt.wantMsg) {
				t.Fatalf("got %v, want %s containing %q", err, tt.wantCode, tt.wantMsg)
			}
			if took := time.Since(start); took > limits.Timeout+5*time.Second {
				t.Errorf("containment took %s", took)
			}
			if tt.do == "panic" && !tt.quiet && !strings.Contains(fmt.Sprint(res.Logs), "hostile panic") {
				t.Errorf("panic message not in logs: %v", res.Logs)
			}
			if strings.Contains(tt.do, "logflood") && logBytes(res.Logs) > limits.MaxLogBytes {
				t.Errorf("kept %d log bytes", logBytes(res.Logs))
			}
			if _, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"do":"echo"}`), Limits: limits}); err != nil {
				t.Fatalf("normal call after %s: %v", tt.do, err)
			}
		})
	}
	t.Run("openfile", func(t *testing.T) {
		res, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"do":"openfile"}`), Limits: limits})
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Error string }
		json.Unmarshal(res.Output, &out)
		if out.Error == "" || out.Error == "<nil>" {
			t.Fatalf("the guest could open a file: %s", res.Output)
		}
	})
	if s := e.Stats(); s.Busy != 0 {
		t.Errorf("instances still busy: %+v", s)
	}
}

func logBytes(logs []engine.LogEntry) int {
	n := 0
	for _, l := range logs {
		n += len(l.Message)
	}
	return n
}

func TestInstanceReuse(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "hostile")
	lim := engine.Limits{MaxInstances: 1}
	for i := 1; i <= 3; i++ {
		res, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{}`), Limits: lim})
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf(`{"calls":%d,"id":"ok"}`, i); string(res.Output) != want {
			t.Fatalf("call %d: %s, want %s", i, res.Output, want)
		}
	}
	// A trap discards the instance: the next call starts fresh.
	call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"do":"panic"}`), Limits: lim})
	res, _ := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{}`), Limits: lim})
	if string(res.Output) != `{"calls":1,"id":"ok"}` {
		t.Fatalf("after a trap: %s", res.Output)
	}
}

func TestTenantsNeverShareInstances(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	if _, err := call(t, e, m, engine.Request{Tenant: "a", Pool: "c", Function: "createUser", Input: []byte(`{"user":{"id":"secret-of-a"}}`)}); err != nil {
		t.Fatal(err)
	}
	res, _ := call(t, e, m, engine.Request{Tenant: "a", Pool: "c", Function: "getUser", Input: []byte(`{}`)})
	if string(res.Output) != `{"id":"secret-of-a"}` {
		t.Fatalf("tenant a lost its own global: %s", res.Output)
	}
	for _, other := range []engine.Request{{Tenant: "b", Pool: "c"}, {Tenant: "a", Pool: "other-connection"}} {
		other.Function, other.Input = "getUser", []byte(`{}`)
		res, _ := call(t, e, m, other)
		if string(res.Output) != "null" {
			t.Fatalf("%s/%s read another instance's global: %s", other.Tenant, other.Pool, res.Output)
		}
	}
}

func TestConcurrentCallsAreNotMixed(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	// 64 callers share few instances, many times over: each result must be
	// its own call's, even as instances pass from call to call.
	for _, maxInstances := range []int{4, 64} {
		t.Run(fmt.Sprint(maxInstances), func(t *testing.T) {
			var wg sync.WaitGroup
			for i := 0; i < 64; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tenant := fmt.Sprintf("t%d", i%2)
					for j := 0; j < 30; j++ {
						in := fmt.Sprintf(`{"query":{"email":"user%d@example.com"},"password":"%d"}`, i, j)
						res, err := e.Call(context.Background(), m, engine.Request{Tenant: tenant, Function: "login", Input: []byte(in), Limits: engine.Limits{MaxInstances: maxInstances}})
						if err != nil {
							t.Error(err)
							return
						}
						if string(res.Output) != in {
							t.Errorf("call %d/%d got %s", i, j, res.Output)
							return
						}
					}
				}()
			}
			wg.Wait()
			if s := e.Stats(); s.Busy != 0 || s.Idle > 2*maxInstances {
				t.Errorf("stats after the burst: %+v", s)
			}
		})
	}
}

func TestLimitsBeforeTheCall(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	big := `{"p":"` + strings.Repeat("a", 2048) + `"}`
	_, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(big), Limits: engine.Limits{MaxInputBytes: 1024}})
	if err == nil || err.Code != engine.CodeResourceExhausted {
		t.Fatalf("got %v", err)
	}
	_, err = call(t, e, m, engine.Request{Function: "login", Input: []byte(`{}`), Limits: engine.Limits{MemoryBytes: 1 << 20}})
	if err == nil || err.Code != engine.CodeResourceExhausted || !strings.Contains(err.Message, "over the limit") {
		t.Fatalf("a memory cap below the module's minimum: %v", err)
	}
}

func TestIdleInstancesAreEvicted(t *testing.T) {
	e := newEngine(t, engine.Config{IdleTimeout: 50 * time.Millisecond})
	m := load(t, e, "basic")
	for i := 0; i < 3; i++ {
		call(t, e, m, engine.Request{Pool: fmt.Sprint(i), Function: "login", Input: []byte(`{}`)})
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().Idle > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("idle instances never evicted: %+v", e.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s := e.Stats(); s.Pools != 0 {
		t.Errorf("empty pools kept: %+v", s)
	}
}

func TestEvictDropsATenantsPools(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	call(t, e, m, engine.Request{Tenant: "a", Pool: "x", Function: "login", Input: []byte(`{}`)})
	call(t, e, m, engine.Request{Tenant: "b", Pool: "x", Function: "login", Input: []byte(`{}`)})
	e.Evict(context.Background(), "a", "")
	if s := e.Stats(); s.Pools != 1 || s.Idle != 1 {
		t.Fatalf("stats %+v", s)
	}
}

func TestCompilationCacheSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	wasm := wasmbuild.Test(t, "testdata/guests/basic")
	for i := 0; i < 2; i++ {
		e, err := engine.New(context.Background(), engine.Config{CacheDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		m, err := e.Load(context.Background(), wasm)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Call(context.Background(), m, engine.Request{Tenant: "t", Function: "login", Input: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		e.Close(context.Background())
		entries, _ := os.ReadDir(dir)
		if len(entries) == 0 {
			t.Fatal("nothing written to the compilation cache")
		}
	}
}

func TestUnusedModulesAreReleased(t *testing.T) {
	e := newEngine(t, engine.Config{IdleTimeout: 40 * time.Millisecond, ModuleIdleTimeout: 40 * time.Millisecond})
	wasm := wasmbuild.Test(t, "testdata/guests/basic")
	m, err := e.Load(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().Modules > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the module was never released: %+v", e.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.Call(context.Background(), m, engine.Request{Tenant: "t", Function: "login", Input: []byte(`{}`)}); !errors.Is(err, engine.ErrEvicted) {
		t.Fatalf("a call on a released module: %v", err)
	}
	m, err = e.Load(context.Background(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	if res, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"again":true}`)}); err != nil || string(res.Output) != `{"again":true}` {
		t.Fatalf("after loading it again: %v %v", res, err)
	}
}
