package invoke

import (
	"fmt"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

// TestLimiter: the concurrency semaphore and the GCRA rate bucket, step
// by step at given instants.
func TestLimiter(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	// step is one acquire at t0+at; release says to release it at once.
	type step struct {
		at      time.Duration
		release bool
		reason  Reason // "": admitted
		retry   time.Duration
	}
	tests := []struct {
		name  string
		q     store.Quotas
		steps []step
	}{
		{"no quotas admit everything", store.Quotas{}, []step{{}, {}, {}, {}}},
		{"concurrency: the third concurrent call waits a second",
			store.Quotas{MaxConcurrency: 2},
			[]step{{}, {}, {reason: ReasonConcurrency, retry: time.Second}}},
		{"concurrency: a released call frees its slot",
			store.Quotas{MaxConcurrency: 1},
			[]step{{release: true}, {release: true}, {}, {reason: ReasonConcurrency, retry: time.Second}}},
		{"rate: a burst of callsPerMinute passes, then one per interval",
			store.Quotas{CallsPerMinute: 3},
			[]step{
				{release: true}, {release: true}, {release: true},
				{reason: ReasonRate, retry: 20 * time.Second},
				{at: 5 * time.Second, reason: ReasonRate, retry: 15 * time.Second},
				{at: 20 * time.Second, release: true},
				{at: 20 * time.Second, reason: ReasonRate, retry: 20 * time.Second},
			}},
		{"rate: an idle minute refills the bucket",
			store.Quotas{CallsPerMinute: 2},
			[]step{
				{release: true}, {release: true}, {reason: ReasonRate, retry: 30 * time.Second},
				{at: time.Minute, release: true}, {at: time.Minute, release: true},
				{at: time.Minute, reason: ReasonRate, retry: 30 * time.Second},
			}},
		{"a refused concurrency call takes no rate token",
			store.Quotas{MaxConcurrency: 1, CallsPerMinute: 2},
			[]step{
				{}, {reason: ReasonConcurrency, retry: time.Second}, {reason: ReasonConcurrency, retry: time.Second},
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter()
			for i, s := range tt.steps {
				release, err := l.acquire("acme", tt.q, t0.Add(s.at))
				switch {
				case s.reason == "" && err != nil:
					t.Fatalf("step %d: refused (%v), want admitted", i, err)
				case s.reason != "" && err == nil:
					t.Fatalf("step %d: admitted, want refused by %s", i, s.reason)
				case err != nil:
					if err.Reason != s.reason || err.RetryAfter != s.retry {
						t.Fatalf("step %d: refused by %s, retry after %s; want %s, %s", i, err.Reason, err.RetryAfter, s.reason, s.retry)
					}
					if release != nil {
						t.Fatalf("step %d: a refusal returned a release func", i)
					}
				case s.release:
					release()
					release() // releasing twice frees one slot only
				}
			}
		})
	}
}

// TestLimiterTenantsAndQuotaChanges: tenants have their own counters, and
// a changed rate quota starts with a full bucket.
func TestLimiterTenantsAndQuotaChanges(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter()
	one := store.Quotas{MaxConcurrency: 1, CallsPerMinute: 1}
	if _, err := l.acquire("a", one, now); err != nil {
		t.Fatal(err)
	}
	if _, err := l.acquire("b", one, now); err != nil {
		t.Errorf("tenant b is held up by tenant a: %v", err)
	}
	if _, err := l.acquire("a", store.Quotas{CallsPerMinute: 1}, now); err == nil || err.Reason != ReasonRate {
		t.Errorf("a's second call in the minute: %v, want the rate quota", err)
	}
	if _, err := l.acquire("a", store.Quotas{CallsPerMinute: 5}, now); err != nil {
		t.Errorf("a raised quota still refuses: %v", err)
	}
}

// TestLimiterPrunesIdleTenants: past maxLimiterTenants, tenants with no
// call in flight and a full bucket are dropped; busy ones are kept.
func TestLimiterPrunesIdleTenants(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newLimiter()
	if _, err := l.acquire("busy", store.Quotas{MaxConcurrency: 1}, now); err != nil {
		t.Fatal(err)
	}
	for i := range maxLimiterTenants + 1 {
		release, err := l.acquire(fmt.Sprintf("tenant%d", i), store.Quotas{CallsPerMinute: 60}, now)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	l.acquire("new", store.Quotas{}, now.Add(2*time.Second))
	if _, ok := l.tenants["busy"]; !ok {
		t.Error("pruning dropped a tenant with a call in flight")
	}
	if len(l.tenants) != 2 {
		t.Errorf("%d tenants after pruning, want 2 (busy and new)", len(l.tenants))
	}
	if _, err := l.acquire("busy", store.Quotas{MaxConcurrency: 1}, now); err == nil {
		t.Error("the busy tenant's call in flight was forgotten")
	}
}

func TestQuotaLimits(t *testing.T) {
	base := engine.Limits{Timeout: time.Second, MemoryBytes: 1 << 20, MaxInstances: 1, MaxHostCalls: 1, MaxInputBytes: 7}
	// cpuMsPerMinute 0 is unlimited, whatever the base says.
	if got := quotaLimits(engine.Limits{CPUPerMinute: time.Hour}, store.Quotas{}); got.CPUPerMinute != 0 {
		t.Errorf("cpuMsPerMinute 0: CPUPerMinute %v, want 0 (unlimited)", got.CPUPerMinute)
	}
	tests := []struct {
		name string
		q    store.Quotas
		want engine.Limits
	}{
		{"zero quotas keep the base", store.Quotas{}, base},
		{"every quota overrides its limit",
			store.Quotas{MemoryMB: 64, TimeoutMs: 1000, MaxConcurrency: 3, MaxHostCalls: 9, CallsPerMinute: 5, MaxModuleBytes: 1},
			engine.Limits{Timeout: time.Second, MemoryBytes: 64 << 20, MaxInstances: 3, MaxHostCalls: 9, MaxInputBytes: 7}},
		{"timeout only", store.Quotas{TimeoutMs: 250},
			engine.Limits{Timeout: 250 * time.Millisecond, MemoryBytes: 1 << 20, MaxInstances: 1, MaxHostCalls: 1, MaxInputBytes: 7}},
		{"a CPU budget", store.Quotas{CPUMsPerMinute: 1500},
			engine.Limits{Timeout: time.Second, MemoryBytes: 1 << 20, MaxInstances: 1, MaxHostCalls: 1, MaxInputBytes: 7, CPUPerMinute: 1500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quotaLimits(base, tt.q); got != tt.want {
				t.Errorf("quotaLimits = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestErrorMessages(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&QuotaError{Reason: ReasonRate, Limit: 5}, "the tenant's rate quota of 5 calls per minute is used up"},
		{&QuotaError{Reason: ReasonConcurrency, Limit: 4}, "the tenant's concurrency quota of 4 calls is in use"},
		{&VersionError{Connection: "c", Err: ErrNoActiveVersion}, "connection c has no active version: upload a module first"},
		{&VersionError{Connection: "c", Version: 3, Err: ErrNoSuchVersion}, "connection c has no version 3"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLimiterShareChanges: a node's share of a rate quota changing (nodes
// joined or left) keeps the calls already taken, so the new share adds
// no burst; no share refuses and keeps the bucket; a changed quota starts
// full.
func TestLimiterShareChanges(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	take := func(l *limiter, cpm, rate int, at time.Duration, n int) int {
		got := 0
		for range n {
			if ok, _ := l.token("acme", cpm, rate, t0.Add(at)); ok {
				got++
			}
		}
		return got
	}
	tests := []struct {
		name  string
		steps []struct{ cpm, rate, n, want int }
	}{
		{"a larger share gives only the difference", []struct{ cpm, rate, n, want int }{
			{60, 20, 30, 20}, // a third of 60: a burst of 20
			{60, 30, 30, 10}, // a node left: 30, of which 20 are taken
		}},
		{"a smaller share refuses until the taken calls fit", []struct{ cpm, rate, n, want int }{
			{60, 30, 10, 10},
			{60, 20, 30, 10},
		}},
		{"no share refuses and keeps the bucket", []struct{ cpm, rate, n, want int }{
			{60, 20, 20, 20},
			{60, 0, 5, 0},
			{60, 20, 5, 0},
		}},
		{"a changed quota starts full", []struct{ cpm, rate, n, want int }{
			{60, 20, 20, 20},
			{90, 30, 40, 30},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLimiter()
			for i, s := range tt.steps {
				if got := take(l, s.cpm, s.rate, 0, s.n); got != s.want {
					t.Fatalf("step %d: %d of %d calls of share %d/%d passed, want %d", i, got, s.n, s.rate, s.cpm, s.want)
				}
			}
		})
	}
	// The refill follows the share: 20 per minute is one call per 3s.
	l := newLimiter()
	take(l, 60, 20, 0, 20)
	if got := take(l, 60, 20, 3*time.Second, 5); got != 1 {
		t.Fatalf("3s after the burst %d calls passed, want 1", got)
	}
}

func TestSlotNone(t *testing.T) {
	l := newLimiter()
	if _, ok := l.slot("acme", 0, time.Now()); ok {
		t.Fatal("a share of no slots admitted a call")
	}
}
