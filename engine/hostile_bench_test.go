package engine_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/hostile"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The hostile benchmarks measure how well the sandbox holds against each
// shape of the corpus (internal/hostile). Each shape runs in a child
// process, as in TestHostileCorpus; read the custom metrics, not ns/op
// (which is the child's whole run). Run them alone with
//
//	make bench BENCH=Hostile
//	go test -run '^$' -bench 'BenchmarkHostileDeadline/calltree' ./engine/

func hostileBench(b *testing.B, cases func(hostile.Case) bool, body func(tb testing.TB, rep *hostile.Report, c hostile.Case)) {
	for _, c := range hostile.Corpus() {
		if !cases(c) {
			continue
		}
		b.Run(c.Name, func(b *testing.B) {
			hostile.Isolated(b, hostile.Options{Env: []string{"SLUICE_HOSTILE_ENGINE_CACHE=" + cacheDir}}, func(tb testing.TB, rep *hostile.Report) {
				body(tb, rep, c)
			})
		})
	}
}

func allCases(hostile.Case) bool { return true }

// BenchmarkHostileDeadline: for each shape, hostile.Runs() calls one after
// another under the shape's deadline (200ms; 50ms for
// example_static_login_50ms), reporting how far past the deadline they
// ended (ms-past-deadline-max and -p50; the target is 50ms) and how many
// ended more than 50ms late. A shape refused at upload reports how long
// Load took to refuse it instead (ms-to-refuse-max, -p50).
func BenchmarkHostileDeadline(b *testing.B) {
	hostileBench(b, allCases, func(tb testing.TB, rep *hostile.Report, c hostile.Case) {
		wasm := hostile.Wasm(tb, c)
		runs := hostile.Runs()
		ctx := context.Background()
		refused := c.Stage == hostile.Compile
		if !refused {
			if c.Stage == hostile.Run {
				refused = refuses(tb, c, wasm) // and compiled into the cache
				hostile.AttackStarts(tb)
			} else {
				hostile.AttackStarts(tb)
				refused = refuses(tb, c, wasm)
			}
		} else {
			hostile.AttackStarts(tb)
		}
		if refused {
			var took []time.Duration
			refused := 0
			for range runs {
				e := attackEngine(tb, c)
				start := time.Now()
				_, err := e.Load(ctx, wasm)
				took = append(took, time.Since(start))
				if err != nil {
					refused++
				}
				e.Close(ctx)
			}
			rep.Metric(hostile.Ms(hostile.Percentile(took, 100)), "ms-to-refuse-max")
			rep.Metric(hostile.Ms(hostile.Percentile(took, 50)), "ms-to-refuse-p50")
			rep.Metric(float64(refused), "refused")
			rep.Logf("%s: %d of %d loads refused; slowest %s", c.Name, refused, runs, hostile.Percentile(took, 100).Round(time.Millisecond))
			return
		}
		e := attackEngine(tb, c)
		host, env := attackHost(tb, c)
		m, err := e.Load(ctx, wasm)
		if err != nil {
			tb.Fatal(err)
		}
		var over []time.Duration
		late := 0
		outcomes := map[hostile.Outcome]int{}
		for range runs {
			start := time.Now()
			_, err := e.Call(ctx, m, attackRequest(c, host, env, "attacker", c.Name, 1))
			d := max(time.Since(start)-c.Limit(), 0)
			over = append(over, d)
			if d > 50*time.Millisecond {
				late++
			}
			outcomes[outcomeOf(err)]++
		}
		rep.Metric(hostile.Ms(hostile.Percentile(over, 100)), "ms-past-deadline-max")
		rep.Metric(hostile.Ms(hostile.Percentile(over, 50)), "ms-past-deadline-p50")
		rep.Metric(float64(late), "runs-over-50ms")
		rep.Logf("%s: %d runs, past the %s deadline by max %s, p50 %s; outcomes %v", c.Name, runs, c.Limit(),
			hostile.Percentile(over, 100).Round(time.Millisecond), hostile.Percentile(over, 50).Round(time.Millisecond), outcomes)
	})
}

