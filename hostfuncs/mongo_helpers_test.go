package hostfuncs_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// mongoBaseURI is the test server (FerretDB under `make test`).
func mongoBaseURI() string {
	if u := os.Getenv("SLUICE_TEST_MONGO_URI"); u != "" {
		return u
	}
	return "mongodb://127.0.0.1:27017/"
}

var (
	mongoUpOnce sync.Once
	mongoUpErr  error
)

// mongoServer fails the test unless the MongoDB-wire test server answers,
// and returns its host:port.
func mongoServer(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(mongoBaseURI())
	if err != nil {
		t.Fatalf("SLUICE_TEST_MONGO_URI %q: %v", mongoBaseURI(), err)
	}
	mongoUpOnce.Do(func() {
		c, err := net.DialTimeout("tcp", u.Host, 3*time.Second)
		if err != nil {
			mongoUpErr = err
			return
		}
		c.Close()
	})
	if mongoUpErr != nil {
		t.Fatalf("no MongoDB-wire server at %s (%v): run `make test`, or `scripts/test-services.sh up` before `go test`", u.Host, mongoUpErr)
	}
	return u.Host
}

// mongoConn returns a connection to a database of its own on the test
// server.
func mongoConn(t *testing.T) hostfuncs.Connection {
	t.Helper()
	hostport := mongoServer(t)
	var b [6]byte
	rand.Read(b[:])
	db := "sluice_" + strings.NewReplacer("/", "_", " ", "_").Replace(strings.ToLower(t.Name()))
	if len(db) > 40 {
		db = db[:40]
	}
	db += "_" + hex.EncodeToString(b[:])
	u, _ := url.Parse(mongoBaseURI())
	u.Path = "/" + db
	host, _, _ := net.SplitHostPort(hostport)
	return granted(hostfuncs.Connection{
		Tenant:        "t-" + hex.EncodeToString(b[:3]),
		Name:          "mongo",
		ConfigVersion: 1,
		DBType:        "mongodb",
		URI:           u.String(),
		Database:      db,
		Allowlist:     []string{host},
	})
}

// mongoManager returns a Manager for loopback servers, closed after t.
func mongoManager(t *testing.T, cfg hostfuncs.Config) *hostfuncs.Manager {
	t.Helper()
	m := hostfuncs.New(cfg)
	t.Cleanup(func() { m.Close() })
	return m
}

// mongoHost returns the host of conn.
func mongoHost(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection) engine.Host {
	t.Helper()
	h, err := m.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// mongoCall runs one host call and returns its result or *engine.Error
// and the trace entry.
func mongoCall(t *testing.T, h engine.Host, op, req string) (json.RawMessage, *engine.Error, engine.HostCall) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var tr engine.HostCall
	res, err := h.HostCall(ctx, op, []byte(req), &tr)
	if err == nil {
		return res, nil, tr
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("%s: want an *engine.Error, got %T %v", op, err, err)
	}
	return nil, ee, tr
}

// mustMongo runs a host call that must succeed.
func mustMongo(t *testing.T, h engine.Host, op, req string) json.RawMessage {
	t.Helper()
	res, err, _ := mongoCall(t, h, op, req)
	if err != nil {
		t.Fatalf("%s %s: %v (details %v)", op, req, err, err.Details)
	}
	return res
}

// Guests: one engine and one compiled module per test binary.
var (
	mongoEngineOnce sync.Once
	mongoEngine     *engine.Engine
	mongoEngineErr  error
	mongoModuleOnce sync.Once
	mongoModule     *engine.Module
	mongoModuleErr  error
)

// mongoGuest returns the engine and the compiled testdata/mongoguest.
func mongoGuest(t *testing.T) (*engine.Engine, *engine.Module) {
	t.Helper()
	mongoEngineOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sluice-hostfuncs-test-wazero")
		mongoEngine, mongoEngineErr = engine.New(context.Background(), engine.Config{CacheDir: dir})
	})
	if mongoEngineErr != nil {
		t.Fatal(mongoEngineErr)
	}
	mongoModuleOnce.Do(func() {
		wasm := wasmbuild.Test(t, filepath.Join("testdata", "mongoguest"))
		mongoModule, mongoModuleErr = mongoEngine.Load(context.Background(), wasm)
	})
	if mongoModuleErr != nil {
		t.Fatal(mongoModuleErr)
	}
	return mongoEngine, mongoModule
}

// mongoGuestCall runs connector function fn of the test guest with the
// host of conn and returns the result and its error.
func mongoGuestCall(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection, fn string, input any) (*engine.Result, *engine.Error) {
	t.Helper()
	e, mod := mongoGuest(t)
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Call(context.Background(), mod, engine.Request{
		Tenant:   conn.Tenant,
		Pool:     conn.Name + "/1",
		Function: fn,
		Input:    in,
		Env:      conn.Env(nil),
		Host:     mongoHost(t, m, conn),
		Limits:   engine.Limits{Timeout: 20 * time.Second},
	})
	if err == nil {
		return res, nil
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("%s: want an *engine.Error, got %T %v", fn, err, err)
	}
	return res, ee
}
