//go:build !linux

package engine

import "os/exec"

// setWorkerProcAttr: elsewhere than Linux a worker is bounded by the
// parent's timeout only.
func setWorkerProcAttr(cmd *exec.Cmd) {}

// limitWorker: elsewhere than Linux only the Go memory limit (a soft
// one, set by RunCompileWorker) and the parent's timeout bound a worker.
func limitWorker(memoryBytes, cpuSeconds uint64) error { return nil }

func peakRSS() int64 { return 0 }
