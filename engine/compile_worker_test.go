package engine_test

import (
	"context"
	"fmt"
	"os"

	"github.com/sluice-dev/sluice/engine"
)

// workerArg makes this test binary a compile worker: tests configure
// engine.Config.CompileWorker as {os.Args[0], workerArg}.
const workerArg = "sluice-test-compile-worker"

func init() {
	if len(os.Args) > 1 && os.Args[1] == workerArg {
		if err := engine.RunCompileWorker(context.Background(), os.Args[2:], os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func testWorker() []string { return []string{os.Args[0], workerArg} }
