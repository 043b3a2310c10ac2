//go:build !wasip1

package abi

import (
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
)

// Hooks stand in for the host outside wasm. A nil field keeps the default:
// logs go to stderr and host calls answer not_implemented.
type Hooks struct {
	Log      func(level int32, msg []byte)
	HostCall func(op string, req []byte) []byte
}

var hooks atomic.Pointer[Hooks]

// SetHooks installs h (nil restores the defaults) and returns the hooks
// it replaced.
func SetHooks(h *Hooks) *Hooks { return hooks.Swap(h) }

var levelNames = [...]string{"debug", "info", "warn", "error"}

// Log appends one line to the log at level 0 (debug) to 3 (error).
func Log(level int32, msg []byte) {
	if h := hooks.Load(); h != nil && h.Log != nil {
		h.Log(level, msg)
		return
	}
	name := "info"
	if level >= 0 && int(level) < len(levelNames) {
		name = levelNames[level]
	}
	fmt.Fprintf(os.Stderr, "sluice %s: %s\n", name, msg)
}

// HostCall runs host operation op with the JSON request req and returns
// the raw response envelope.
func HostCall(op string, req []byte) []byte {
	if h := hooks.Load(); h != nil && h.HostCall != nil {
		return h.HostCall(op, req)
	}
	msg, _ := json.Marshal("host call " + op + " needs the Sluice host (fake it with sluicetest in tests)")
	return []byte(`{"error":{"code":"not_implemented","message":` + string(msg) + `}}`)
}
