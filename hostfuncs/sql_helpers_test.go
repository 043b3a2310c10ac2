package hostfuncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The SQL tests share one engine and compile testdata/sqlguest once per
// test binary; the compilation cache sits under the temporary directory
// so reruns skip compiling (no TestMain: other tests of the package may
// have their own).
var (
	sqlEngineOnce sync.Once
	sqlEngine     *engine.Engine
	sqlModule     *engine.Module
	sqlEngineErr  error
	sqlSeq        atomic.Int64
)

func sqlGuest(tb testing.TB) (*engine.Engine, *engine.Module) {
	tb.Helper()
	sqlEngineOnce.Do(func() {
		dir := filepath.Join(os.TempDir(), "sluice-hostfuncs-sqltest-wazero")
		sqlEngine, sqlEngineErr = engine.New(context.Background(), engine.Config{CacheDir: dir})
		if sqlEngineErr != nil {
			return
		}
		wasm := wasmbuild.Test(tb, filepath.Join("testdata", "sqlguest"))
		sqlModule, sqlEngineErr = sqlEngine.Load(context.Background(), wasm)
	})
	if sqlEngineErr != nil {
		tb.Fatal(sqlEngineErr)
	}
	return sqlEngine, sqlModule
}

func sqlEnv(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func sqlPGDSN() string {
	return sqlEnv("SLUICE_TEST_PG_DSN", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
}

func sqlMyDSN() string { return sqlEnv("SLUICE_TEST_MYSQL_DSN", "root@tcp(127.0.0.1:3306)/test") }

// sqlName returns a name unique to this test process and call.
func sqlName(prefix string) string {
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), sqlSeq.Add(1))
}

// sqlDB is one database under test: its connection and dialect.
type sqlDB struct {
	name string // postgres or mysql
	conn hostfuncs.Connection
}