// refuses reports whether Load refuses the module (probing it once on an
// engine of its own).
func refuses(tb testing.TB, c hostile.Case, wasm []byte) bool {
	e := attackEngine(tb, c)
	defer e.Close(context.Background())
	_, err := e.Load(context.Background(), wasm)
	var me *engine.ModuleError
	return errors.As(err, &me)
}

// prepareAttack loads the shape's module on an engine of its own and tells
// the parent the attack starts: after Load when the attack is in the call,
// before it otherwise. The module is nil when Load refused it, or for a
// compile bomb (whose attack is Load itself).
func prepareAttack(tb testing.TB, c hostile.Case, wasm []byte) (*engine.Engine, *engine.Module) {
	ctx := context.Background()
	e := attackEngine(tb, c)
	var m *engine.Module
	switch c.Stage {
	case hostile.Run:
		m, _ = e.Load(ctx, wasm)
		hostile.AttackStarts(tb)
	case hostile.Init:
		hostile.AttackStarts(tb)
		m, _ = e.Load(ctx, wasm)
	default:
		hostile.AttackStarts(tb)
	}
	return e, m
}

// attack runs the shape from attackers goroutines until stop is closed: calls
// of module m, or when m is nil (a module Load refuses, a compile bomb)
// Loads on fresh engines, as repeated uploads would. It returns a func
// that waits for the attackers and reports how many attacks ran, and
// whether they all stopped within the deadline plus the bound.
func attack(tb testing.TB, c hostile.Case, wasm []byte, e *engine.Engine, m *engine.Module, attackers int, stop chan struct{}) func() (int64, bool) {
	ctx := context.Background()
	host, env := attackHost(tb, c)
	var n atomic.Int64
	done := hostile.Repeat(attackers, stop, func() bool {
		if m != nil {
			e.Call(ctx, m, attackRequest(c, host, env, "attacker", "a", attackers))
		} else {
			fresh, err := engine.New(ctx, engine.Config{DefaultLimits: engine.Limits{Timeout: c.Limit(), MemoryBytes: uint64(c.Memory()) << 20}})
			if err != nil {
				tb.Error(err)
				return false
			}
			fresh.Load(ctx, wasm)
			fresh.Close(ctx)
		}
		n.Add(1)
		return true
	})
	return func() (int64, bool) {
		select {
		case <-done:
			return n.Load(), true
		case <-time.After(c.Limit() + hostile.Bound() + hostile.LoadBound()):
			return n.Load(), false
		}
	}
}

// reportNeighbour reports the neighbour's latencies alone and under attack.
func reportNeighbour(rep *hostile.Report, c hostile.Case, alone, under []time.Duration, attacks int64, stopped bool) {
	p99a, p99u := hostile.Percentile(alone, 99), hostile.Percentile(under, 99)
	p50a, p50u := hostile.Percentile(alone, 50), hostile.Percentile(under, 50)
	rep.Metric(hostile.Ms(p99a), "neighbour-p99-alone-ms")
	rep.Metric(hostile.Ms(p99u), "neighbour-p99-attack-ms")
	if p99a > 0 {
		rep.Metric(float64(p99u)/float64(p99a), "p99-ratio")
	}
	if p50a > 0 {
		rep.Metric(float64(p50u)/float64(p50a), "p50-ratio")
	}
	rep.Metric(float64(len(under)), "neighbour-calls-under-attack")
	rep.Metric(float64(attacks), "attacks")
	rep.Logf("%s: neighbour p99 %s alone (%d calls), %s under attack (%d calls, %d attacks, stopped %v)", c.Name,
		p99a.Round(time.Microsecond), len(alone), p99u.Round(time.Microsecond), len(under), attacks, stopped)
}

// neighbourWindow is how long the neighbour's latency is sampled, alone
// and under attack.
const neighbourWindow = time.Second

