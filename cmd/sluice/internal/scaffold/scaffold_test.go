package scaffold

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTreeIsGenerated: the embedded tree is what ./gen makes from the
// repository's guest-sdk/ and examples/ today, so `sluice new` writes
// the SDK and templates of this commit.
func TestTreeIsGenerated(t *testing.T) {
	out, err := exec.Command("go", "run", "./gen", "-check").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
}

// TestWrite: a Go template gets its module path, the SDK copy and the
// copies of its third-party packages with their licence, each named by a
// replace; a C template is written as it is.
func TestWrite(t *testing.T) {
	tests := []struct {
		template string
		files    []string // files Write must write
		gomod    []string // substrings of go.mod ("" : no go.mod)
	}{
		{"static", []string{"main.go", "static_test.go", "TEMPLATE.md", ".gitignore", SDKDir + "/go.mod", SDKDir + "/sluicetest/sluicetest.go",
			".sluice/deps/golang.org/x/crypto@v0.59.0/bcrypt/bcrypt.go", ".sluice/deps/golang.org/x/crypto@v0.59.0/LICENSE", ".sluice/deps/golang.org/x/crypto@v0.59.0/go.mod"},
			[]string{"module example.com/acme\n", "github.com/sluice-dev/sluice/guest-sdk => ./.sluice/guest-sdk", "golang.org/x/crypto => ./.sluice/deps/golang.org/x/crypto@v0.59.0"}},
		{"postgres", []string{"schema.sql", "store.go", SDKDir + "/password/password.go"}, []string{"module example.com/acme\n", "=> ./.sluice/guest-sdk"}},
		{"c", []string{"main.c", "build.sh", "TEMPLATE.md"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			dir := t.TempDir()
			files, err := Write(dir, Options{Template: tt.template, Module: "example.com/acme", README: []byte("# acme\n")})
			if err != nil {
				t.Fatal(err)
			}
			have := map[string]bool{}
			for _, f := range files {
				have[f] = true
			}
			for _, f := range append(tt.files, "README.md") {
				if !have[f] {
					t.Errorf("%s not written (wrote %d files)", f, len(files))
				}
			}
			for _, f := range files {
				if strings.HasSuffix(f, "_test.go") && strings.HasPrefix(f, ".sluice/") || strings.HasSuffix(f, ".embed") {
					t.Errorf("wrote %s", f)
				}
			}
			gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
			if tt.gomod == nil {
				if err == nil {
					t.Errorf("a go.mod for %s", tt.template)
				}
				return
			}
			for _, want := range tt.gomod {
				if !strings.Contains(string(gomod), want) {
					t.Errorf("go.mod lacks %q:\n%s", want, gomod)
				}
			}
			if strings.Contains(string(gomod), "../../guest-sdk") {
				t.Errorf("go.mod keeps the repository's replace:\n%s", gomod)
			}
		})
	}
	for _, bad := range []struct {
		dir  string
		opt  Options
		want error
	}{
		{t.TempDir(), Options{Template: "cobol", Module: "m"}, ErrUnknownTemplate},
		{t.TempDir(), Options{Template: "static", Module: "a b"}, ErrModulePath},
	} {
		if _, err := Write(bad.dir, bad.opt); !errors.Is(err, bad.want) {
			t.Errorf("Write(%+v) = %v, want %v", bad.opt, err, bad.want)
		}
	}
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	if _, err := Write(full, Options{Template: "static", Module: "m"}); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("into a full directory: %v", err)
	}
}