// ph returns the n-th placeholder (from 1).
func (d sqlDB) ph(n int) string {
	if d.name == "postgres" {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

func sqlDBs(testing.TB) []sqlDB {
	return []sqlDB{
		{"postgres", granted(hostfuncs.Connection{Tenant: sqlName("t"), Name: "pg", ConfigVersion: 1, DBType: "postgres",
			URI: sqlPGDSN(), Allowlist: []string{"127.0.0.1"}})},
		{"mysql", granted(hostfuncs.Connection{Tenant: sqlName("t"), Name: "my", ConfigVersion: 1, DBType: "mysql",
			URI: sqlMyDSN(), Allowlist: []string{"127.0.0.1"}})},
	}
}

// loopbackNetworks is the private-network grant of a test tenant whose
// databases are the test services on loopback: loopback stays closed to
// a tenant unless its grant names it.
var loopbackNetworks = []string{"127.0.0.1/32", "::1"}

// granted returns c with its tenant granted loopback.
func granted(c hostfuncs.Connection) hostfuncs.Connection {
	c.AllowPrivateNetworks = true
	c.PrivateNetworks = loopbackNetworks
	return c
}

// sqlConfig is the Manager configuration of the SQL tests.
var sqlConfig = hostfuncs.Config{}

func sqlManager(t testing.TB, cfg hostfuncs.Config) *hostfuncs.Manager {
	t.Helper()
	m := hostfuncs.New(cfg)
	t.Cleanup(func() { m.Close() })
	return m
}

// sqlArg is a harness argument: T names the Go type the guest passes.
type sqlArg struct {
	T string `json:"t"`
	V string `json:"v"`
}

type sqlStmt struct {
	SQL   string   `json:"sql"`
	Args  []sqlArg `json:"args,omitempty"`
	Query bool     `json:"query,omitempty"`
	Scan  []string `json:"scan,omitempty"`
}

type sqlReq struct {
	Op    string    `json:"op"`
	SQL   string    `json:"sql,omitempty"`
	Args  []sqlArg  `json:"args,omitempty"`
	Scan  []string  `json:"scan,omitempty"`
	Batch []sqlStmt `json:"batch,omitempty"`
}

type sqlOut struct {
	Columns []string   `json:"columns"`
	Types   []string   `json:"types"`
	Rows    [][]string `json:"rows"`
	Result  *struct {
		RowsAffected int64 `json:"rowsAffected"`
		LastInsertID int64 `json:"lastInsertId"`
	} `json:"result"`
	Batch []sqlOut `json:"batch"`
	Error *struct {
		Code      string         `json:"code"`
		Message   string         `json:"message"`
		Details   map[string]any `json:"details"`
		SQLState  string         `json:"sqlstate"`
		Errno     int            `json:"errno"`
		Unique    bool           `json:"unique"`
		NoRows    bool           `json:"noRows"`
		ScanError string         `json:"scanError"`
	} `json:"error"`
}

// sqlRun runs one harness request in the guest (its updateUser) and
// returns the harness's answer and the call's trace.
func sqlRun(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection, req sqlReq) (sqlOut, []engine.HostCall) {
	t.Helper()
	e, mod := sqlGuest(t)
	h, err := m.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	reqText, _ := json.Marshal(req)
	input, _ := json.Marshal(map[string]any{
		"id": "x", "updates": map[string]any{"customData": map[string]any{"req": string(reqText)}},
		"context": map[string]any{"tenant": conn.Tenant, "connection": conn.Name, "requestId": "r"},
	})
	res, err := e.Call(context.Background(), mod, engine.Request{
		Tenant: conn.Tenant, Pool: fmt.Sprintf("%s/%d", conn.Name, conn.ConfigVersion), Function: "updateUser",
		Input: input, Env: conn.Env(nil), Host: h, Limits: engine.Limits{Timeout: 20 * time.Second},
	})
	if err != nil {
		t.Fatalf("call: %v (logs %v)", err, res)
	}
	var user struct {
		CustomData struct {
			Out string `json:"out"`
		} `json:"customData"`
	}
	if err := json.Unmarshal(res.Output, &user); err != nil {
		t.Fatalf("output %s: %v", res.Output, err)
	}
	var out sqlOut
	if err := json.Unmarshal([]byte(user.CustomData.Out), &out); err != nil {
		t.Fatalf("harness output %q: %v", user.CustomData.Out, err)
	}
	return out, res.Trace
}

// sqlMust runs req and fails the test on an error answer.
func sqlMust(t *testing.T, m *hostfuncs.Manager, conn hostfuncs.Connection, req sqlReq) sqlOut {
	t.Helper()
	out, _ := sqlRun(t, m, conn, req)
	if out.Error != nil {
		t.Fatalf("%s %q: %+v", req.Op, req.SQL, *out.Error)
	}
	return out
}

// sqlTable creates a table from the column list cols and drops it when
// the test ends.
func sqlTable(t *testing.T, m *hostfuncs.Manager, d sqlDB, cols string) string {
	t.Helper()
	name := sqlName("sluice_sql")
	suffix := ""
	if d.name == "mysql" {
		suffix = " DEFAULT CHARSET=utf8mb4"
	}
	sqlMust(t, m, d.conn, sqlReq{Op: "exec", SQL: "CREATE TABLE " + name + " (" + cols + ")" + suffix})
	t.Cleanup(func() { sqlRun(t, m, d.conn, sqlReq{Op: "exec", SQL: "DROP TABLE " + name}) })
	return name
}

func sqlWantCode(t *testing.T, out sqlOut, code, msgPart string) {
	t.Helper()
	if out.Error == nil {
		t.Fatalf("no error, want %s", code)
	}
	if out.Error.Code != code || !strings.Contains(out.Error.Message, msgPart) {
		t.Fatalf("error %s %q, want %s containing %q", out.Error.Code, out.Error.Message, code, msgPart)
	}
}

// hostfuncsManagerForBench is the Manager of the SQL benchmarks.
func hostfuncsManagerForBench(b *testing.B) *hostfuncs.Manager { return sqlManager(b, sqlConfig) }
