package invoke

import (
	"testing"
	"time"
)

func TestUsageWindow(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	u := newUsage()
	u.call("a", "login", "ok", t0)
	u.call("a", "login", "wrong_password", t0.Add(10*time.Second))
	u.call("a", "getUser", "egress_denied", t0.Add(30*time.Minute))
	u.rejection("a", ReasonRate, t0.Add(59*time.Minute))
	u.call("b", "login", "ok", t0)

	tests := []struct {
		name       string
		tenant     string
		at         time.Time
		calls      int64
		errors     map[string]int64
		rejections map[string]int64
	}{
		{"all in the window", "a", t0.Add(59 * time.Minute), 3, map[string]int64{"wrong_password": 1, "egress_denied": 1}, map[string]int64{"rate": 1}},
		{"the first minute fell out", "a", t0.Add(61 * time.Minute), 1, map[string]int64{"egress_denied": 1}, map[string]int64{"rate": 1}},
		{"another tenant", "b", t0, 1, map[string]int64{}, map[string]int64{}},
		{"unknown tenant", "c", t0, 0, map[string]int64{}, map[string]int64{}},
		{"all gone", "a", t0.Add(3 * time.Hour), 0, map[string]int64{}, map[string]int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := u.sum(tc.tenant, tc.at)
			if got.Calls != tc.calls {
				t.Errorf("calls = %d, want %d", got.Calls, tc.calls)
			}
			if !equalCounts(got.Errors, tc.errors) {
				t.Errorf("errors = %v, want %v", got.Errors, tc.errors)
			}
			if !equalCounts(got.QuotaRejections, tc.rejections) {
				t.Errorf("rejections = %v, want %v", got.QuotaRejections, tc.rejections)
			}
			if want := tc.at.Truncate(time.Minute).Add(-UsageWindow + time.Minute); !got.Since.Equal(want) {
				t.Errorf("since = %v, want %v", got.Since, want)
			}
		})
	}
	// A bucket reused for a later minute starts from zero.
	u.call("b", "login", "ok", t0.Add(time.Hour))
	if got := u.sum("b", t0.Add(time.Hour)); got.Calls != 1 || got.Functions["login"] != 1 {
		t.Errorf("after an hour: %+v, want 1 call", got)
	}
}

func equalCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
