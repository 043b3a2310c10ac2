// Command gen writes the tree `sluice new` embeds (../_tree) from the
// repository's sources: the guest SDK (guest-sdk/, without its tests), every
// examples/NAME directory as the template NAME, and the packages of the
// third-party modules a template builds or tests with, copied from the
// module cache with their licence. A go.mod is stored as go.mod.embed: a
// directory holding a go.mod is another module, which go:embed refuses.
//
//	go run ./gen          # from cmd/sluice/internal/scaffold (go generate does it)
//	go run ./gen -check   # exit 1 when the committed tree differs from the sources
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
)

const sdkModule = "github.com/sluice-dev/sluice/guest-sdk"

func main() {
	root := flag.String("root", "../../../..", "the repository's root")
	out := flag.String("out", "_tree", "the tree to write or check")
	check := flag.Bool("check", false, "compare the tree with the sources instead of writing it")
	flag.Parse()
	want, err := build(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	if *check {
		diffs, err := compare(*out, want)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if len(diffs) > 0 {
			fmt.Fprintf(os.Stderr, "gen: %s is not what the sources make (run go generate ./cmd/sluice/internal/scaffold):\n  %s\n", *out, strings.Join(diffs, "\n  "))
			os.Exit(1)
		}
		return
	}
	if err := os.RemoveAll(*out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	for _, name := range sortedKeys(want) {
		p := filepath.Join(*out, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		if err := os.WriteFile(p, want[name], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// build returns the tree's files by slash-separated path.
func build(root string) (map[string][]byte, error) {
	files := map[string][]byte{}
	// The SDK, without its tests: the connector's own tests use sluicetest.
	err := copyTree(files, filepath.Join(root, "guest-sdk"), "sdk", func(rel string, d fs.DirEntry) bool {
		return !strings.HasSuffix(rel, "_test.go")
	})
	if err != nil {
		return nil, err
	}
	examples, err := os.ReadDir(filepath.Join(root, "examples"))
	if err != nil {
		return nil, err
	}
	for _, e := range examples {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, "examples", e.Name())
		err := copyTree(files, dir, "templates/"+e.Name(), func(rel string, d fs.DirEntry) bool {
			// Built modules and go.sum are the author's, not the template's
			// (sluice new points every dependency at a local copy).
			return !strings.HasSuffix(rel, ".wasm") && rel != "go.sum"
		})
		if err != nil {
			return nil, err
		}
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if err := copyDeps(files, dir); err != nil {
				return nil, fmt.Errorf("examples/%s: %w", e.Name(), err)
			}
		}
	}
	return files, nil
}

// copyTree adds the files under src for which keep is true at dst,
// skipping dot files, testdata directories and go.work files, and storing
// go.mod as go.mod.embed.
func copyTree(files map[string][]byte, src, dst string, keep func(rel string, d fs.DirEntry) bool) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || d.IsDir() && d.Name() == "testdata" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || d.Name() == "go.work" || !keep(rel, d) {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if d.Name() == "go.mod" {
			rel += ".embed"
		}
		files[dst+"/"+rel] = b
		return nil
	})
}

// copyDeps adds, under deps/MODULE@VERSION, the packages of every
// third-party module the module in dir builds (as wasip1/wasm) or tests
// (on the host) with, each module's licence files, and a go.mod naming
// the module and its Go version only: the copied packages are all a
// connector needs, so their own requirements are not.
func copyDeps(files map[string][]byte, dir string) error {
	type pkg struct{ module, version, modDir, goVersion, dir string }
	seen := map[string]pkg{}
	const format = `{{with .Module}}{{if and (not .Main) (not .Replace)}}{{.Path}}|{{.Version}}|{{.Dir}}|{{.GoVersion}}|{{end}}{{end}}{{.Dir}}`
	for _, run := range []struct{ env, args []string }{
		{[]string{"GOOS=wasip1", "GOARCH=wasm"}, []string{"list", "-deps", "-f", format, "./..."}},
		{nil, []string{"list", "-deps", "-test", "-f", format, "./..."}},
	} {
		env := run.env
		cmd := exec.Command("go", run.args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), append(env, "CGO_ENABLED=0", "GOWORK=off")...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("go list: %w\n%s", err, stderr.String())
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Split(line, "|")
			if len(f) != 5 || f[0] == sdkModule {
				continue
			}
			seen[f[4]] = pkg{f[0], f[1], f[2], f[3], f[4]}
		}
	}
	mods := map[string]pkg{}
	for _, p := range seen {
		if p.version == "" || p.modDir == "" {
			return fmt.Errorf("module %s has no version or directory (a local replace other than the SDK's?)", p.module)
		}
		base := "deps/" + p.module + "@" + p.version
		rel, err := filepath.Rel(p.modDir, p.dir)
		if err != nil {
			return err
		}
		entries, err := os.ReadDir(p.dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasSuffix(e.Name(), "_test.go") || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			b, err := os.ReadFile(filepath.Join(p.dir, e.Name()))
			if err != nil {
				return err
			}
			files[path.Join(base, filepath.ToSlash(rel), e.Name())] = b
		}
		mods[p.module] = p
	}
	for _, p := range mods {
		base := "deps/" + p.module + "@" + p.version
		entries, err := os.ReadDir(p.modDir)
		if err != nil {
			return err
		}
		licensed := false
		for _, e := range entries {
			n := strings.ToUpper(e.Name())
			if e.Type().IsRegular() && (strings.HasPrefix(n, "LICENSE") || strings.HasPrefix(n, "LICENCE") || n == "PATENTS" || strings.HasPrefix(n, "COPYING")) {
				b, err := os.ReadFile(filepath.Join(p.modDir, e.Name()))
				if err != nil {
					return err
				}
				files[base+"/"+e.Name()] = b
				licensed = true
			}
		}
		if !licensed {
			return fmt.Errorf("module %s has no licence file to copy with it", p.module)
		}
		mf := new(modfile.File)
		mf.AddModuleStmt(p.module)
		if p.goVersion != "" {
			mf.AddGoStmt(p.goVersion)
		}
		b, err := mf.Format()
		if err != nil {
			return err
		}
		files[base+"/go.mod.embed"] = b
	}
	return nil
}

// compare lists how the tree at dir differs from want.
func compare(dir string, want map[string][]byte) ([]string, error) {
	got := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		got[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	var diffs []string
	for _, name := range sortedKeys(want) {
		switch b, ok := got[name]; {
		case !ok:
			diffs = append(diffs, "missing "+name)
		case !bytes.Equal(b, want[name]):
			diffs = append(diffs, "differs "+name)
		}
	}
	for _, name := range sortedKeys(got) {
		if _, ok := want[name]; !ok {
			diffs = append(diffs, "extra   "+name)
		}
	}
	return diffs, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
