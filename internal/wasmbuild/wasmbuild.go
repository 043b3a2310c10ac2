package wasmbuild

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
)

// Builder builds guests into CacheDir.
type Builder struct {
	// CacheDir holds built modules; it is created when missing.
	CacheDir string
	// GoCmd is the go command; "go" when empty.
	GoCmd string
}

// Build compiles the main package in pkgDir with GOOS=wasip1 GOARCH=wasm
// -buildmode=c-shared and returns the path of the cached module.
func (b Builder) Build(ctx context.Context, pkgDir string) (string, error) {
	pkgDir, err := filepath.Abs(pkgDir)
	if err != nil {
		return "", err
	}
	modRoot, err := findModuleRoot(pkgDir)
	if err != nil {
		return "", err
	}
	key, err := sourceKey(modRoot, pkgDir)
	if err != nil {
		return "", err
	}
	goCmd := b.GoCmd
	if goCmd == "" {
		goCmd = "go"
	}
	return b.cached(filepath.Base(pkgDir)+"-"+key[:16]+".wasm", func(tmp string) error {
		cmd := exec.CommandContext(ctx, goCmd, "build", "-buildmode=c-shared", "-trimpath", "-o", tmp, ".")
		cmd.Dir = pkgDir
		cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("wasmbuild: go build %s: %w\n%s", pkgDir, err, stderr.String())
		}
		return nil
	})
}

// cached returns the path of the module name in the cache directory,
// building it first with build (which writes a temporary file, renamed
// into place only when it succeeds) when it is not there.
func (b Builder) cached(name string, build func(tmp string) error) (string, error) {
	out := filepath.Join(b.CacheDir, name)
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(b.CacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(b.CacheDir, ".build-*.wasm")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := build(tmp.Name()); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return "", err
	}
	return out, nil
}

// DefaultCacheDir is the per-user cache for built guests.
func DefaultCacheDir() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "sluice", "wasm")
}

// Test builds the guest in pkgDir for a test or benchmark and returns its
// bytes, failing tb when the build fails.
func Test(tb testing.TB, pkgDir string) []byte {
	tb.Helper()
	path := TestPath(tb, pkgDir)
	wasm, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return wasm
}

// TestPath is Test but returns the module's path.
func TestPath(tb testing.TB, pkgDir string) string {
	tb.Helper()
	path, err := Builder{CacheDir: DefaultCacheDir()}.Build(context.Background(), pkgDir)
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

func findModuleRoot(dir string) (string, error) {
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("wasmbuild: no go.mod above %s", dir)
		}
		d = parent
	}
}

// sourceKey hashes every source file of the module at modRoot and of its
// local replace targets, the package path and the Go version.
func sourceKey(modRoot, pkgDir string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", runtime.Version(), pkgDir)
	roots := []string{modRoot}
	replaced, err := localReplaces(modRoot)
	if err != nil {
		return "", err
	}
	roots = append(roots, replaced...)
	for _, root := range roots {
		if err := hashTree(h, root); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func localReplaces(modRoot string) ([]string, error) {
	f, err := os.Open(filepath.Join(modRoot, "go.mod"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, target, ok := strings.Cut(sc.Text(), "=>")
		if !ok {
			continue
		}
		target = strings.TrimSpace(target)
		if strings.HasPrefix(target, "./") || strings.HasPrefix(target, "../") {
			dirs = append(dirs, filepath.Join(modRoot, strings.Fields(target)[0]))
		}
	}
	return dirs, sc.Err()
}

func hashTree(h io.Writer, root string) error {
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".mod", ".sum", ".s":
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(files)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %d\n", path, len(data))
		h.Write(data)
	}
	return nil
}
