package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/sluice-dev/sluice/engine"
)

// compileWorkerCmd is the hidden command in which the engine compiles a
// module in a child process of its own, bounded in time and memory
// (engine.RunCompileWorker).
const compileWorkerCmd = "compile-worker"

// compileWorkerCommand is the engine's Config.CompileWorker: this binary's
// compile-worker command.
func compileWorkerCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, compileWorkerCmd}, nil
}

func compileWorker(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if err := engine.RunCompileWorker(ctx, args, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "sluice %s: %v\n", compileWorkerCmd, err)
		return 1
	}
	return 0
}
