package store

import (
	"slices"
	"strings"
)

// Quotas are a tenant's resource limits and grants.
type Quotas struct {
	MemoryMB       int   `json:"memoryMB"`
	TimeoutMs      int   `json:"timeoutMs"`
	MaxConcurrency int   `json:"maxConcurrency"`
	CallsPerMinute int   `json:"callsPerMinute"`
	MaxModuleBytes int64 `json:"maxModuleBytes"`
	MaxHostCalls   int   `json:"maxHostCalls"`
	// CPUMsPerMinute is the guest CPU time, in milliseconds, all of the
	// tenant's calls together may use per minute; 0 is unlimited.
	CPUMsPerMinute int `json:"cpuMsPerMinute"`
	// UploadsPerMinute is how many modules the tenant may upload per
	// minute, on all nodes together (counted in the store); 0 is
	// unlimited. An upload compiles and probes a module, which costs the
	// node far more than a call, and a console uploads a few an hour.
	UploadsPerMinute int `json:"uploadsPerMinute"`
	// AllowPrivateNetworks grants the tenant's connections egress to
	// private networks (the deny-list ranges not always refused);
	// PrivateNetworks, when not empty, limits the grant to those
	// addresses and networks (CIDRs, optionally with :port). Loopback,
	// the node's own addresses and the store's are opened only by an
	// entry naming them (hostfuncs/egress, Grant). PrivateNetworks is
	// kept but has no effect while AllowPrivateNetworks is false.
	AllowPrivateNetworks bool     `json:"allowPrivateNetworks"`
	PrivateNetworks      []string `json:"privateNetworks"`
}

// Equal reports whether q and o are the same quotas.
func (q Quotas) Equal(o Quotas) bool {
	return q.MemoryMB == o.MemoryMB && q.TimeoutMs == o.TimeoutMs && q.MaxConcurrency == o.MaxConcurrency &&
		q.CallsPerMinute == o.CallsPerMinute && q.MaxModuleBytes == o.MaxModuleBytes && q.MaxHostCalls == o.MaxHostCalls &&
		q.CPUMsPerMinute == o.CPUMsPerMinute && q.UploadsPerMinute == o.UploadsPerMinute && q.AllowPrivateNetworks == o.AllowPrivateNetworks &&
		slices.Equal(q.PrivateNetworks, o.PrivateNetworks)
}

// clone returns q with its own PrivateNetworks (never nil).
func (q Quotas) clone() Quotas {
	q.PrivateNetworks = append([]string{}, q.PrivateNetworks...)
	return q
}

// DefaultQuotas are the quotas of a new tenant.
func DefaultQuotas() Quotas {
	return Quotas{
		MemoryMB:       64,
		TimeoutMs:      5000,
		MaxConcurrency: 8,
		CallsPerMinute: 600,
		MaxModuleBytes: 16 << 20,
		MaxHostCalls:   200,
		// Ten uploads a minute; no CPU quota, no private networks.
		UploadsPerMinute: 10,
		PrivateNetworks:  []string{},
	}
}

// Quota maxima (inclusive); every quota must be at least 1, but
// cpuMsPerMinute and uploadsPerMinute, which may be 0 (unlimited).
const (
	MaxMemoryMB       = 4096             // the wasm32 address space
	MaxTimeoutMs      = 10 * 60 * 1000   // ten minutes
	MaxConcurrency    = 1024             //
	MaxCallsPerMinute = 1_000_000        //
	MaxModuleBytes    = int64(256 << 20) // 256 MiB
	MaxHostCalls      = 100_000          //
	// MaxCPUMsPerMinute: every instance of the largest concurrency busy
	// for the whole minute.
	MaxCPUMsPerMinute   = 60_000 * MaxConcurrency
	MaxUploadsPerMinute = MaxCallsPerMinute
	// MaxPrivateNetworks bounds privateNetworks; each entry is at most
	// maxNetworkLen characters (its syntax is the API's to check, with
	// hostfuncs/egress).
	MaxPrivateNetworks = 256
	maxNetworkLen      = 300
)

// Validate reports the first quota out of range as a *ValidationError.
func (q Quotas) Validate() error {
	checks := []struct {
		field  string
		v, max int64
	}{
		{"memoryMB", int64(q.MemoryMB), MaxMemoryMB},
		{"timeoutMs", int64(q.TimeoutMs), MaxTimeoutMs},
		{"maxConcurrency", int64(q.MaxConcurrency), MaxConcurrency},
		{"callsPerMinute", int64(q.CallsPerMinute), MaxCallsPerMinute},
		{"maxModuleBytes", q.MaxModuleBytes, MaxModuleBytes},
		{"maxHostCalls", int64(q.MaxHostCalls), MaxHostCalls},
	}
	for _, c := range checks {
		if c.v < 1 || c.v > c.max {
			return invalid(c.field, "must be between 1 and %d, got %d", c.max, c.v)
		}
	}
	if q.CPUMsPerMinute < 0 || q.CPUMsPerMinute > MaxCPUMsPerMinute {
		return invalid("cpuMsPerMinute", "must be between 0 (unlimited) and %d milliseconds of CPU time per minute, got %d", MaxCPUMsPerMinute, q.CPUMsPerMinute)
	}
	if q.UploadsPerMinute < 0 || q.UploadsPerMinute > MaxUploadsPerMinute {
		return invalid("uploadsPerMinute", "must be between 0 (unlimited) and %d uploads per minute, got %d", MaxUploadsPerMinute, q.UploadsPerMinute)
	}
	if len(q.PrivateNetworks) > MaxPrivateNetworks {
		return invalid("privateNetworks", "has %d entries, more than %d", len(q.PrivateNetworks), MaxPrivateNetworks)
	}
	for i, n := range q.PrivateNetworks {
		switch {
		case strings.TrimSpace(n) == "":
			return invalid("privateNetworks", "entry %d is empty", i)
		case len(n) > maxNetworkLen:
			return invalid("privateNetworks", "entry %d is longer than %d characters", i, maxNetworkLen)
		}
	}
	return nil
}
