package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

// cacheDir is an engine compile cache shared by the package's tests, so
// each guest compiles once per run.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "sluice-api-test-")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const operatorToken = "op-token-for-tests"

func pgDSN() string {
	if v := os.Getenv("SLUICE_TEST_PG_DSN"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

// storeSpec says how to open (and reopen) one test store.
type storeSpec struct {
	name string
	cfg  store.Config
}

func testKey() []byte {
	k := make([]byte, store.MasterKeySize)
	rand.Read(k)
	return k
}

func sqliteSpec(t *testing.T) storeSpec {
	return storeSpec{name: "sqlite", cfg: store.Config{DataDir: t.TempDir(), MasterKey: testKey()}}
}

// postgresSpec makes a unique schema, dropped after the test.
func postgresSpec(t *testing.T) storeSpec {
	t.Helper()
	return storeSpec{name: "postgres", cfg: store.Config{URL: testpg.Schema(t, "api_test"), MasterKey: testKey()}}
}

// eachStore runs f on the SQLite store and on PostgreSQL.
func eachStore(t *testing.T, f func(t *testing.T, spec storeSpec)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqliteSpec(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, postgresSpec(t)) })
}

// syncBuffer collects log output from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// env is one API server over real parts, reached through httptest.
type env struct {
	t      testing.TB
	spec   storeSpec
	store  store.Store
	engine *engine.Engine
	hosts  *hostfuncs.Manager
	calls  *calllog.Log // nil with noCalls
	srv    *api.Server
	ts     *httptest.Server
	logs   *syncBuffer
}

// envConfig is what an envOption may change before the server starts.
type envConfig struct {
	api    api.Config
	engine engine.Config
	hosts  hostfuncs.Config
	// calls configures the call log (its Store is the env's); noCalls
	// runs without one.
	calls   calllog.Config
	noCalls bool
	// logTo, when set, receives the server log instead of env.logs.
	logTo io.Writer
}

type envOption func(*envConfig)

func newEnv(t testing.TB, spec storeSpec, opts ...envOption) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, spec.cfg)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	cfg := envConfig{
		engine: engine.Config{CacheDir: cacheDir},
		api:    api.Config{OperatorToken: operatorToken, PublicIPs: []string{"203.0.113.7", "2001:db8::7"}},
	}
	for _, o := range opts {
		o(&cfg)
	}
	acfg := cfg.api
	eng, err := engine.New(ctx, cfg.engine)
	if err != nil {
		t.Fatal(err)
	}
	hosts := hostfuncs.New(cfg.hosts)
	var calls *calllog.Log
	if !cfg.noCalls {
		ccfg := cfg.calls
		ccfg.Store = st
		calls = calllog.New(ccfg)
	}
	runner, err := invoke.New(invoke.Config{Engine: eng, Store: st, Hosts: hosts, CallLog: calls})
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	acfg.Runner, acfg.Store, acfg.CallLog = runner, st, calls
	var logTo io.Writer = logs
	if cfg.logTo != nil {
		logTo = cfg.logTo
	}
	acfg.Logger = slog.New(slog.NewJSONHandler(logTo, nil))
	srv, err := api.New(acfg)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, spec: spec, store: st, engine: eng, hosts: hosts, srv: srv, logs: logs, calls: calls}
	e.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(e.close)
	return e
}

// close stops the server and releases everything, as serve does.
func (e *env) close() {
	if e.ts == nil {
		return
	}
	e.ts.Close()
	e.ts = nil
	ctx := context.Background()
	e.srv.Shutdown(ctx)
	if e.calls != nil {
		e.calls.Close(ctx)
	}
	e.hosts.Close()
	e.engine.Close(ctx)
	e.store.Close()
}

// resp is an answer, already read.
type resp struct {
	status int
	header http.Header
	body   []byte
}

func (r *resp) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("answer is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (r *resp) errCode(t testing.TB) string {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no error object: %s", r.body)
	}
	return e["code"].(string)
}

// req sends one request. body is JSON-encoded unless it is a []byte or a
// string (sent as is). Every answer is checked against the OpenAPI
// document.
func (e *env) req(method, path, token string, body any, hdr ...string) *resp {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case []byte:
		raw = b
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.ts.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	r := &resp{status: res.StatusCode, header: res.Header, body: out}
	checkOpenAPI(e.t, req, r)
	return r
}

// must asserts the status of an answer.
func (r *resp) must(t testing.TB, status int) *resp {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	return r
}

var (
	specOnce   sync.Once
	specRouter routers.Router
	specErr    error
)

// checkOpenAPI validates a real answer against the OpenAPI document: the
// route, the status and the body must all be documented.
func checkOpenAPI(t testing.TB, req *http.Request, r *resp) {
	t.Helper()
	specOnce.Do(func() {
		var doc *openapi3.T
		if doc, specErr = api.OpenAPI(); specErr == nil {
			specRouter, specErr = legacy.NewRouter(doc)
		}
	})
	if specErr != nil {
		t.Fatalf("openapi: %v", specErr)
	}
	u := *req.URL
	u.Host, u.Scheme = "", ""
	vreq := req.Clone(context.Background())
	vreq.URL = &u
	route, params, err := specRouter.FindRoute(vreq)
	if err != nil {
		if r.status == http.StatusNotFound || r.status == http.StatusMethodNotAllowed || r.status == http.StatusUnauthorized {
			return // an undocumented path answered as such
		}
		t.Errorf("openapi: %s %s answered %d but is not documented: %v", req.Method, req.URL.Path, r.status, err)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route},
		Status:                 r.status,
		Header:                 r.header,
		Body:                   io.NopCloser(bytes.NewReader(r.body)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		in.Options.ExcludeResponseBody = true
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("openapi: %s %s -> %d does not match the document: %v\n%s", req.Method, req.URL.Path, r.status, err, r.body)
	}
}

// Guests.
func staticWasm(t testing.TB) []byte { return wasmbuild.Test(t, "../examples/static") }
func probeWasm(t testing.TB) []byte  { return wasmbuild.Test(t, "testdata/probe") }

// newTenant creates a tenant and returns its ID and API key.
func (e *env) newTenant(name string) (id, key string) {
	e.t.Helper()
	m := e.req("POST", "/v1/admin/tenants", operatorToken, map[string]any{"name": name}).must(e.t, 201).json(e.t)
	return m["id"].(string), m["apiKey"].(string)
}

// pgConn is a valid connection configuration with a password.
func pgConn(password string) map[string]any {
	return map[string]any{
		"mode":   "LAZY_MIGRATION",
		"dbType": "postgres",
		"connection": map[string]any{
			"host": "db.example.com", "port": 5432, "username": "app", "password": password, "database": "users",
		},
		"env":             map[string]any{"API_TOKEN": "tok-" + password},
		"egressAllowlist": []string{"db.example.com:5432", "203.0.113.0/24"},
	}
}

// upload sends a module and returns the answer.
func (e *env) upload(key, conn string, wasm []byte, query string) *resp {
	e.t.Helper()
	return e.req("POST", "/v1/connections/"+conn+"/versions"+query, key, wasm, "Content-Type", "application/wasm")
}

// setup makes a tenant with a connection running wasm; it returns the key.
func (e *env) setup(tenant, conn string, wasm []byte) (id, key string) {
	e.t.Helper()
	id, key = e.newTenant(tenant)
	e.req("PUT", "/v1/connections/"+conn, key, pgConn("pw")).must(e.t, 201)
	e.upload(key, conn, wasm, "").must(e.t, 201)
	return id, key
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
