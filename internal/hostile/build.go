package hostile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

const modulePath = "github.com/sluice-dev/sluice"

var (
	rootOnce sync.Once
	root     string
	rootErr  error
)

// Root returns the repository's root: the directory above the working
// directory whose go.mod is the root module's.
func Root(tb testing.TB) string {
	tb.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			rootErr = err
			return
		}
		for {
			if f, err := os.Open(filepath.Join(dir, "go.mod")); err == nil {
				sc := bufio.NewScanner(f)
				sc.Scan()
				f.Close()
				if sc.Text() == "module "+modulePath {
					root = dir
					return
				}
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				rootErr = fmt.Errorf("hostile: no go.mod of %s above the working directory", modulePath)
				return
			}
			dir = parent
		}
	})
	if rootErr != nil {
		tb.Fatal(rootErr)
	}
	return root
}

// CacheDir is where built and generated modules are kept: .cache/hostile
// of the repository (never committed).
func CacheDir(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(Root(tb), ".cache", "hostile")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// Wasm returns the case's module bytes.
func Wasm(tb testing.TB, c Case) []byte {
	tb.Helper()
	b, err := os.ReadFile(WasmPath(tb, c))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

var buildMu sync.Mutex

// WasmPath builds (or finds in the cache) the case's module and returns its
// path.
func WasmPath(tb testing.TB, c Case) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	r := Root(tb)
	switch {
	case c.WAT != "":
		return buildWAT(tb, filepath.Join(r, "engine", "testdata", "hostile", c.WAT+".wat"))
	case c.Go != "":
		return wasmbuild.TestPath(tb, filepath.Join(r, "engine", "testdata", "hostile", "go", c.Go))
	case c.Example != "":
		return wasmbuild.TestPath(tb, filepath.Join(r, "examples", c.Example))
	case c.Gen != nil:
		return cached(tb, "gen-"+c.Name, c.Gen)
	}
	tb.Fatalf("hostile: case %s has no source", c.Name)
	return ""
}

// buildWAT compiles a WAT file with wabt's wat2wasm into the cache.
func buildWAT(tb testing.TB, src string) string {
	tb.Helper()
	text, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatalf("hostile: wat2wasm (Debian package wabt) is not installed: run scripts/tools.sh, as make test does")
	}
	sum := sha256.Sum256(text)
	name := filepath.Base(src)
	out := filepath.Join(CacheDir(tb), name[:len(name)-len(".wat")]+"-"+hex.EncodeToString(sum[:8])+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	cmd := exec.Command(tool, src, "-o", tmp) // bulk memory and reference types are on by default
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		tb.Fatalf("hostile: wat2wasm %s: %v\n%s", src, err, stderr.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		tb.Fatal(err)
	}
	return out
}

// cached writes a generated module into the cache once.
func cached(tb testing.TB, name string, gen func() []byte) string {
	tb.Helper()
	b := generated(name, gen)
	sum := sha256.Sum256(b)
	out := filepath.Join(CacheDir(tb), name+"-"+hex.EncodeToString(sum[:8])+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		tb.Fatal(err)
	}
	if err := os.Rename(tmp, out); err != nil {
		tb.Fatal(err)
	}
	return out
}

var genCache sync.Map // name -> []byte

func generated(name string, gen func() []byte) []byte {
	if b, ok := genCache.Load(name); ok {
		return b.([]byte)
	}
	b := gen()
	genCache.Store(name, b)
	return b
}
