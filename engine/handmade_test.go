package engine_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/hostile"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// handmade assembles a minimal non-Go connector: login loops forever.
// With a start function, the engine runs that function at the first call,
// under the call's limits.
func handmade(withStart bool, extraExports ...string) []byte {
	sec := func(id byte, content ...byte) []byte {
		return append([]byte{id, byte(len(content))}, content...)
	}
	str := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 3, 0x60, 0, 1, 0x7F, 0x60, 1, 0x7F, 1, 0x7F, 0x60, 0, 0)...)
	m = append(m, sec(3, 3, 0, 1, 2)...)
	m = append(m, sec(5, 1, 0, 1)...)
	exports := []byte{byte(3 + len(extraExports))}
	exports = append(append(exports, str("memory")...), 2, 0)
	exports = append(append(exports, str("sluice_abi_version")...), 0, 0)
	exports = append(append(exports, str("login")...), 0, 1)
	for _, name := range extraExports {
		exports = append(append(exports, str(name)...), 0, 1)
	}
	m = append(m, sec(7, exports...)...)
	if withStart {
		m = append(m, sec(8, 2)...)
	}
	code := []byte{3,
		4, 0, 0x41, 1, 0x0B, // sluice_abi_version: i32.const 1
		9, 0, 0x03, 0x40, 0x0C, 0, 0x0B, 0x41, 0, 0x0B, // login: loop br 0 end; i32.const 0
		2, 0, 0x0B, // start: nothing
	}
	return append(m, sec(10, code...)...)
}

func TestEndlessLoopStopsWithOrWithoutStartFunction(t *testing.T) {
	e := newEngine(t, engine.Config{})
	for _, withStart := range []bool{false, true} {
		name := "no start"
		if withStart {
			name = "start function"
		}
		t.Run(name, func(t *testing.T) {
			m, err := e.Load(t.Context(), handmade(withStart))
			if err != nil {
				t.Fatal(err)
			}
			lim := engine.Limits{Timeout: 200 * time.Millisecond}
			for i := 0; i < 2; i++ {
				start := time.Now()
				_, cerr := call(t, e, m, engine.Request{Pool: name, Function: "login", Input: []byte(`{}`), Limits: lim})
				if cerr == nil || cerr.Code != engine.CodeTimeout {
					t.Fatalf("got %v, want timeout", cerr)
				}
				if took := time.Since(start); took > lim.Timeout+5*time.Second {
					t.Fatalf("stopped after %s", took)
				}
			}
		})
	}
}

// TestEndlessLoopDoesNotHoldUpGC: the Go runtime cannot preempt compiled
// wasm, so a loop that never returned to Go would block a stop-the-world
// garbage collection, and with it the timer that must stop the loop: the
// whole process would hang. Instrumented code returns to Go whenever its
// fuel runs out.
func TestEndlessLoopDoesNotHoldUpGC(t *testing.T) {
	e := newEngine(t, engine.Config{})
	for _, m := range []*engine.Module{load(t, e, "hostile"), mustLoad(t, e, handmade(false)), mustLoad(t, e, handmade(true))} {
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				select {
				case <-stop:
					return
				default:
					runtime.GC()
				}
			}
		}()
		_, err := call(t, e, m, engine.Request{Function: "login", Input: []byte(`{"do":"loop"}`), Limits: engine.Limits{Timeout: 300 * time.Millisecond}})
		close(stop)
		<-done
		if err == nil || err.Code != engine.CodeTimeout {
			t.Fatalf("got %v, want timeout", err)
		}
	}
}

