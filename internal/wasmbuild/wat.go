package wasmbuild

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// WAT assembles a module's text format with wabt's wat2wasm (flags
// passed on, e.g. --no-check) for a test or benchmark, failing tb when
// the tool is missing or refuses the text.
func WAT(tb testing.TB, src string, flags ...string) []byte {
	tb.Helper()
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		tb.Fatal("wat2wasm (Debian package wabt) is not installed: run scripts/tools.sh")
	}
	dir := tb.TempDir()
	in, out := filepath.Join(dir, "m.wat"), filepath.Join(dir, "m.wasm")
	if err := os.WriteFile(in, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.Command(tool, append(flags, in, "-o", out)...).CombinedOutput(); err != nil {
		tb.Fatalf("wat2wasm: %v\n%s", err, b)
	}
	wasm, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	return wasm
}
