// Command sluice runs tenant connectors: the server (serve), and the tools
// a connector author uses on a laptop (new, build, call, inspect, deploy).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sluice <command> [arguments]

commands:
  new       write a connector module from a template: sluice new DIR --template NAME
  build     build a connector and show what it implements: sluice build [DIR]
  serve     run the server: sluice serve [flags]
  call      run one function of a connector: sluice call FILE.wasm FUNCTION --input JSON|@file|- [flags]
  inspect   show what a connector implements: sluice inspect [--json] FILE.wasm
  deploy    upload a connector to a server: sluice deploy FILE.wasm --server URL --key KEY --connection NAME [--activate]
  version   print the version of sluice and of Go it was built with (also --version)
  help      print this text, or a command's: sluice help COMMAND

Every command's -h or --help prints its usage on stdout and exits 0;
a usage error prints it on stderr and exits 2.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command; it returns the process exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], stdout, stderr)
	case "call":
		return call(ctx, args[1:], stdin, stdout, stderr)
	case "inspect":
		return inspect(ctx, args[1:], stdout, stderr)
	case "new":
		return newModule(ctx, args[1:], stdout, stderr)
	case "build":
		return build(ctx, args[1:], stdout, stderr)
	case "deploy":
		return deploy(ctx, args[1:], stdout, stderr)
	case "version", "-version", "--version":
		return version(args[1:], stdout, stderr)
	case compileWorkerCmd: // hidden: started by the engine itself
		return compileWorker(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "-help", "--help":
		if len(args) == 2 && args[0] == "help" {
			switch args[1] {
			case "serve", "call", "inspect", "version", "new", "build", "deploy":
				return run(ctx, []string{args[1], "-h"}, stdin, stdout, stderr)
			}
			fmt.Fprintf(stderr, "sluice help: unknown command %q\n\n%s", args[1], usage)
			return 2
		}
		if len(args) > 1 {
			fmt.Fprint(stderr, usage)
			return 2
		}
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
	return 2
}

// errHelped is returned by parseFlags once -h or --help printed the
// usage: the command exits 0.
var errHelped = errors.New("help printed")

// parseFlags parses args with fs, following the flag package's split
// between a requested help (flag.ErrHelp) and a usage error: the usage
// asked for with -h or --help goes to stdout (errHelped: exit 0), a usage
// error and the usage after it to stderr (exit 2). fs.Usage must write
// to fs.Output().
func parseFlags(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case err == nil:
		fs.SetOutput(stderr)
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.SetOutput(stdout)
		fs.Usage()
		return errHelped
	}
	fs.SetOutput(stderr)
	fmt.Fprintf(stderr, "sluice %s: %v\n", fs.Name(), err)
	fs.Usage()
	return err
}

// exitOf is the exit code of a parseFlags error.
func exitOf(err error) int {
	if errors.Is(err, errHelped) {
		return 0
	}
	return exitUsage
}
