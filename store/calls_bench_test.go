package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/store"
)

// BenchmarkAppendCalls: the call-log writer's batches on the embedded
// store, at the default bounds once every connection is full (so every
// batch also trims). ns/op is per call.
func BenchmarkAppendCalls(b *testing.B) {
	ctx := context.Background()
	s, err := store.OpenSQLite(ctx, filepath.Join(b.TempDir(), "bench.db"), testKey)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	tn, err := s.CreateTenant(ctx, "acme", "")
	if err != nil {
		b.Fatal(err)
	}
	var conns []string
	for i := range 4 {
		conns = append(conns, fmt.Sprintf("c%d", i))
		if _, err := s.PutConnection(ctx, pgConn(tn.ID, conns[i])); err != nil {
			b.Fatal(err)
		}
	}
	bounds := store.CallBounds{MaxCalls: 1000, MaxBytes: 4 << 20}
	record := []byte(`{"input":{"email":"user@example.com"},"result":{"user_id":"1","email":"user@example.com"},"trace":[{"kind":"sql","statement":"SELECT id, email FROM users WHERE email = $1","ms":0.4,"rows":1}],` +
		`"logs":"` + strings.Repeat("x", 200) + `"}`)
	const batch = 64
	calls := make([]store.Call, batch)
	for i := range calls {
		calls[i] = store.Call{Tenant: tn.ID, Connection: conns[i%len(conns)], Function: "getUser",
			RequestID: fmt.Sprintf("req-%d", i), Outcome: "ok", Record: record}
	}
	fill := func() {
		for i := range calls {
			calls[i].Time = time.Now()
		}
		if _, err := s.AppendCalls(ctx, calls, bounds); err != nil {
			b.Fatal(err)
		}
	}
	for range bounds.MaxCalls * len(conns) / batch {
		fill()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += batch {
		fill()
	}
}
