package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/store"
)

// testCalls is the call log's part of the contract: append, filters,
// paging both ways, bounds by count and bytes (oldest first), tenants
// and connections apart, calls of a missing connection skipped, the log
// deleted with its connection.
func testCalls(t *testing.T, ctx context.Context, s store.Store) {
	a := newTenant(t, ctx, s, "acme")
	b := newTenant(t, ctx, s, "globex")
	for _, tn := range []string{a.ID, b.ID} {
		must(s.PutConnection(ctx, pgConn(tn, "db")))(t)
		must(s.PutConnection(ctx, pgConn(tn, "other")))(t)
	}
	call := func(tenant, conn string, i int) store.Call {
		outcome, code := "ok", ""
		if i%3 == 0 {
			outcome, code = "error", "wrong_password"
		}
		fn := "getUser"
		if i%2 == 0 {
			fn = "login"
		}
		return store.Call{Tenant: tenant, Connection: conn, Time: time.Now(), Function: fn,
			RequestID: fmt.Sprintf("req-%d", i), Outcome: outcome, Code: code,
			Record: []byte(fmt.Sprintf(`{"n":%d,"tenant":%q}`, i, tenant))}
	}
	var batch []store.Call
	for i := 1; i <= 10; i++ {
		batch = append(batch, call(a.ID, "db", i), call(b.ID, "db", 100+i))
	}
	batch = append(batch, call(a.ID, "gone", 1)) // no such connection: skipped
	if n := must(s.AppendCalls(ctx, batch, store.CallBounds{}))(t); n != 20 {
		t.Fatalf("added %d calls, want 20", n)
	}
	_, err := s.AppendCalls(ctx, []store.Call{{Tenant: a.ID, Connection: "db"}}, store.CallBounds{})
	wantValidation(t, err, "record")

	records := func(cs []store.Call) string {
		var out []string
		for _, c := range cs {
			out = append(out, string(c.Record))
		}
		return strings.Join(out, " ")
	}
	nums := func(cs []store.Call) []int {
		var out []int
		for _, c := range cs {
			var n int
			fmt.Sscanf(string(c.Record), `{"n":%d`, &n)
			out = append(out, n)
		}
		return out
	}
	all := must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t)
	if got := fmt.Sprint(nums(all)); got != "[10 9 8 7 6 5 4 3 2 1]" {
		t.Fatalf("calls = %v, want newest first", got)
	}
	if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{Oldest: true, Limit: 3}))(t))); got != "[1 2 3]" {
		t.Fatalf("oldest calls = %v, want [1 2 3]", got)
	}
	// MaxBytes: the list ends once its records reach it, at least one.
	for _, tc := range []struct{ max, want int }{{1, 1}, {len(all[0].Record) + 1, 2}, {1 << 20, 10}} {
		if got := must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{MaxBytes: tc.max}))(t); len(got) != tc.want {
			t.Fatalf("MaxBytes %d: %d calls, want %d", tc.max, len(got), tc.want)
		}
	}
	if strings.Contains(records(all), b.ID) {
		t.Fatalf("tenant A's log holds tenant B's calls: %s", records(all))
	}
	if c := all[0]; c.ID == 0 || c.Tenant != a.ID || c.Connection != "db" || c.RequestID != "req-10" || c.Function != "login" || c.Time.IsZero() {
		t.Fatalf("call = %+v", c)
	}
	for _, tc := range []struct {
		name string
		q    store.CallQuery
		want string
	}{
		{"function", store.CallQuery{Function: "login"}, "[10 8 6 4 2]"},
		{"outcome", store.CallQuery{Outcome: "error"}, "[9 6 3]"},
		{"code", store.CallQuery{Code: "wrong_password", Function: "login"}, "[6]"},
		{"request id", store.CallQuery{RequestID: "req-7"}, "[7]"},
		{"limit", store.CallQuery{Limit: 3}, "[10 9 8]"},
		{"before", store.CallQuery{Before: all[2].ID, Limit: 3}, "[7 6 5]"},
		{"after", store.CallQuery{After: all[2].ID}, "[9 10]"},
		{"after with a filter", store.CallQuery{After: all[9].ID, Outcome: "error"}, "[3 6 9]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", tc.q))(t))); got != tc.want {
				t.Fatalf("calls = %s, want %s", got, tc.want)
			}
		})
	}
	if got := must(s.ListCalls(ctx, a.ID, "other", store.CallQuery{}))(t); len(got) != 0 {
		t.Fatalf("connection other has %d calls", len(got))
	}

	t.Run("bounds", func(t *testing.T) {
		// Count: 4 calls kept of the 10 and 2 more.
		must(s.AppendCalls(ctx, []store.Call{call(a.ID, "db", 11), call(a.ID, "db", 12)}, store.CallBounds{MaxCalls: 4}))(t)
		if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t))); got != "[12 11 10 9]" {
			t.Fatalf("after the count bound: %s", got)
		}
		// Bytes: every record of A is len(`{"n":NN,"tenant":"ID"}`).
		size := int64(len(call(a.ID, "db", 13).Record))
		must(s.AppendCalls(ctx, []store.Call{call(a.ID, "db", 13)}, store.CallBounds{MaxCalls: 100, MaxBytes: 2*size + size/2}))(t)
		if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t))); got != "[13 12]" {
			t.Fatalf("after the byte bound: %s", got)
		}
		// Editing the connection keeps its log and its tallies.
		must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
		must(s.AppendCalls(ctx, []store.Call{call(a.ID, "db", 14)}, store.CallBounds{MaxCalls: 2}))(t)
		if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t))); got != "[14 13]" {
			t.Fatalf("after an edit and the count bound: %s", got)
		}
		// The other tenant's log of the same name is untouched.
		if got := must(s.ListCalls(ctx, b.ID, "db", store.CallQuery{Limit: 100}))(t); len(got) != 10 {
			t.Fatalf("tenant B has %d calls, want 10", len(got))
		}
	})

	t.Run("deleted with the connection", func(t *testing.T) {
		if err := s.DeleteConnection(ctx, a.ID, "db"); err != nil {
			t.Fatal(err)
		}
		must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
		if got := must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t); len(got) != 0 {
			t.Fatalf("a new connection of the old name has %d calls", len(got))
		}
		// Its tallies start again: 3 calls under a bound of 3 all stay.
		must(s.AppendCalls(ctx, []store.Call{call(a.ID, "db", 1), call(a.ID, "db", 2), call(a.ID, "db", 3)}, store.CallBounds{MaxCalls: 3}))(t)
		if got := fmt.Sprint(nums(must(s.ListCalls(ctx, a.ID, "db", store.CallQuery{}))(t))); got != "[3 2 1]" {
			t.Fatalf("a new connection of the old name keeps %s", got)
		}
		if got := must(s.ListCalls(ctx, b.ID, "db", store.CallQuery{Limit: 100}))(t); len(got) != 10 {
			t.Fatalf("tenant B has %d calls, want 10", len(got))
		}
	})
}
