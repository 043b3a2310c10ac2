package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sluice-dev/sluice/engine"
)

// A builder turns a connector's source directory into a module. build
// tries each of builders in turn; a new language is one more builder
// whose detect recognises its sources (a C connector: its *.c files).
type builder interface {
	// lang names the language in messages.
	lang() string
	// detect reports whether dir holds this builder's sources.
	detect(dir string) bool
	// build writes the module to out; the tool's output goes to log.
	build(ctx context.Context, dir, out string, log io.Writer) error
}

var builders = []builder{goBuilder{}, cBuilder{}}

// goBuilder builds a Go main package as a WASI reactor, as `make
// examples` and the tests' internal/wasmbuild do.
type goBuilder struct{}

func (goBuilder) lang() string { return "Go (a go.mod)" }

func (goBuilder) detect(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

func (goBuilder) build(ctx context.Context, dir, out string, log io.Writer) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH: install Go (https://go.dev/dl) and try again")
	}
	args := []string{"build", "-buildmode=c-shared", "-trimpath", "-o", out, "."}
	fmt.Fprintf(log, "sluice build: GOOS=wasip1 GOARCH=wasm go %s (in %s)\n", strings.Join(args, " "), dir)
	cmd := exec.CommandContext(ctx, goCmd, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build: %w", err)
	}
	return nil
}

// cBuilder builds a C connector with its build.sh (examples/c's
// convention: `build.sh OUT` runs clang for wasm32-wasi as a reactor).
type cBuilder struct{}

func (cBuilder) lang() string { return "C (a build.sh and *.c files)" }

func (cBuilder) detect(dir string) bool {
	c, _ := filepath.Glob(filepath.Join(dir, "*.c"))
	_, err := os.Stat(filepath.Join(dir, "build.sh"))
	return err == nil && len(c) > 0
}

func (cBuilder) build(ctx context.Context, dir, out string, log io.Writer) error {
	if _, err := exec.LookPath("clang"); err != nil {
		return errors.New("clang is not on PATH: apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian, Ubuntu)")
	}
	fmt.Fprintf(log, "sluice build: sh build.sh %s (in %s)\n", out, dir)
	cmd := exec.CommandContext(ctx, "sh", "build.sh", out)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build.sh: %w", err)
	}
	return nil
}

func build(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: sluice build [DIR] [-o FILE.wasm]\n\n"+
			"builds the connector in DIR (default: the current directory) into DIR/NAME.wasm, NAME being\n"+
			"DIR's name, then prints its functions and the modes it satisfies, as sluice inspect does.\n"+
			"Go (a go.mod): GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath.\n"+
			"C (build.sh and *.c files): sh build.sh OUT (clang for wasm32-wasi, a reactor).\n\n")
		fs.PrintDefaults()
	}
	outFlag := fs.String("o", "", "the module to write (default: DIR/NAME.wasm)")
	positional, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return exitOf(err)
	}
	if len(positional) > 1 {
		fmt.Fprintln(stderr, "sluice build: want at most one DIR")
		fs.Usage()
		return exitUsage
	}
	dir := "."
	if len(positional) == 1 {
		dir = positional[0]
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintf(stderr, "sluice build: %v\n", err)
		return exitFailure
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		fmt.Fprintf(stderr, "sluice build: %s is not a directory\n", dir)
		return exitUsage
	}
	var b builder
	for _, c := range builders {
		if c.detect(abs) {
			b = c
			break
		}
	}
	if b == nil {
		var langs []string
		for _, c := range builders {
			langs = append(langs, c.lang())
		}
		fmt.Fprintf(stderr, "sluice build: %s holds no connector sources sluice can build (%s); sluice new DIR --template ... makes one\n", dir, strings.Join(langs, ", "))
		return exitFailure
	}
	out := *outFlag
	if out == "" {
		out = filepath.Join(dir, filepath.Base(abs)+".wasm")
	}
	outAbs, err := filepath.Abs(out)
	if err != nil {
		fmt.Fprintf(stderr, "sluice build: -o: %v\n", err)
		return exitUsage
	}
	if err := b.build(ctx, abs, outAbs, stderr); err != nil {
		fmt.Fprintf(stderr, "sluice build: %v\n", err)
		return exitFailure
	}
	eng, m, _, code := loadModule(ctx, outAbs, 0, stderr)
	if eng == nil {
		if code == exitUsage {
			code = exitFailure // the build made a module sluice refuses
		}
		return code
	}
	defer eng.Close(context.Background())
	info := m.Info()
	fmt.Fprintf(stdout, "built %s\n", out)
	printModuleInfo(stdout, info)

	fn := "login"
	if !info.Implements("login") && len(info.Functions) > 0 {
		fn = info.Functions[0]
	}
	tmpl, _ := os.ReadFile(filepath.Join(abs, filepath.FromSlash(templateFile)))
	h := hintFor(string(bytes.TrimSpace(tmpl)))
	input := h.Login
	if fn != "login" {
		input = "{}"
	}
	call := "sluice call " + shellQuote(out) + " " + fn
	if h.Call != "" {
		call += " " + h.Call
	}
	fmt.Fprintf(stdout, "\nnext: run it locally, then deploy it to a connection of a Sluice server:\n  %s --input '%s'\n  sluice deploy %s --server URL --key KEY --connection NAME --activate\n",
		call, input, shellQuote(out))
	if len(info.MissingFor(engine.ModeLazyMigration)) > 0 {
		fmt.Fprintf(stdout, "(a connection can use it once it implements %s for LAZY_MIGRATION, or all eight functions for CUSTOM_USER_STORE)\n",
			strings.Join(info.MissingFor(engine.ModeLazyMigration), " and "))
	}
	return exitOK
}
