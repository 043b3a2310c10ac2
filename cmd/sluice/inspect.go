package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/sluice-dev/sluice/engine"
)

func inspect(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: sluice inspect [--json] FILE.wasm|FILE.js\n\nprints the module's (or script's) sha256, ABI version, functions, imports and the modes it satisfies; for a script also its dialect and the modules it requires.\n\n")
		fs.PrintDefaults()
	}
	asJSON := fs.Bool("json", false, "print JSON")
	positional, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return exitOf(err)
	}
	if len(positional) != 1 {
		fs.Usage()
		return exitUsage
	}
	eng, m, sc, code := loadModule(ctx, positional[0], 0, stderr)
	if eng == nil {
		return code
	}
	defer eng.Close(context.Background())
	info := m.Info()
	if sc != nil {
		info = &sc.Info
	}
	modes := map[engine.Mode][]string{}
	for _, mode := range []engine.Mode{engine.ModeLazyMigration, engine.ModeCustomUserStore} {
		modes[mode] = info.MissingFor(mode)
	}
	if *asJSON {
		out := map[string]any{
			"sha256": info.SHA256, "size": info.Size, "abiVersion": info.ABIVersion,
			"functions": info.Functions, "imports": info.Imports, "missingForMode": modes,
		}
		if sc != nil {
			out["script"] = map[string]any{"dialect": sc.Inspection.Dialect, "requires": sc.Inspection.Requires, "defined": sc.Inspection.Defined}
		}
		writeJSON(stdout, out)
		return exitOK
	}
	printModuleInfo(stdout, info)
	if sc != nil { // a script: the module line is the script's hash and size
		fmt.Fprintf(stdout, "dialect    %s\n", sc.Inspection.Dialect)
		fmt.Fprintf(stdout, "requires   %s\n", strings.Join(sc.Inspection.Requires, ", "))
	}
	return exitOK
}

// printModuleInfo writes what inspect and build show of a module: its
// hash, size, ABI version, functions, imports and the modes it satisfies.
func printModuleInfo(w io.Writer, info *engine.ModuleInfo) {
	fmt.Fprintf(w, "module     %s (%d bytes)\n", info.SHA256, info.Size)
	fmt.Fprintf(w, "ABI        version %d\n", info.ABIVersion)
	fmt.Fprintf(w, "functions  %s\n", strings.Join(info.Functions, ", "))
	fmt.Fprintf(w, "imports    %s\n", strings.Join(info.Imports, ", "))
	for _, mode := range []engine.Mode{engine.ModeLazyMigration, engine.ModeCustomUserStore} {
		if missing := info.MissingFor(mode); len(missing) == 0 {
			fmt.Fprintf(w, "%-18s satisfied\n", mode)
		} else {
			fmt.Fprintf(w, "%-18s missing %s\n", mode, strings.Join(missing, ", "))
		}
	}
}
