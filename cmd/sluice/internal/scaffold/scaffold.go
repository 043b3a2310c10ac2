package scaffold

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
)

//go:embed all:_tree
var tree embed.FS

const sdkModule = "github.com/sluice-dev/sluice/guest-sdk"

// SDKDir is where a new module keeps its copy of the guest SDK, relative
// to the module's root; third-party packages are under .sluice/deps.
const SDKDir = ".sluice/guest-sdk"

// ErrNotEmpty is returned by Write for a directory that holds files.
var ErrNotEmpty = errors.New("the directory exists and is not empty")

// ErrModulePath is returned by Write for a module path Go refuses.
var ErrModulePath = errors.New("not a module path")

// ErrUnknownTemplate is returned by Write for a template it does not have.
var ErrUnknownTemplate = errors.New("unknown template")

// Templates lists the template names, sorted: one per examples/NAME
// directory the binary was built with.
func Templates() []string {
	entries, err := fs.ReadDir(tree, "_tree/templates")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names
}

// IsGo reports whether the template is a Go module.
func IsGo(template string) bool {
	_, err := fs.Stat(tree, "_tree/templates/"+template+"/go.mod.embed")
	return err == nil
}

// Options says what Write makes.
type Options struct {
	// Template is one of Templates().
	Template string
	// Module is the new module's path (a Go template only), e.g.
	// example.com/acme/connector.
	Module string
	// README is the new module's README.md; the template's own README is
	// written as TEMPLATE.md.
	README []byte
}

// Write makes the module in dir, which must not exist or be empty, and
// returns the files it wrote, relative to dir, sorted.
func Write(dir string, opt Options) ([]string, error) {
	src := "_tree/templates/" + opt.Template
	if fi, err := fs.Stat(tree, src); opt.Template == "" || err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("%w %q (one of %s)", ErrUnknownTemplate, opt.Template, strings.Join(Templates(), ", "))
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("%s: %w", dir, ErrNotEmpty)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	files := map[string][]byte{}
	var goMod []byte
	err := fs.WalkDir(tree, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := tree.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, src+"/")
		switch rel {
		case "go.mod.embed":
			goMod = b
			return nil
		case "README.md":
			rel = "TEMPLATE.md"
			b = append([]byte(fmt.Sprintf("<!-- The README of examples/%s in the Sluice repository, the template of this module: its paths\n"+
				"(examples/%s, ../../guest-sdk) are the repository's. This module's own commands are in README.md. -->\n\n", opt.Template, opt.Template)), b...)
		}
		files[rel] = b
		return nil
	})
	if err != nil {
		return nil, err
	}
	if goMod != nil {
		mod, deps, err := rewriteGoMod(goMod, opt.Module)
		if err != nil {
			return nil, err
		}
		files["go.mod"] = mod
		if err := addTree(files, "_tree/sdk", SDKDir); err != nil {
			return nil, err
		}
		for _, d := range deps {
			if err := addTree(files, "_tree/deps/"+d, ".sluice/deps/"+d); err != nil {
				return nil, err
			}
		}
	}
	if opt.README != nil {
		files["README.md"] = opt.README
	}
	files[".gitignore"] = []byte("*.wasm\n")
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, files[name], 0o644); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// addTree adds the embedded files under src at dst, go.mod.embed as go.mod.
func addTree(files map[string][]byte, src, dst string) error {
	return fs.WalkDir(tree, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := tree.ReadFile(p)
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(p, src+"/")
		if path.Base(rel) == "go.mod.embed" {
			rel = strings.TrimSuffix(rel, ".embed")
		}
		files[dst+"/"+rel] = b
		return nil
	})
}

// rewriteGoMod gives a template's go.mod the module path modPath and
// points the SDK and every third-party requirement at its copy under
// .sluice; a requirement the binary has no copy of provides no package
// the template uses (the generator copies all those) and is dropped, so
// the go command never needs to download it. It returns the go.mod and
// the MODULE@VERSION copies it names.
func rewriteGoMod(b []byte, modPath string) ([]byte, []string, error) {
	if err := module.CheckImportPath(modPath); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrModulePath, err)
	}
	f, err := modfile.Parse("go.mod", b, nil)
	if err != nil {
		return nil, nil, err
	}
	if err := f.AddModuleStmt(modPath); err != nil {
		return nil, nil, err
	}
	for _, r := range f.Replace {
		if err := f.DropReplace(r.Old.Path, r.Old.Version); err != nil {
			return nil, nil, err
		}
	}
	var deps []string
	for _, r := range f.Require {
		p, v := r.Mod.Path, r.Mod.Version
		switch {
		case p == sdkModule:
			err = f.AddReplace(p, "", "./"+SDKDir, "")
		case exists("_tree/deps/" + p + "@" + v):
			deps = append(deps, p+"@"+v)
			err = f.AddReplace(p, "", "./.sluice/deps/"+p+"@"+v, "")
		default:
			err = f.DropRequire(p)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	f.Cleanup()
	out, err := f.Format()
	return out, deps, err
}

func exists(p string) bool {
	_, err := fs.Stat(tree, p)
	return err == nil
}
