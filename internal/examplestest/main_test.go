package examplestest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The package shares one engine (compiled code cached on disk across runs)
// and one host-function manager for loopback servers.
var (
	eng     *engine.Engine
	manager *hostfuncs.Manager
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	eng, err = engine.New(context.Background(), engine.Config{
		CacheDir: filepath.Join(os.TempDir(), "sluice-examplestest-wazero"),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer eng.Close(context.Background())
	manager = hostfuncs.New(hostfuncs.Config{})
	defer manager.Close()
	return m.Run()
}

type loaded struct {
	once sync.Once
	mod  *engine.Module
	err  error
}

var (
	modulesMu sync.Mutex
	modules   = map[string]*loaded{}
)

// module builds examples/name (cached by wasmbuild) and loads it, once
// per test binary.
func module(t *testing.T, name string) *engine.Module {
	t.Helper()
	modulesMu.Lock()
	l, ok := modules[name]
	if !ok {
		l = &loaded{}
		modules[name] = l
	}
	modulesMu.Unlock()
	l.once.Do(func() {
		b := wasmbuild.Builder{CacheDir: wasmbuild.DefaultCacheDir()}
		dir := filepath.Join("..", "..", "examples", name)
		build := b.Build
		if _, err := os.Stat(filepath.Join(dir, "build.sh")); err == nil {
			build = b.BuildC // a C connector (examples/c)
		}
		path, err := build(context.Background(), dir)
		if err != nil {
			l.err = err
			return
		}
		wasm, err := os.ReadFile(path)
		if err != nil {
			l.err = err
			return
		}
		l.mod, l.err = eng.Load(context.Background(), wasm)
	})
	if l.err != nil {
		t.Fatalf("examples/%s: %v", name, l.err)
	}
	return l.mod
}

func env(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

var seq struct {
	sync.Mutex
	n int
}

// uniqueName returns a name no other test (or test process) uses.
func uniqueName(prefix string) string {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return fmt.Sprintf("%s_%d_%d", prefix, os.Getpid(), seq.n)
}

// seedHashes are the seed users' bcrypt hashes (cost 10), made once.
var seedHashes = sync.OnceValue(func() map[string]string {
	hashes := map[string]string{}
	for _, u := range seedUsers {
		if u.password == "" {
			continue
		}
		h, err := bcrypt.GenerateFromPassword([]byte(u.password), 10)
		if err != nil {
			panic(err)
		}
		hashes[u.key] = string(h)
	}
	return hashes
})

// loopback grants a test tenant the test services on loopback, which
// stay closed to every tenant whose private-network grant does not name
// them.
func loopback(c hostfuncs.Connection) hostfuncs.Connection {
	c.AllowPrivateNetworks = true
	c.PrivateNetworks = []string{"127.0.0.1/32", "::1"}
	return c
}
