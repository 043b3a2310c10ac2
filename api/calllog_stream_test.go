package api_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/store"
)

// streamEnds waits until the stream's events channel closes (the server
// ended the stream).
func streamEnds(t *testing.T, events <-chan sseEvent) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("the stream did not end in 30s")
		}
	}
}

// streamStatus opens a stream and answers its status and error code,
// closing it.
func streamStatus(t *testing.T, base, key, conn string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+"/v1/connections/"+conn+"/calls/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode == 200 {
		return 200, ""
	}
	r := &resp{status: res.StatusCode, header: res.Header}
	buf := make([]byte, 4096)
	n, _ := res.Body.Read(buf)
	r.body = buf[:n]
	return res.StatusCode, r.errCode(t)
}

// TestCallLogStreamLimits: a tenant opens at most StreamsPerTenant
// streams on a node (429 quota_exceeded beyond, other tenants apart); a
// stream ends when its key is revoked, when its connection is deleted
// and after StreamMaxLifetime; Last-Event-ID 0 starts at the log's
// oldest call and pages through a log longer than a page.
func TestCallLogStreamLimits(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec, func(c *envConfig) {
			c.api.StreamsPerTenant = 2
			c.api.StreamPoll = 20 * time.Millisecond
			c.api.CacheTTL = -1
		})
		tenant, key := e.newTenant("acme")
		e.callLogConn(tenant, key, "users")

		t.Run("per tenant cap", func(t *testing.T) {
			_, cancel1 := openStream(t, e.ts.URL, key, "users", "")
			_, cancel2 := openStream(t, e.ts.URL, key, "users", "")
			defer cancel2()
			if st, code := streamStatus(t, e.ts.URL, key, "users"); st != 429 || code != "quota_exceeded" {
				t.Fatalf("third stream: %d %s, want 429 quota_exceeded", st, code)
			}
			tenantB, keyB := e.newTenant("globex")
			e.callLogConn(tenantB, keyB, "users")
			_, cancelB := openStream(t, e.ts.URL, keyB, "users", "")
			cancelB()
			cancel1()
			waitFor(t, func() bool {
				st, _ := streamStatus(t, e.ts.URL, key, "users")
				return st == 200
			})
		})

		t.Run("connection deleted", func(t *testing.T) {
			e.req("PUT", "/v1/connections/gone", key, pgConn("pw-gone-1")).must(t, 201)
			events, _ := openStream(t, e.ts.URL, key, "gone", "")
			e.req("DELETE", "/v1/connections/gone", key, nil).must(t, 204)
			streamEnds(t, events)
		})

		t.Run("key revoked", func(t *testing.T) {
			// A second key, revoked in the store (as the CLI does).
			key2 := store.APIKeyPrefix + "revokedkey0123456789abcdef" + spec.name
			if err := e.store.AddAPIKey(context.Background(), tenant, store.HashAPIKey(key2)); err != nil {
				t.Fatal(err)
			}
			events, _ := openStream(t, e.ts.URL, key2, "users", "")
			if err := e.store.DeleteAPIKey(context.Background(), tenant, store.HashAPIKey(key2)); err != nil {
				t.Fatal(err)
			}
			streamEnds(t, events)
		})

		t.Run("from the start", func(t *testing.T) {
			const n = 250
			var batch []store.Call
			for i := range n {
				batch = append(batch, store.Call{Tenant: tenant, Connection: "users", Time: time.Now(), Function: "getUser",
					RequestID: fmt.Sprintf("start-%03d", i), Outcome: "ok", Record: []byte(`{"source":"debug"}`)})
			}
			if _, err := e.store.AppendCalls(context.Background(), batch, store.CallBounds{MaxCalls: 10000}); err != nil {
				t.Fatal(err)
			}
			all := e.storedCalls(t, tenant, "users") // newest first
			events, cancel := openStream(t, e.ts.URL, key, "users", "0")
			defer cancel()
			for i := len(all) - 1; i >= 0; i-- {
				if got := nextCall(t, events); got.ID != strconv.FormatInt(all[i].ID, 10) {
					t.Fatalf("call %d streamed id %s, want %d (the oldest first)", len(all)-1-i, got.ID, all[i].ID)
				}
			}
		})
	})

	t.Run("max lifetime", func(t *testing.T) {
		e := newEnv(t, sqliteSpec(t), func(c *envConfig) { c.api.StreamMaxLifetime = 200 * time.Millisecond })
		tenant, key := e.newTenant("acme")
		e.callLogConn(tenant, key, "users")
		events, _ := openStream(t, e.ts.URL, key, "users", "")
		streamEnds(t, events)
	})

	t.Run("client stops reading", func(t *testing.T) {
		e := newEnv(t, sqliteSpec(t), func(c *envConfig) {
			c.api.StreamsPerTenant = 1
			c.api.StreamWriteTimeout = 100 * time.Millisecond
		})
		tenant, key := e.newTenant("acme")
		e.callLogConn(tenant, key, "users")
		// 32 MiB of calls, more than the sockets buffer.
		rec := []byte(`{"pad":"` + strings.Repeat("x", 256<<10) + `"}`)
		for range 4 {
			var batch []store.Call
			for range 32 {
				batch = append(batch, store.Call{Tenant: tenant, Connection: "users", Time: time.Now(), Function: "getUser", Outcome: "ok", Record: rec})
			}
			if _, err := e.store.AppendCalls(context.Background(), batch, store.CallBounds{MaxCalls: 1000, MaxBytes: 1 << 30}); err != nil {
				t.Fatal(err)
			}
		}
		// A client that asks for the whole log and never reads.
		u, _ := url.Parse(e.ts.URL)
		nc, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		fmt.Fprintf(nc, "GET /v1/connections/users/calls/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nLast-Event-ID: 0\r\n\r\n", key)
		waitFor(t, func() bool {
			st, _ := streamStatus(t, e.ts.URL, key, "users")
			return st == 429
		})
		// Its stream ends at the write timeout: the tenant may open one again.
		waitFor(t, func() bool {
			st, _ := streamStatus(t, e.ts.URL, key, "users")
			return st == 200
		})
	})
	_ = api.DefaultStreamPoll
}
