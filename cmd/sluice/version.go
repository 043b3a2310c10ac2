package main

import (
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version prints the version of the binary: its main module's version
// when built from a tagged module (go install ...@v1.2.3), else "devel"
// with the VCS revision and time go build stamped, and the Go version.
func version(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.Usage = func() { fmt.Fprintln(fs.Output(), "usage: sluice version (or sluice --version)") }
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return exitOf(err)
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitUsage
	}
	info, ok := debug.ReadBuildInfo()
	fmt.Fprintln(stdout, versionString(info, ok))
	return exitOK
}

// versionString is the one line version prints for info.
func versionString(info *debug.BuildInfo, ok bool) string {
	if !ok || info == nil {
		return "sluice devel (no build information)"
	}
	v := info.Main.Version
	if v == "" || v == "(devel)" {
		v = "devel"
		var rev, when, modified string
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "modified"
				}
			}
		}
		var parts []string
		for _, p := range []string{rev, when, modified} {
			if p != "" {
				parts = append(parts, p)
			}
		}
		if len(parts) > 0 {
			v += " (" + strings.Join(parts, ", ") + ")"
		}
	}
	return "sluice " + v + " " + info.GoVersion
}
