package engine

import (
	"context"
	"encoding/json"
	"time"
)

// ABIVersion is the guest ABI version this engine speaks.
const ABIVersion = 1

// Functions are the eight connector functions, in the contract's order.
var functions = [...]string{
	"login", "getUser", "searchUser", "createUser",
	"updateUser", "deleteUser", "listUsers", "validatePassword",
}

// Functions returns the names of the eight connector functions.
func Functions() []string { return append([]string(nil), functions[:]...) }

// IsFunction reports whether name is one of the eight connector functions.
func IsFunction(name string) bool {
	for _, f := range functions {
		if f == name {
			return true
		}
	}
	return false
}

// Mode is a connection's mode; it decides which functions are required.
type Mode string

// The two modes of docs/contract.md.
const (
	ModeLazyMigration   Mode = "LAZY_MIGRATION"
	ModeCustomUserStore Mode = "CUSTOM_USER_STORE"
)

// Required returns the functions a module must implement for mode.
func (m Mode) Required() []string {
	switch m {
	case ModeLazyMigration:
		return []string{"login", "getUser"}
	case ModeCustomUserStore:
		return Functions()
	}
	return nil
}

// ModuleInfo describes a validated module.
type ModuleInfo struct {
	SHA256     string   `json:"sha256"`
	Size       int      `json:"size"`
	ABIVersion int      `json:"abiVersion"`
	Functions  []string `json:"functions"` // implemented connector functions, in contract order
	Imports    []string `json:"imports"`   // "module.name" of every imported function
}

// Implements reports whether the module exports function fn.
func (m *ModuleInfo) Implements(fn string) bool {
	for _, f := range m.Functions {
		if f == fn {
			return true
		}
	}
	return false
}

// MissingFor returns the functions mode requires that the module lacks.
func (m *ModuleInfo) MissingFor(mode Mode) []string {
	missing := []string{}
	for _, f := range mode.Required() {
		if !m.Implements(f) {
			missing = append(missing, f)
		}
	}
	return missing
}

// Limits bound one call. Zero fields take the engine's defaults.
type Limits struct {
	Timeout        time.Duration // wall clock for the whole call
	MemoryBytes    uint64        // cap on the instance's linear memory
	MaxInputBytes  int
	MaxOutputBytes int
	MaxLogBytes    int
	MaxHostCalls   int
	// MaxHostBytes bounds the bytes all host calls of the call move,
	// requests and responses together.
	MaxHostBytes int
	// MaxInstances bounds the instance pool of this (tenant, connection);
	// usually the tenant's concurrency quota.
	MaxInstances int
	CPUPerMinute time.Duration // guest CPU time (and the CPU time of password hashes, see ChargeCPU) a tenant may use per minute across its calls; 0: unlimited
}

// Request is one call of a connector function.
type Request struct {
	// Tenant owns the instance. Instances are never shared between tenants.
	Tenant string
	// Pool names the connection configuration the instance was made for
	// (connection name and configuration version). Instances are only
	// reused for the same Tenant, Pool and module.
	Pool string
	// Function is one of the eight connector functions.
	Function string
	// Input is the function's JSON input. It must be valid JSON: the
	// engine hands it to the guest as it is.
	Input []byte
	// Env is the WASI environment of new instances: the connection's
	// DB_* variables and the tenant's env. It must not change for a Pool.
	Env map[string]string
	// Limits bound this call.
	Limits Limits
	// Host serves the guest's host calls; nil refuses every host call.
	Host Host
	// Quiet calls keep no logs and no host-call trace for their Result
	// (Logs and Trace are empty): for callers that do not show them. Log
	// lines still count against MaxLogBytes.
	Quiet bool
	// Observe, when set, is handed the call's host-call trace just
	// before Call returns, quiet or not (for metrics). The slice is the
	// engine's: Observe must not keep or change it.
	Observe func([]HostCall)
}

// LogEntry is one line the guest logged.
type LogEntry struct {
	Stream  string `json:"stream"` // "stdout", "stderr" or "log"
	Level   string `json:"level"`  // debug, info, warn, error
	Message string `json:"message"`
}

// HostCall is one entry of a call's trace.
type HostCall struct {
	Op         string  `json:"op"`   // e.g. sql.query
	Kind       string  `json:"kind"` // e.g. sql, mongo, http, password
	Target     string  `json:"target,omitempty"`
	Statement  string  `json:"statement,omitempty"`
	DurationMs float64 `json:"durationMs"`
	Rows       int     `json:"rows,omitempty"`
	BytesIn    int     `json:"bytesIn"`
	BytesOut   int     `json:"bytesOut"`
	Error      string  `json:"error,omitempty"`
	Denied     bool    `json:"denied,omitempty"`
}

// Host serves host calls for one connector call.
type Host interface {
	// HostCall runs operation op with the JSON request req and returns the
	// JSON result. A returned *Error reaches the guest with its code;
	// any other error as code "host_error". HostCall fills the trace
	// entry's Target, Statement, Rows and Denied; the engine fills the rest.
	HostCall(ctx context.Context, op string, req []byte, tr *HostCall) (json.RawMessage, error)
}

// Result is what one call produced. Calls that ran return a Result even
// when they fail, so logs and trace can be shown beside the error.
type Result struct {
	Output      json.RawMessage `json:"result,omitempty"`
	Error       *Error          `json:"error,omitempty"`
	Logs        []LogEntry      `json:"logs"`
	Trace       []HostCall      `json:"hostCalls"`
	Duration    time.Duration   `json:"-"`
	MemoryBytes uint64          `json:"memoryBytes"`
}