// BenchmarkHostileNeighbour: a neighbour tenant calls examples/static
// getUser in a closed loop through the engine, alone and then while the
// attacking tenant runs the shape with hostile.Attackers() concurrent calls
// (its full concurrency quota); it reports the neighbour's p99 in both
// phases of the same run and their ratio (p99-ratio; 1 is perfect
// isolation).
func BenchmarkHostileNeighbour(b *testing.B) {
	hostileBench(b, allCases, func(tb testing.TB, rep *hostile.Report, c hostile.Case) {
		ctx := context.Background()
		wasm := hostile.Wasm(tb, c)
		e := newEngine(tb, engine.Config{CacheDir: hostileCacheDir()})
		static, err := e.Load(ctx, wasmbuild.Test(tb, "../examples/static"))
		if err != nil {
			tb.Fatal(err)
		}
		req := engine.Request{Tenant: "neighbour", Pool: "static", Function: "getUser", Input: []byte(`{"query":{"id":"1"}}`), Limits: engine.Limits{Timeout: 10 * time.Second, MaxInstances: 1}}
		neighbour := func() error { _, err := e.Call(ctx, static, req); return err }
		hostile.ClosedLoop(tb, 100*time.Millisecond, neighbour) // warm
		alone := hostile.ClosedLoop(tb, neighbourWindow, neighbour)
		ae, am := prepareAttack(tb, c, wasm)
		stop := make(chan struct{})
		wait := attack(tb, c, wasm, ae, am, hostile.Attackers(), stop)
		time.Sleep(50 * time.Millisecond)
		under := hostile.ClosedLoop(tb, neighbourWindow, neighbour)
		close(stop)
		attacks, stopped := wait()
		reportNeighbour(rep, c, alone, under, attacks, stopped)
		if !stopped {
			tb.Errorf("the attacking calls did not stop within the deadline plus %s", hostile.Bound()+hostile.LoadBound())
		}
	})
}

// memoryShape selects the shapes that attack host memory.
func memoryShape(c hostile.Case) bool { return c.Heavy || c.MemoryMB > 0 }

// BenchmarkHostileRSS: the process's peak RSS while hostile.Attackers()
// concurrent calls (or Loads, for compile bombs) run a memory, table or
// compile shape three times each, against a node memory budget: the RSS
// before the attack, plus the attackers' memory quotas, plus 128 MiB for
// the host (peak-over-budget above 1 is a breach).
func BenchmarkHostileRSS(b *testing.B) {
	hostileBench(b, memoryShape, func(tb testing.TB, rep *hostile.Report, c hostile.Case) {
		wasm := hostile.Wasm(tb, c)
		attackers := hostile.Attackers()
		var ae *engine.Engine
		var am *engine.Module
		if c.Stage == hostile.Run {
			ae, am = prepareAttack(tb, c, wasm)
		}
		base, _ := hostile.RSS()
		if err := hostile.ResetPeakRSS(); err != nil {
			tb.Fatalf("cannot reset the peak RSS: %v", err)
		}
		if ae == nil {
			ae, am = prepareAttack(tb, c, wasm)
		}
		stop := make(chan struct{})
		wait := attack(tb, c, wasm, ae, am, attackers, stop)
		deadline := time.Now().Add(3 * (c.Limit() + hostile.Bound()))
		if c.Stage == hostile.Compile {
			deadline = time.Now().Add(3 * hostile.LoadBound())
		}
		time.Sleep(time.Until(deadline))
		close(stop)
		attacks, stopped := wait()
		_, peak := hostile.RSS()
		budget := base + uint64(attackers*c.Memory())<<20 + 128<<20
		rep.Metric(float64(peak)/(1<<20), "peak-rss-MiB")
		rep.Metric(float64(budget)/(1<<20), "budget-MiB")
		rep.Metric(float64(peak)/float64(budget), "peak-over-budget")
		rep.Metric(float64(attacks), "attacks")
		rep.Logf("%s: peak RSS %d MiB against a budget of %d MiB (%d MiB before; %d attacks, stopped %v)", c.Name, peak>>20, budget>>20, base>>20, attacks, stopped)
		if !stopped {
			tb.Errorf("the attacks did not stop")
		}
	})
}
