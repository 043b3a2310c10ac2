package engine_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// TestNodeMemoryBudget: memory bombs of several tenants, each within its
// own quota, together never hold more guest memory than the node's
// budget; what does not fit is refused as resource_exhausted naming the
// budget, an idle instance is closed to make room first, and everything
// is given back when the calls end.
func TestNodeMemoryBudget(t *testing.T) {
	const budget = 80 << 20
	e := newEngine(t, engine.Config{NodeMemoryBytes: budget})
	bomb := load(t, e, "hostile")
	basic := load(t, e, "basic")

	// An idle instance of another tenant holds some of the budget.
	if _, err := call(t, e, basic, engine.Request{Tenant: "idle", Function: "login", Input: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	if s := e.Stats(); s.Idle != 1 || s.MemoryBytes == 0 {
		t.Fatalf("after one call: %+v", s)
	}

	var peak atomic.Int64
	stop := make(chan struct{})
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for {
			if n := e.MemoryInUse(); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	var wg sync.WaitGroup
	errs := make([]*engine.Error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = call(t, e, bomb, engine.Request{Tenant: fmt.Sprint("bomber", i), Function: "login", Input: []byte(`{"do":"membomb"}`),
				Limits: engine.Limits{MemoryBytes: 48 << 20, Timeout: 10 * time.Second}})
		}()
	}
	wg.Wait()
	close(stop)
	<-polled

	node := 0
	for i, err := range errs {
		if err == nil || err.Code != engine.CodeResourceExhausted {
			t.Fatalf("bomber %d: %v, want resource_exhausted", i, err)
		}
		if strings.Contains(err.Message, "node's memory budget") {
			node++
		}
	}
	if node == 0 {
		t.Errorf("no bomb was stopped by the node's budget: %v", errs)
	}
	if p := peak.Load(); p > budget {
		t.Errorf("guest memory peaked at %d bytes, over the node budget of %d", p, budget)
	}
	if s := e.Stats(); s.Idle != 0 {
		t.Errorf("the idle instance was not closed to make room: %+v", s)
	}
	waitClosed(t, e)
	if n := e.MemoryInUse(); n != 0 {
		t.Errorf("%d bytes still reserved after every call ended", n)
	}
}

// waitClosed waits until the instances lost by calls are closed: that
// happens in the background, after the calls returned.
func waitClosed(t *testing.T, e *engine.Engine) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); e.Stats().Closing > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("lost instances still being closed after 10s: %+v", e.Stats())
		}
	}
}

// TestNodeMemoryBudgetBelowAModulesStart: a node budget too small for a
// module's first pages refuses the instance cleanly (wazero itself cannot
// take an allocator's refusal of the first pages: it panics): loading the
// module answers resource_exhausted, not an invalid module, and nothing
// stays reserved.
func TestNodeMemoryBudgetBelowAModulesStart(t *testing.T) {
	wasm := wasmbuild.Test(t, "testdata/guests/basic")
	// A first load probes the module in an instance.
	fresh := newEngine(t, engine.Config{NodeMemoryBytes: 1 << 20, CacheDir: t.TempDir()})
	for i := 0; i < 2; i++ {
		_, err := fresh.Load(t.Context(), wasm)
		var ee *engine.Error
		if !errors.As(err, &ee) || ee.Code != engine.CodeResourceExhausted || !strings.Contains(ee.Message, "node's memory budget") {
			t.Fatalf("load %d with the node's memory too small: %v, want resource_exhausted naming the budget", i, err)
		}
	}
	// A module prepared before loads without an instance; its calls are
	// refused instead.
	e := newEngine(t, engine.Config{NodeMemoryBytes: 1 << 20})
	load(t, newEngine(t, engine.Config{}), "basic") // prepares it in the shared cache
	cached, err := e.Load(t.Context(), wasm)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		if _, err := call(t, e, cached, engine.Request{Function: "login", Input: []byte(`{}`)}); err == nil || err.Code != engine.CodeResourceExhausted {
			t.Fatalf("call %d: %v, want resource_exhausted", i, err)
		}
	}
	for _, x := range []*engine.Engine{fresh, e} {
		if n := x.MemoryInUse(); n != 0 {
			t.Errorf("%d bytes still reserved after the refusals", n)
		}
	}
}
