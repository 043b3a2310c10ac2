package invoke

import (
	"sync"
	"time"
)

// UsageWindow is how far back Usage looks.
const UsageWindow = time.Hour

// Usage is what one tenant's calls did on this node over the last
// UsageWindow: the same observations as the sluice_calls_total and
// sluice_quota_rejections_total counters, kept per minute so an old
// minute falls out of the window.
type Usage struct {
	// Since is the start of the window (a whole minute).
	Since time.Time `json:"since"`
	// Calls counts every connector call that ran or failed in the
	// engine; Errors those that ended with an error, by code.
	Calls  int64            `json:"calls"`
	Errors map[string]int64 `json:"errors"`
	// QuotaRejections counts the calls and uploads the quotas refused
	// before they ran, by reason (concurrency, rate, uploads).
	QuotaRejections map[string]int64 `json:"quotaRejections"`
	// Functions counts the calls by connector function.
	Functions map[string]int64 `json:"functions"`
}

// usageMinutes is the number of one-minute buckets kept per tenant.
const usageMinutes = int(UsageWindow / time.Minute)

// usageBucket is one minute of one tenant.
type usageBucket struct {
	minute     int64 // unix minute; buckets of another minute are stale
	calls      int64
	errors     map[string]int64
	rejections map[string]int64
	functions  map[string]int64
}

// usage keeps, per tenant, a ring of one-minute buckets.
type usage struct {
	mu      sync.Mutex
	tenants map[string]*[usageMinutes]usageBucket
}

func newUsage() *usage { return &usage{tenants: map[string]*[usageMinutes]usageBucket{}} }

// bucket returns tenant's bucket for the minute of now, reset when it
// held an older minute. u.mu must be held.
func (u *usage) bucket(tenant string, now time.Time) *usageBucket {
	ring, ok := u.tenants[tenant]
	if !ok {
		ring = new([usageMinutes]usageBucket)
		u.tenants[tenant] = ring
	}
	m := now.Unix() / 60
	b := &ring[int(m%int64(usageMinutes))]
	if b.minute != m {
		*b = usageBucket{minute: m}
	}
	return b
}

func bump(m *map[string]int64, k string) {
	if *m == nil {
		*m = map[string]int64{}
	}
	(*m)[k]++
}

func (u *usage) call(tenant, fn, code string, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	b := u.bucket(tenant, now)
	b.calls++
	bump(&b.functions, fn)
	if code != "ok" {
		bump(&b.errors, code)
	}
}

func (u *usage) rejection(tenant string, reason Reason, now time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	bump(&u.bucket(tenant, now).rejections, string(reason))
}

// sum adds up tenant's buckets of the window ending at now.
func (u *usage) sum(tenant string, now time.Time) Usage {
	m := now.Unix() / 60
	first := m - int64(usageMinutes) + 1
	out := Usage{
		Since:  time.Unix(first*60, 0).UTC(),
		Errors: map[string]int64{}, QuotaRejections: map[string]int64{}, Functions: map[string]int64{},
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	ring, ok := u.tenants[tenant]
	if !ok {
		return out
	}
	for i := range ring {
		b := &ring[i]
		if b.minute < first || b.minute > m {
			continue
		}
		out.Calls += b.calls
		for _, src := range []struct{ from, to map[string]int64 }{
			{b.errors, out.Errors}, {b.rejections, out.QuotaRejections}, {b.functions, out.Functions},
		} {
			for k, n := range src.from {
				src.to[k] += n
			}
		}
	}
	return out
}

// Usage returns what tenant's calls did on this node over the last
// UsageWindow (see Usage). Other nodes count their own calls.
func (r *Runner) Usage(tenant string) Usage {
	return r.usage.sum(tenant, r.cfg.Now())
}