func mustLoad(t *testing.T, e *engine.Engine, wasm []byte) *engine.Module {
	t.Helper()
	m, err := e.Load(t.Context(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestCPUBudgetEndsTheCall: a tenant's guest time per minute is a
// budget; a loop that spends it ends as quota_exceeded, and the tenant's
// next call is refused until the budget refills, while another tenant
// runs.
func TestCPUBudgetEndsTheCall(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := mustLoad(t, e, handmade(false))
	lim := engine.Limits{Timeout: 5 * time.Second, CPUPerMinute: 100 * time.Millisecond}
	start := time.Now()
	_, err := call(t, e, m, engine.Request{Tenant: "spender", Function: "login", Input: []byte(`{}`), Limits: lim})
	if err == nil || err.Code != engine.CodeQuotaExceeded || !strings.Contains(err.Message, "CPU budget") {
		t.Fatalf("got %v, want quota_exceeded (CPU budget)", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the budget of 100ms ended the call after %s", took)
	}
	if _, err := call(t, e, m, engine.Request{Tenant: "spender", Function: "login", Input: []byte(`{}`), Limits: lim}); err == nil || err.Code != engine.CodeQuotaExceeded {
		t.Fatalf("the next call with the budget spent: %v, want quota_exceeded", err)
	}
	short := engine.Limits{Timeout: 100 * time.Millisecond, CPUPerMinute: time.Second}
	if _, err := call(t, e, m, engine.Request{Tenant: "neighbour", Function: "login", Input: []byte(`{}`), Limits: short}); err == nil || err.Code != engine.CodeTimeout {
		t.Fatalf("a neighbour with budget left: %v, want its own timeout", err)
	}
}

// TestInstanceRate: a call that loses its instance (here a panic) is
// charged for it; past the tenant's burst, its calls that need a new
// instance wait for the rate, and one that cannot have it before its
// deadline ends as a timeout that says why. A call on a pooled instance
// never waits, and another tenant has its own burst.
func TestInstanceRate(t *testing.T) {
	e := newEngine(t, engine.Config{InstanceRate: 0.01, InstanceBurst: 3}) // one every 100s
	m := load(t, e, "hostile")
	lim := engine.Limits{Timeout: 300 * time.Millisecond}
	panicking := engine.Request{Tenant: "crasher", Function: "login", Input: []byte(`{"do":"panic"}`), Limits: lim}
	for i := range 4 { // the burst, and one more: its loss is the first over it
		if _, err := call(t, e, m, panicking); err == nil || err.Code != engine.CodeConnectorError {
			t.Fatalf("panic %d: got %v, want connector_error", i, err)
		}
	}
	_, err := call(t, e, m, panicking)
	if err == nil || err.Code != engine.CodeTimeout || !strings.Contains(err.Message, "new instance") {
		t.Fatalf("past the burst: got %v, want a timeout waiting for a new instance", err)
	}
	if s := e.Stats(); s.InstanceTimeouts != 1 {
		t.Errorf("InstanceTimeouts = %d, want 1", s.InstanceTimeouts)
	}

	other := panicking
	other.Tenant = "other"
	if _, err := call(t, e, m, other); err == nil || err.Code != engine.CodeConnectorError {
		t.Fatalf("another tenant's first panic: got %v, want connector_error", err)
	}

	healthy := engine.Request{Tenant: "steady", Function: "login", Input: []byte(`{}`), Limits: lim}
	for i := range 10 {
		if _, err := call(t, e, m, healthy); err != nil {
			t.Fatalf("call %d on the pooled instance: %v", i, err)
		}
	}
	if s := e.Stats(); s.Idle != 1 {
		t.Errorf("%d idle instances, want the steady tenant's one", s.Idle)
	}
}

// TestInstanceRateStaggersWaiters: calls that need new instances while
// their tenant is in debt take successive places in its bucket, one
// every 1/InstanceRate, rather than all starting when the debt clears.
func TestInstanceRateStaggersWaiters(t *testing.T) {
	e := newEngine(t, engine.Config{InstanceRate: 10, InstanceBurst: 1}) // one every 100ms
	m := load(t, e, "hostile")
	lim := engine.Limits{Timeout: 5 * time.Second}
	for i := range 2 { // the burst, and one over it: 100ms of debt
		if _, err := call(t, e, m, engine.Request{Tenant: "t", Function: "login", Input: []byte(`{"do":"panic"}`), Limits: lim}); err == nil {
			t.Fatalf("panic %d succeeded", i)
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := call(t, e, m, engine.Request{Tenant: "t", Function: "login", Input: []byte(`{}`), Limits: lim}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Timers never fire early: the fourth place is 300ms after the
	// first, which is after start.
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("four waiting calls all had instances after %s, want them one every 100ms", took)
	}
	if s := e.Stats(); s.InstanceWaits != 4 {
		t.Errorf("InstanceWaits = %d, want 4", s.InstanceWaits)
	}
}

// TestInstanceRateChargesOnlyOwnLosses: instances the engine closes
// itself, here a healthy tenant's idle ones closed to make room for
// another tenant's memory bomb under the node's memory budget, and cold
// starts are not charged: the healthy tenant's calls never wait for the
// rate, whatever its neighbour does.
func TestInstanceRateChargesOnlyOwnLosses(t *testing.T) {
	probe := newEngine(t, engine.Config{})
	pm := load(t, probe, "hostile")
	if _, err := call(t, probe, pm, engine.Request{Tenant: "x", Function: "login", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	one := probe.Stats().MemoryBytes // what one idle instance holds

	e := newEngine(t, engine.Config{InstanceRate: 0.01, InstanceBurst: 1, NodeMemoryBytes: uint64(3*one + one/2)})
	m := load(t, e, "hostile")
	lim := engine.Limits{Timeout: 400 * time.Millisecond}
	healthy := engine.Request{Tenant: "healthy", Function: "login", Input: []byte(`{}`), Limits: lim}
	bomb := engine.Request{Tenant: "bomber", Function: "login", Input: []byte(`{"do":"membomb"}`), Limits: lim}
	for round := range 3 {
		var wg sync.WaitGroup
		for range 2 { // two instances, cold or not
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := call(t, e, m, healthy); err != nil {
					t.Errorf("round %d: the healthy tenant's call: %v", round, err)
				}
			}()
		}
		wg.Wait()
		if _, err := call(t, e, m, bomb); err == nil {
			t.Fatalf("round %d: the memory bomb succeeded", round)
		}
	}
	if s := e.Stats(); s.InstanceWaits+s.InstanceTimeouts == 0 {
		t.Errorf("the bomber never waited for the rate: %+v", s)
	}
}

// TestBytesPerCall: output_write may be given four times the output
// limit in all, input_read may copy four times the input limit, and
// random_get may hand out 1 MiB in a call; past them the call ends as
// resource_exhausted, and the next call, on a new instance, has its own
// count.
func TestBytesPerCall(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := mustLoad(t, e, watGuest(t, "bytes_per_call"))
	for _, c := range []struct {
		fn, n string
		want  string // message fragment of the resource_exhausted, or "" for success
	}{
		{"getUser", "3", ""}, // 3 MiB and the answer: under 4 MiB
		{"getUser", "4", "output_write moved"},
		{"getUser", "3", ""},
		{"searchUser", "4", ""}, // exactly 1 MiB
		{"searchUser", "5", "random_get was asked for more than"},
		{"searchUser", "4", ""},
		{"createUser", "3", ""}, // 4 reads of a 1 MiB input: 4 MiB
		{"createUser", "4", "input_read moved"},
		{"createUser", "3", ""},
	} {
		t.Run(c.fn+"/"+c.n, func(t *testing.T) {
			in := []byte(c.n)
			if c.fn == "createUser" {
				in = append(in, bytes.Repeat([]byte(" "), 1<<20-1)...) // the input limit
			}
			res, err := call(t, e, m, engine.Request{Tenant: "t", Function: c.fn, Input: in})
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("got %v, want success", err)
			case c.want == "" && string(res.Output) != "null":
				t.Fatalf("output %.40q, want null", res.Output)
			case c.want != "" && (err == nil || err.Code != engine.CodeResourceExhausted || !strings.Contains(err.Message, c.want)):
				t.Fatalf("got %v, want resource_exhausted (%s)", err, c.want)
			}
		})
	}
}

// slowHashHost answers password.hash after d, standing for a hash's CPU,
// and charges d as the real password functions charge their hashes.
type slowHashHost struct{ d time.Duration }

func (h slowHashHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	time.Sleep(h.d)
	engine.ChargeCPU(ctx, h.d)
	return json.RawMessage(`{"hash":"x"}`), nil
}

// TestCPUBudgetCountsHashes: a password host call gives up the call's
// CPU slot, but its time counts against the tenant's CPU budget: a loop
// of hashes ends as quota_exceeded once the budget is spent, not at its
// deadline.
func TestCPUBudgetCountsHashes(t *testing.T) {
	var loop hostile.Case
	for _, c := range hostile.Corpus() {
		if c.Name == "hostloop_password" {
			loop = c
		}
	}
	e := newEngine(t, engine.Config{})
	m := mustLoad(t, e, hostile.Wasm(t, loop))
	lim := engine.Limits{Timeout: 5 * time.Second, CPUPerMinute: 100 * time.Millisecond}
	_, err := call(t, e, m, engine.Request{Tenant: "hasher", Function: "login", Input: []byte(`{}`), Limits: lim, Host: slowHashHost{30 * time.Millisecond}})
	if err == nil || err.Code != engine.CodeQuotaExceeded || !strings.Contains(err.Message, "CPU budget") {
		t.Fatalf("got %v, want quota_exceeded (CPU budget)", err)
	}
}

// TestInstanceRateSkipsNodeMemoryRefusals: a start refused because
// other tenants' instances hold the node's memory budget is not the
// refused tenant's loss: once the memory is free its calls start at once.
func TestInstanceRateSkipsNodeMemoryRefusals(t *testing.T) {
	probe := newEngine(t, engine.Config{})
	pm := load(t, probe, "hostile")
	if _, err := call(t, probe, pm, engine.Request{Tenant: "x", Function: "login", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	one := probe.Stats().MemoryBytes // what one instance holds

	e := newEngine(t, engine.Config{InstanceRate: 0.01, InstanceBurst: 1, NodeMemoryBytes: uint64(one + one/2)})
	m := load(t, e, "hostile")
	holding := make(chan struct{})
	go func() { // the holder's sleeping call keeps the node's memory
		defer close(holding)
		call(t, e, m, engine.Request{Tenant: "holder", Function: "login", Input: []byte(`{"do":"sleep"}`), Limits: engine.Limits{Timeout: time.Second}})
	}()
	for wait := time.Now().Add(10 * time.Second); e.Stats().MemoryBytes < one; {
		if time.Now().After(wait) {
			t.Fatal("the holder's instance never took the node's memory")
		}
		time.Sleep(time.Millisecond)
	}
	victim := engine.Request{Tenant: "victim", Function: "login", Input: []byte(`{}`), Limits: engine.Limits{Timeout: 5 * time.Second}}
	for i := range 3 {
		if _, err := call(t, e, m, victim); err == nil || err.Code != engine.CodeResourceExhausted {
			t.Fatalf("start %d with the node's memory held: %v, want resource_exhausted", i, err)
		}
	}
	<-holding
	if _, err := call(t, e, m, victim); err != nil {
		t.Fatalf("the victim's call once the memory is free: %v", err)
	}
	if s := e.Stats(); s.InstanceWaits+s.InstanceTimeouts != 0 {
		t.Errorf("the victim waited for the instance rate after node-memory refusals: %+v", s)
	}
}

// memModule assembles a module of pages of memory whose getUser answers
// null at once and whose login loops until its deadline.
func memModule(t *testing.T, pages int) []byte {
	t.Helper()
	src := `(module
  (import "sluice" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") ` + strconv.Itoa(pages) + `)
  (data (i32.const 0) "null")
  (func (export "sluice_abi_version") (result i32) (i32.const 1))
  (func (export "getUser") (param i32) (result i32) (call $out (i32.const 0) (i32.const 4)) (i32.const 0))
  (func (export "login") (param i32) (result i32) (loop $l (br $l)) (i32.const 0)))`
	return wasmbuild.WAT(t, src)
}

// TestInstanceRateChargesEvictingRefusals: a start the node's memory
// budget refuses after it closed other tenants' idle instances to make
// room cost those tenants their instances, so it is charged: a tenant
// cannot evict its neighbours for free, again and again.
func TestInstanceRateChargesEvictingRefusals(t *testing.T) {
	const mib = 1 << 20
	e := newEngine(t, engine.Config{InstanceRate: 0.01, InstanceBurst: 1, NodeMemoryBytes: 9 * mib})
	small := mustLoad(t, e, memModule(t, 64)) // 4 MiB
	big := mustLoad(t, e, memModule(t, 128))  // 8 MiB
	holding := make(chan struct{})
	go func() { // 4 MiB busy until its deadline
		defer close(holding)
		call(t, e, small, engine.Request{Tenant: "holder", Function: "login", Input: []byte(`{}`), Limits: engine.Limits{Timeout: 3 * time.Second}})
	}()
	defer func() { <-holding }()
	for wait := time.Now().Add(10 * time.Second); e.Stats().MemoryBytes < 4*mib; {
		if time.Now().After(wait) {
			t.Fatal("the holder's instance never took its memory")
		}
		time.Sleep(time.Millisecond)
	}
	evictor := engine.Request{Tenant: "evictor", Function: "getUser", Input: []byte(`{}`), Limits: engine.Limits{Timeout: 300 * time.Millisecond}}
	var last *engine.Error
	for i := range 3 {
		// A neighbour's idle instance of 4 MiB: with the holder's, 8 of 9.
		if _, err := call(t, e, small, engine.Request{Tenant: "idler", Function: "getUser", Input: []byte(`{}`)}); err != nil {
			t.Fatalf("the idler's call %d: %v", i, err)
		}
		// 8 MiB cannot fit even with the idle instance closed.
		_, last = call(t, e, big, evictor)
		if last == nil {
			t.Fatalf("start %d of 8 MiB in a 9 MiB budget with 4 MiB busy succeeded", i)
		}
		if i < 2 && last.Code != engine.CodeResourceExhausted {
			t.Fatalf("start %d: %v, want resource_exhausted", i, last)
		}
	}
	// Two charged refusals put the evictor past its burst of one.
	if last.Code != engine.CodeTimeout || !strings.Contains(last.Message, "new instance") {
		t.Errorf("the third evicting start: %v, want a timeout waiting for a new instance", last)
	}
}

// TestGuestLetsWaitingGoroutinesRun: a guest that keeps a core busy
// lets the goroutines waiting for one run about every millisecond, not
// only when Go preempts it (every 10 ms), so the node's other work (a
// /healthz answer, a request the network woke) does not queue behind
// guests. On one P, a goroutine that gives the P back at once gets it
// again about once per millisecond of the guest's call; Go's preemption
// alone gave it 17 times in 300 ms.
func TestGuestLetsWaitingGoroutinesRun(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	e := newEngine(t, engine.Config{})
	m := mustLoad(t, e, memModule(t, 1))
	if _, err := call(t, e, m, engine.Request{Function: "getUser", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err) // makes the instance the loop will use
	}
	var cerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, cerr = e.Call(context.Background(), m, engine.Request{Tenant: "t1", Function: "login", Input: []byte(`{}`), Limits: engine.Limits{Timeout: 300 * time.Millisecond}})
	}()
	turns := 0
	for running := true; running; turns++ {
		select {
		case <-done:
			running = false
		default:
			runtime.Gosched()
		}
	}
	if ee, ok := errors.AsType[*engine.Error](cerr); !ok || ee.Code != engine.CodeTimeout {
		t.Fatalf("got %v, want timeout", cerr)
	}
	// 300 alone, about 150 beside three busy processes on two cores.
	if turns < 60 {
		t.Errorf("a waiting goroutine ran %d times during a 300 ms guest loop, want at least 60", turns)
	}
	t.Logf("a waiting goroutine ran %d times during a 300 ms guest loop", turns)
}
