// Command sluice runs tenant connectors: the server (serve), and the tools
// a connector author uses on a laptop (call, inspect).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `usage: sluice <command> [arguments]

commands:
  serve     run the server (sluice serve -h)
  call      run one function of a connector: sluice call FILE.wasm FUNCTION --input JSON|@file
  inspect   show what a connector implements: sluice inspect FILE.wasm
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
	case compileWorkerCmd: // hidden: started by the engine itself
		return compileWorker(ctx, args[1:], stdin, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n%s", args[0], usage)
	return 2
}
