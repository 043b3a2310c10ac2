package engine_test

import (
	"fmt"
	"strings"
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

// TestMemoryImage: instances of a module start from one shared image of
// its data (mapped copy-on-write, or copied where it cannot be mapped),
// and each behaves as a fresh instance: what one writes over the image,
// or a trap, is never seen by another; globals and _initialize are its
// own.
func TestMemoryImage(t *testing.T) {
	wasm := watGuest(t, "image")
	for _, mode := range []string{"mapped", "copied"} {
		t.Run(mode, func(t *testing.T) {
			e := newEngine(t, engine.Config{})
			m, err := e.Load(t.Context(), wasm)
			if err != nil {
				t.Fatal(err)
			}
			if image, mapped := engine.MemoryImageForTest(m); !image || !mapped {
				t.Fatalf("the module's data became an image: %v, mapped: %v", image, mapped)
			}
			if mode == "copied" {
				engine.CopyMemoryImageForTest(m)
			}
			steps := []struct {
				name, pool, function, input string
				want                        string
				wantCode                    engine.Code
			}{
				{"a fresh instance reads the image", "a", "getUser", `{}`, `"pristine"`, ""},
				{"its first call", "a", "login", `{}`, `[1,1]`, ""},
				{"it writes over the image", "a", "createUser", `"tampered"`, `"tampered"`, ""},
				{"and keeps what it wrote", "a", "getUser", `{}`, `"tampered"`, ""},
				{"its global counts on, _initialize ran once", "a", "login", `{}`, `[2,1]`, ""},
				{"another connection's instance has the image as it was", "b", "getUser", `{}`, `"pristine"`, ""},
				{"and globals and _initialize of its own", "b", "login", `{}`, `[1,1]`, ""},
				{"a trap after scribbling over the image", "b", "validatePassword", `{}`, "", engine.CodeConnectorError},
				{"the next instance of that connection starts clean", "b", "getUser", `{}`, `"pristine"`, ""},
				{"counting from one", "b", "login", `{}`, `[1,1]`, ""},
				{"the first connection still has its own state", "a", "getUser", `{}`, `"tampered"`, ""},
			}
			for _, s := range steps {
				t.Run(s.name, func(t *testing.T) {
					res, err := call(t, e, m, engine.Request{Pool: s.pool, Function: s.function, Input: []byte(s.input), Limits: engine.Limits{MaxInstances: 1}})
					if s.wantCode != "" {
						if err == nil || err.Code != s.wantCode {
							t.Fatalf("got %v, want %s", err, s.wantCode)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if string(res.Output) != s.want {
						t.Fatalf("got %s, want %s", res.Output, s.want)
					}
				})
			}
		})
	}
}

// TestMemoryImageGo: Go guests (the test guest and examples/static) start
// from their memory image too; each connection reads its own env (the Go
// runtime reads it in _initialize, which every instance still runs), and
// a connection's writes stay its own.
func TestMemoryImageGo(t *testing.T) {
	e := newEngine(t, engine.Config{})
	basic := load(t, e, "basic")
	static, err := e.Load(t.Context(), buildExample(t, "static"))
	if err != nil {
		t.Fatal(err)
	}
	for name, m := range map[string]*engine.Module{"basic": basic, "static": static} {
		if image, mapped := engine.MemoryImageForTest(m); !image || !mapped {
			t.Fatalf("%s: the module's data became an image: %v, mapped: %v", name, image, mapped)
		}
	}
	t.Run("env per connection", func(t *testing.T) {
		for round := 0; round < 2; round++ {
			for _, conn := range []string{"x", "y", "z"} {
				res, err := call(t, e, basic, engine.Request{Pool: "env-" + conn, Function: "searchUser", Input: []byte(`{}`),
					Env: map[string]string{"DB_HOST": conn + ".db", "SECRET": "secret-of-" + conn}})
				if err != nil {
					t.Fatal(err)
				}
				for _, other := range []string{"x", "y", "z"} {
					has := strings.Contains(string(res.Output), "secret-of-"+other)
					if has != (other == conn) {
						t.Fatalf("round %d: connection %s answered %s", round, conn, res.Output)
					}
				}
			}
		}
	})
	t.Run("writes stay in their connection", func(t *testing.T) {
		lim := engine.Limits{MaxInstances: 1}
		if _, err := call(t, e, static, engine.Request{Pool: "s1", Function: "createUser", Input: []byte(`{"user":{"email":"erin@example.com","username":"erin","password":"pa55word"}}`), Limits: lim}); err != nil {
			t.Fatal(err)
		}
		for pool, want := range map[string]string{"s1": `"totalCount":5`, "s2": `"totalCount":4`} {
			res, err := call(t, e, static, engine.Request{Pool: pool, Function: "listUsers", Input: []byte(`{"page":1,"limit":10}`), Limits: lim})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(res.Output), want) {
				t.Fatalf("%s: got %s, want %s", pool, res.Output, want)
			}
		}
	})
}
