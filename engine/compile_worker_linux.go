package engine

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// setWorkerProcAttr makes the kernel kill a compile worker whose parent
// died, so no worker outlives its engine's process.
func setWorkerProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// limitWorker limits the calling process: its address space to what it
// maps now plus memoryBytes, its CPU time to cpuSeconds (0: no limit;
// the kernel kills it there), and no core dumps.
func limitWorker(memoryBytes, cpuSeconds uint64) error {
	base, err := mappedBytes()
	if err != nil {
		return err
	}
	as := base + memoryBytes
	if err := unix.Setrlimit(unix.RLIMIT_AS, &unix.Rlimit{Cur: as, Max: as}); err != nil {
		return fmt.Errorf("RLIMIT_AS: %w", err)
	}
	if cpuSeconds > 0 {
		if err := unix.Setrlimit(unix.RLIMIT_CPU, &unix.Rlimit{Cur: cpuSeconds, Max: cpuSeconds}); err != nil {
			return fmt.Errorf("RLIMIT_CPU: %w", err)
		}
	}
	return unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}

// mappedBytes is the process's address space in use (VmSize).
func mappedBytes() (uint64, error) {
	kb, err := statusKB("VmSize:")
	return kb << 10, err
}

// peakRSS is the process's peak resident memory in bytes (VmHWM), or 0.
// (The rusage of a child is no measure: Linux counts in it the parent's
// RSS at the time of the fork.)
func peakRSS() int64 {
	kb, err := statusKB("VmHWM:")
	if err != nil {
		return 0
	}
	return int64(kb << 10)
}

// statusKB reads a "Name: N kB" line of /proc/self/status.
func statusKB(name string) (uint64, error) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(name)); ok {
			f := bytes.Fields(rest)
			if len(f) == 2 && string(f[1]) == "kB" {
				if kb, err := strconv.ParseUint(string(f[0]), 10, 64); err == nil {
					return kb, nil
				}
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/self/status", name)
}
