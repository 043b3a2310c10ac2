//go:build unix

package jsrt_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/jsrt"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// seedRowHost answers the seed template's getUser query with one row
// (the shape hostfuncs gives), so a call is the runtime's own work.
type seedRowHost struct{}

func (seedRowHost) HostCall(_ context.Context, op string, _ []byte, tr *engine.HostCall) (json.RawMessage, error) {
	tr.Target = "canned"
	if op == "sql.query" {
		return json.RawMessage(`{"columns":["id","email","username","phone","password","nickname","photo","token","created_at"],` +
			`"types":["int4","text","text","text","text","text","text","text","timestamptz"],` +
			`"rows":[[1,"ada@example.com","ada","+15550001","$2a$10$x","Ada",null,null,"2024-02-29T12:34:56.123456Z"]]}`), nil
	}
	return nil, engine.Errorf(engine.CodeNotImplemented, "canned host: %s", op)
}

// BenchmarkSeedGetUser runs the seed PostgreSQL template's getUser in
// the runtime module (built from runtime/) through the engine, with a
// canned host: the JavaScript runtime's cost per call in wasm, to set
// beside the native `cd runtime && go test -bench SeedGetUser`.
func BenchmarkSeedGetUser(b *testing.B) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{CacheDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.Close(ctx) })
	m, err := e.Load(ctx, wasmbuild.Test(b, "runtime"))
	if err != nil {
		b.Fatal(err)
	}
	src, err := os.ReadFile("../../api/testdata/js/seed-postgres.js")
	if err != nil {
		b.Fatal(err)
	}
	s, err := jsrt.Inspect(ctx, e, m, "t1", src, engine.Limits{})
	if err != nil {
		b.Fatal(err)
	}
	req := engine.Request{Tenant: "t1", Pool: "seed", Function: "getUser", Host: seedRowHost{}, Quiet: true,
		Env:   map[string]string{"DB_CONNECTION_URI": "postgres://canned"},
		Input: []byte(`{"query":{"id":"1"},"context":{"tenant":"t1","connection":"c","requestId":"r"}}`)}
	if _, ok := s.Prepare(&req); !ok {
		b.Fatal("getUser not served")
	}
	res, err := e.Call(ctx, m, req)
	if err != nil || !strings.Contains(string(res.Output), `"email":"ada@example.com"`) {
		b.Fatalf("first call: %v %+v", err, res)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		if _, err := e.Call(ctx, m, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
