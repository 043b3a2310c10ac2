package engine_test

import (
	"fmt"
	"testing"

	"github.com/sluice-dev/sluice/engine"
)

// TestIdleCapEvictsLeastRecentlyUsed fills the engine's idle cap with
// connections, then calls one connection beyond it again and again: each
// of its calls must find the instance it left (the basic guest keeps
// createUser's id in a global), while the least recently used
// connections lose theirs.
func TestIdleCapEvictsLeastRecentlyUsed(t *testing.T) {
	const idleCap = 3
	e := newEngine(t, engine.Config{MaxIdleInstances: idleCap})
	m := load(t, e, "basic")
	remember := func(t *testing.T, pool, id string) {
		t.Helper()
		if _, err := call(t, e, m, engine.Request{Pool: pool, Function: "createUser", Input: []byte(`{"user":{"id":"` + id + `"}}`), Limits: engine.Limits{MaxInstances: 1}}); err != nil {
			t.Fatal(err)
		}
	}
	recalled := func(t *testing.T, pool string) string {
		t.Helper()
		res, err := call(t, e, m, engine.Request{Pool: pool, Function: "getUser", Input: []byte(`{}`), Limits: engine.Limits{MaxInstances: 1}})
		if err != nil {
			t.Fatal(err)
		}
		return string(res.Output)
	}
	for i := 0; i < idleCap; i++ {
		remember(t, fmt.Sprint("c", i), fmt.Sprint("id", i))
	}
	if s := e.Stats(); s.Idle != idleCap {
		t.Fatalf("%d idle instances, want the cap %d", s.Idle, idleCap)
	}
	// A busy connection beyond the cap keeps its instance call after call.
	remember(t, "busy", "kept")
	for i := 0; i < 5; i++ {
		if got := recalled(t, "busy"); got != `{"id":"kept"}` {
			t.Fatalf("call %d of the busy connection got %s: its instance was closed at the cap", i, got)
		}
		if s := e.Stats(); s.Idle != idleCap {
			t.Fatalf("%d idle instances, want the cap %d", s.Idle, idleCap)
		}
	}
	// c0 was the least recently used: its instance went; c1 and c2
	// (used after it) kept theirs.
	tests := []struct{ pool, want string }{
		{"c2", `{"id":"id2"}`},
		{"c1", `{"id":"id1"}`},
		{"c0", `null`},
	}
	for _, tc := range tests {
		t.Run(tc.pool, func(t *testing.T) {
			if got := recalled(t, tc.pool); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}
