package engine_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
)

// A quiet call keeps no logs and no trace for its Result, hands its trace
// to Observe, still counts its log lines against the limit, and never
// touches the trace of an earlier call on the same instance.
func TestQuietCalls(t *testing.T) {
	e := newEngine(t, engine.Config{})
	m := load(t, e, "basic")
	var mu sync.Mutex
	var seen [][]engine.HostCall
	observe := func(tr []engine.HostCall) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, append([]engine.HostCall(nil), tr...))
	}
	last := func() []engine.HostCall {
		mu.Lock()
		defer mu.Unlock()
		return seen[len(seen)-1]
	}
	echo := engine.Request{Pool: "p", Function: "updateUser", Input: []byte(`{"op":"test.echo","req":{"q":"select"}}`), Host: echoHost{}, Observe: observe}

	// Loud: the Result has the trace, and Observe sees the same.
	loud, err := call(t, e, m, echo)
	if err != nil {
		t.Fatal(err)
	}
	if len(loud.Trace) != 1 || loud.Trace[0].Target != "echo:1" || loud.Trace[0].Statement != "ECHO" {
		t.Fatalf("loud trace %+v", loud.Trace)
	}
	if tr := last(); len(tr) != 1 || tr[0] != loud.Trace[0] {
		t.Fatalf("observed %+v, want %+v", tr, loud.Trace)
	}

	for _, tc := range []struct {
		name  string
		req   engine.Request
		check func(t *testing.T, res *engine.Result)
	}{
		{"host call", engine.Request{Pool: "p", Function: "updateUser", Input: []byte(`{"op":"test.deny","req":{"q":"x"}}`), Host: echoHost{}}, func(t *testing.T, res *engine.Result) {
			if tr := last(); len(tr) != 1 || !tr[0].Denied || tr[0].Kind != "test" || tr[0].BytesIn != len(`{"q":"x"}`) {
				t.Errorf("observed %+v", tr)
			}
		}},
		{"logs", engine.Request{Pool: "p", Function: "listUsers", Input: []byte(`{}`)}, func(t *testing.T, res *engine.Result) {
			if tr := last(); len(tr) != 0 {
				t.Errorf("observed %+v", tr)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Quiet, req.Observe = true, observe
			res, err := call(t, e, m, req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Logs == nil || len(res.Logs) != 0 || res.Trace == nil || len(res.Trace) != 0 {
				t.Errorf("quiet Result has logs %+v, trace %+v (want empty, not nil)", res.Logs, res.Trace)
			}
			tc.check(t, res)
			// The loud call's trace is its own.
			if loud.Trace[0].Target != "echo:1" || loud.Trace[0].Denied {
				t.Errorf("a quiet call changed an earlier Result's trace: %+v", loud.Trace)
			}
		})
	}

	// A loud call after quiet ones on the same instance has its own trace.
	again, err := call(t, e, m, echo)
	if err != nil || len(again.Trace) != 1 || again.Trace[0].Target != "echo:1" || len(loud.Trace) != 1 {
		t.Fatalf("loud after quiet: %v %+v", err, again)
	}
	if res, err := call(t, e, m, engine.Request{Pool: "p", Function: "listUsers", Input: []byte(`{}`)}); err != nil || len(res.Logs) != 3 {
		t.Fatalf("loud logs after quiet: %v %+v", err, res)
	}

	// The log limit still holds for quiet calls.
	h := load(t, e, "hostile")
	limits := engine.Limits{Timeout: 2 * time.Second, MaxLogBytes: 16 << 10}
	for _, do := range []string{"logflood", "hostlogflood"} {
		_, err := call(t, e, h, engine.Request{Pool: "h", Function: "login", Input: []byte(`{"do":"` + do + `"}`), Limits: limits, Quiet: true})
		if err == nil || err.Code != engine.CodeResourceExhausted || !strings.Contains(err.Message, "log limit") {
			t.Errorf("quiet %s: %v, want resource_exhausted: log limit", do, err)
		}
	}
}
