package store

// Quotas are a tenant's resource limits.
type Quotas struct {
	MemoryMB       int   `json:"memoryMB"`
	TimeoutMs      int   `json:"timeoutMs"`
	MaxConcurrency int   `json:"maxConcurrency"`
	CallsPerMinute int   `json:"callsPerMinute"`
	MaxModuleBytes int64 `json:"maxModuleBytes"`
	MaxHostCalls   int   `json:"maxHostCalls"`
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
	}
}

// Quota maxima (inclusive); every quota must be at least 1.
const (
	MaxMemoryMB       = 4096             // the wasm32 address space
	MaxTimeoutMs      = 10 * 60 * 1000   // ten minutes
	MaxConcurrency    = 1024             //
	MaxCallsPerMinute = 1_000_000        //
	MaxModuleBytes    = int64(256 << 20) // 256 MiB
	MaxHostCalls      = 100_000          //
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
	return nil
}
