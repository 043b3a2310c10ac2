package engine_test

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/hostile"
)

// TestHostileCorpus runs every shape of the hostile corpus (internal/hostile,
// engine/testdata/hostile) through engine.Call under a 200ms limit: the call
// must end with one of the shape's outcomes, within its deadline plus
// hostile.Bound, while a ticking goroutine and a runtime.GC() loop keep
// running. Compile bombs must be refused by Load, quickly.
//
// Each shape runs in a child process (hostile.Isolated): a guest that never
// returns to Go would freeze this process, watchdog included.
func TestHostileCorpus(t *testing.T) {
	for _, c := range hostile.Corpus() {
		t.Run(c.Name, func(t *testing.T) {
			hostile.Isolated(t, hostile.Options{Env: []string{"SLUICE_HOSTILE_ENGINE_CACHE=" + cacheDir}}, func(tb testing.TB, rep *hostile.Report) {
				engineAttack(tb, rep, c)
			})
		})
	}
}

// hostileCacheDir is the compile cache children share with their parent.
func hostileCacheDir() string {
	if d := os.Getenv("SLUICE_HOSTILE_ENGINE_CACHE"); d != "" {
		return d
	}
	return cacheDir
}

// attackEngine returns an engine whose defaults (the upload probe's
// limits) are the case's.
func attackEngine(tb testing.TB, c hostile.Case) *engine.Engine {
	tb.Helper()
	lim := engine.Limits{Timeout: c.Limit(), MemoryBytes: uint64(c.Memory()) << 20}
	e, err := engine.New(context.Background(), engine.Config{CacheDir: hostileCacheDir(), DefaultLimits: lim})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// attackHost serves host calls on the case's connection (the test
// PostgreSQL or MariaDB, allowlisted).
func attackHost(tb testing.TB, c hostile.Case) (engine.Host, map[string]string) {
	tb.Helper()
	m := hostfuncs.New(hostfuncs.Config{})
	tb.Cleanup(func() { m.Close() })
	db := hostile.DBConn(c)
	conn := hostfuncs.Connection{Tenant: "attacker", Name: c.Name, DBType: db.DBType, URI: db.URI, Allowlist: []string{db.Allow},
		AllowPrivateNetworks: true, PrivateNetworks: []string{"127.0.0.1/32"}}
	h, err := m.Host(conn)
	if err != nil {
		tb.Fatal(err)
	}
	return h, conn.Env(nil)
}

func attackRequest(c hostile.Case, host engine.Host, env map[string]string, tenant, pool string, instances int) engine.Request {
	return engine.Request{
		Tenant: tenant, Pool: pool, Function: c.Func(), Input: []byte(c.In()), Env: env, Host: host,
		Limits: engine.Limits{Timeout: c.Limit(), MemoryBytes: uint64(c.Memory()) << 20, MaxInstances: instances},
	}
}

// outcomeOf names how a call ended.
func outcomeOf(err error) hostile.Outcome {
	var ee *engine.Error
	if err == nil {
		return hostile.OK
	}
	if errors.As(err, &ee) {
		return hostile.Outcome(ee.Code)
	}
	return hostile.Outcome("error: " + err.Error())
}

func engineAttack(tb testing.TB, rep *hostile.Report, c hostile.Case) {
	wasm := hostile.Wasm(tb, c)
	e := attackEngine(tb, c)
	host, env := attackHost(tb, c)
	ctx := context.Background()

	// A module whose attack is in its call is loaded (compiled) before the
	// watchdog starts; for the others, loading is the attack.
	var mon *hostile.Monitor
	if c.Stage != hostile.Run {
		hostile.AttackStarts(tb)
		mon = hostile.StartMonitor()
	}
	loadStart := time.Now()
	m, err := e.Load(ctx, wasm)
	loadTook := time.Since(loadStart)
	if mon == nil {
		hostile.AttackStarts(tb)
		mon = hostile.StartMonitor()
	}
	if err != nil {
		p := mon.Stop()
		var me *engine.ModuleError
		if !errors.As(err, &me) {
			tb.Fatalf("Load: %v, want a *ModuleError or success", err)
		}
		rep.Logf("%s: Load refused the module after %s (max stall %s, %d GCs): %.200s", c.Name, loadTook.Round(time.Millisecond), p.MaxGap.Round(time.Millisecond), p.GCs, me.Reason)
		if !c.Allows(hostile.InvalidModule) {
			tb.Errorf("Load refused the module (%s); want %v", me.Reason, c.Want)
		}
		if loadTook > hostile.LoadBound() {
			tb.Errorf("Load took %s to refuse the module, over %s", loadTook.Round(time.Millisecond), hostile.LoadBound())
		}
		p.Check(tb)
		return
	}
	if c.MustRefuse() {
		p := mon.Stop()
		rep.Logf("%s: Load accepted the module after %s", c.Name, loadTook.Round(time.Millisecond))
		p.Check(tb)
		tb.Fatalf("Load accepted a compile bomb after %s; want invalid_module", loadTook.Round(time.Millisecond))
	}
	if c.Stage != hostile.Run && loadTook > hostile.LoadBound() {
		tb.Errorf("Load took %s, over %s", loadTook.Round(time.Millisecond), hostile.LoadBound())
	}

	start := time.Now()
	_, err = e.Call(ctx, m, attackRequest(c, host, env, "attacker", c.Name, 1))
	took := time.Since(start)
	p := mon.Stop()
	got := outcomeOf(err)
	rep.Logf("%s: %s after %s (load %s, max stall %s, %d GCs): %v", c.Name, got, took.Round(time.Millisecond), loadTook.Round(time.Millisecond), p.MaxGap.Round(time.Millisecond), p.GCs, err)
	if !c.Allows(got) {
		tb.Errorf("the call ended with %s (%v); want %v", got, err, c.Want)
	}
	if limit := c.Limit() + hostile.Bound(); took > limit {
		tb.Errorf("the call took %s, over its %s deadline plus %s", took.Round(time.Millisecond), c.Limit(), hostile.Bound())
	}
	p.Check(tb)
	if s := e.Stats(); s.Busy != 0 {
		tb.Errorf("instances still busy after the call: %+v", s)
	}
}
