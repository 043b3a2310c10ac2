package wasmbuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
)

// ErrNoClang is returned by BuildC when clang is not installed.
var ErrNoClang = errors.New("wasmbuild: clang is not installed (Debian packages clang, lld, wasi-libc, libclang-rt-14-dev-wasm32: run scripts/tools.sh)")

// BuildC builds the C connector in dir by running its build.sh with the
// output path as its argument (so the build line is the one the directory
// documents), and returns the path of the cached module. The cache key
// hashes build.sh, every .c and .h file of dir, and clang's version.
func (b Builder) BuildC(ctx context.Context, dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	clang, err := exec.LookPath("clang")
	if err != nil {
		return "", ErrNoClang
	}
	version, err := exec.CommandContext(ctx, clang, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("wasmbuild: clang --version: %w", err)
	}
	key, err := cSourceKey(dir, version)
	if err != nil {
		return "", err
	}
	return b.cached("c-"+filepath.Base(dir)+"-"+key[:16]+".wasm", func(tmp string) error {
		cmd := exec.CommandContext(ctx, "sh", filepath.Join(dir, "build.sh"), tmp)
		cmd.Dir = dir
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stderr, &stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("wasmbuild: %s/build.sh: %w\n%s", dir, err, stderr.String())
		}
		return nil
	})
}

func cSourceKey(dir string, clangVersion []byte) (string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.[ch]"))
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(dir, "build.sh"))
	sort.Strings(files)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s\n", clangVersion, dir)
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(path), len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
