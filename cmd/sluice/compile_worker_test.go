package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The engine starts this test binary as its compile worker (os.Executable
// + "compile-worker"), as it starts the sluice binary in production.
func init() {
	if len(os.Args) > 1 && os.Args[1] == compileWorkerCmd {
		os.Exit(compileWorker(context.Background(), os.Args[2:], os.Stdin, os.Stdout, os.Stderr))
	}
}

func TestCompileWorkerCommand(t *testing.T) {
	tests := []struct {
		name, wasm, want string
	}{
		{"empty module", "\x00asm\x01\x00\x00\x00", "sluice-compile-worker 1\nok\n"},
		{"bad module", "\x00asm\x01\x00\x00\x00\x01\x05", "sluice-compile-worker 1\ninvalid "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], compileWorkerCmd, "-cache-dir", t.TempDir(), "-memory-limit-pages", "16384", "-memory-bytes", "1073741824", "-cpu-seconds", "30")
			cmd.Stdin = strings.NewReader(tt.wasm)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || !strings.HasPrefix(string(out), tt.want) {
				t.Fatalf("%v: %q, want %q\n%s", err, out, tt.want, stderr.String())
			}
		})
	}
}

func TestModuleLimitsFromFlagsAndEnvironment(t *testing.T) {
	for _, args := range [][]string{{"--module-limits", "maxNestingDepth=9,maxBogus=1"}, {"--module-limits", "maxTypes=0"}, {"--compile-memory", "lots"}} {
		code, _, stderr := runCLI(t, "", append([]string{"serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()}, args...)...)
		if code != 2 || !strings.Contains(stderr, "sluice serve: --") {
			t.Errorf("%v: exit %d: %s", args, code, stderr)
		}
	}
	t.Setenv("SLUICE_MODULE_LIMITS", "maxBogus=1")
	if code, _, stderr := runCLI(t, "", "serve", "--addr", "127.0.0.1:0", "--data-dir", t.TempDir()); code != 2 || !strings.Contains(stderr, `unknown module limit "maxBogus" (known: maxTypes,`) {
		t.Errorf("SLUICE_MODULE_LIMITS: exit %d: %s", code, stderr)
	}

	// sluice inspect applies the same limits as the server.
	wasm := wasmbuild.TestPath(t, "../../examples/static")
	t.Setenv("SLUICE_MODULE_LIMITS", "maxNestingDepth=100")
	code, _, stderr := runCLI(t, "", "inspect", wasm)
	if code != exitUsage || !strings.Contains(stderr, "deep, over the limit of 100 (maxNestingDepth)") {
		t.Errorf("inspect: exit %d: %s", code, stderr)
	}
	t.Setenv("SLUICE_MODULE_LIMITS", "")
	if code, stdout, stderr := runCLI(t, "", "inspect", wasm); code != exitOK {
		t.Errorf("inspect with the defaults: exit %d: %s %s", code, stdout, stderr)
	}
}
