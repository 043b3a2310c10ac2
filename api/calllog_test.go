package api_test

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

func calllogWasm(t testing.TB) []byte { return wasmbuild.Test(t, "testdata/calllog") }

// Secrets of the call-log tests: none may reach a stored byte.
const (
	connSecret  = "conn-secret-7731"
	envSecret   = "env-secret-5519"
	inputSecret = "pw-input-4402"
	testSecret  = "pw-test-6630"
)

// callRecord is a CallRecord as the API answers it.
type callRecord struct {
	ID          string  `json:"id"`
	At          string  `json:"at"`
	Source      string  `json:"source"`
	Route       string  `json:"route"`
	Function    string  `json:"function"`
	RequestID   string  `json:"requestId"`
	Version     int     `json:"version"`
	Outcome     string  `json:"outcome"`
	Code        string  `json:"code"`
	Message     string  `json:"message"`
	DurationMs  float64 `json:"durationMs"`
	MemoryBytes int     `json:"memoryBytes"`
	Logs        []struct {
		Stream, Level, Message string
	} `json:"logs"`
	HostCalls []struct {
		Op, Kind, Statement string
	} `json:"hostCalls"`
}

type callPage struct {
	Calls []callRecord `json:"calls"`
	Next  string       `json:"next"`
}

func (e *env) callPage(key, conn, query string) callPage {
	e.t.Helper()
	var p callPage
	if err := json.Unmarshal(e.req("GET", "/v1/connections/"+conn+"/calls"+query, key, nil).must(e.t, 200).body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// waitCalls waits until the connection's log holds n calls (the log is
// written asynchronously) and returns them, newest first.
func (e *env) waitCalls(t *testing.T, key, conn string, n int) []callRecord {
	t.Helper()
	var p callPage
	waitFor(t, func() bool {
		p = e.callPage(key, conn, "?limit=200")
		return len(p.Calls) >= n
	})
	return p.Calls
}

// callLogConn makes the connection of the call-log tests: the calllog
// guest on the test PostgreSQL, with a password in its URI and a secret
// env value.
func (e *env) callLogConn(tenant, key, name string) {
	e.t.Helper()
	e.grantLoopback(tenant)
	u, err := url.Parse(pgDSN())
	if err != nil {
		e.t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), connSecret)
	e.req("PUT", "/v1/connections/"+name, key, map[string]any{
		"mode": "CUSTOM_USER_STORE", "dbType": "postgres", "connection": map[string]any{"uri": u.String()},
		"env": map[string]any{"API_TOKEN": envSecret}, "egressAllowlist": []string{"127.0.0.1:5432"},
	}).must(e.t, 201)
	e.upload(key, name, calllogWasm(e.t), "?force=true").must(e.t, 201)
}

// rawCallRows is every stored byte of the call log, read with SQL from
// the store's database, not through the store.
func rawCallRows(t *testing.T, spec storeSpec) string {
	t.Helper()
	driver, dsn := "sqlite", filepath.Join(spec.cfg.DataDir, store.SQLiteFile)
	if spec.cfg.URL != "" {
		driver, dsn = "pgx", spec.cfg.URL
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT id, tenant_id, connection_name, at, function_name, request_id, outcome, code, size, record FROM call_log`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	n := 0
	for rows.Next() {
		cols := make([]any, 10)
		ptrs := make([]any, 10)
		for i := range cols {
			ptrs[i] = &cols[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			fmt.Fprintf(&b, "%s|", c)
		}
		b.WriteByte('\n')
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the call log table is empty")
	}
	return b.String()
}

// TestCallLog: the calls of the user flows, the debug and the test
// routes are recorded with their outcome, code, logs (a panic's text
// included) and trace; filters and pages; no secret in any stored byte;
// tenants apart; deleting the connection deletes its log.
func TestCallLog(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tenant, key := e.newTenant("acme")
		e.callLogConn(tenant, key, "users")

		type made struct {
			path   string
			body   any
			status int
			// what the record must say
			source, route, function, outcome, code string
		}
		steps := []made{
			{"/login", map[string]any{"email": "a@example.com", "password": inputSecret}, 401, "userflow", "login", "login", "error", "wrong_password"},
			{"/login", map[string]any{"email": "b@example.com", "password": "good"}, 200, "userflow", "login", "login", "ok", ""},
			{"/login", map[string]any{"email": "c@example.com", "password": "panic"}, 502, "userflow", "login", "login", "error", "connector_error"},
			{"/debug", map[string]any{"function": "getUser", "input": map[string]any{"query": map[string]any{"email": "d@example.com"}}}, 200, "debug", "debug", "getUser", "ok", ""},
			{"/test", map[string]any{"account": "e@example.com", "password": testSecret}, 200, "test", "test", "login", "error", "wrong_password"},
		}
		reqIDs := make([]string, len(steps))
		for i, s := range steps {
			r := e.req("POST", "/v1/connections/users"+s.path, key, s.body).must(t, s.status)
			reqIDs[i] = r.header.Get("X-Request-ID")
		}
		got := e.waitCalls(t, key, "users", len(steps))
		if len(got) != len(steps) {
			t.Fatalf("%d calls recorded, want %d", len(got), len(steps))
		}
		for i, s := range steps {
			c := got[len(steps)-1-i] // newest first
			t.Run(fmt.Sprintf("%d-%s-%s", i, s.route, s.outcome), func(t *testing.T) {
				if c.Source != s.source || c.Route != s.route || c.Function != s.function || c.Outcome != s.outcome || c.Code != s.code {
					t.Fatalf("record %+v, want source %s route %s function %s outcome %s code %q", c, s.source, s.route, s.function, s.outcome, s.code)
				}
				if c.RequestID != reqIDs[i] || c.Version != 1 || c.ID == "" || c.DurationMs <= 0 {
					t.Fatalf("record %+v, want request id %s, version 1, an id and a duration", c, reqIDs[i])
				}
				if at, err := time.Parse(time.RFC3339Nano, c.At); err != nil || time.Since(at) > time.Hour {
					t.Fatalf("at %q: %v", c.At, err)
				}
				if len(c.Logs) == 0 {
					t.Fatalf("no logs: %+v", c)
				}
				if s.function == "login" {
					if len(c.HostCalls) != 1 || c.HostCalls[0].Kind != "sql" || c.HostCalls[0].Statement != "SELECT count(*) AS n FROM pg_class WHERE relname = $1" {
						t.Fatalf("host calls %+v, want the statement without its parameter", c.HostCalls)
					}
					if !strings.Contains(c.Logs[0].Message, calllog.Redacted) {
						t.Fatalf("log %q: the input password and the connection's secrets are not redacted", c.Logs[0].Message)
					}
				}
			})
		}
		// The panic's text is in the error message and in the logs.
		panicked := got[2]
		var logs strings.Builder
		for _, l := range panicked.Logs {
			logs.WriteString(l.Message + "\n")
		}
		if !strings.Contains(panicked.Message, "the connector gave up on c@example.com") || !strings.Contains(logs.String(), "panic: the connector gave up on c@example.com") {
			t.Fatalf("panic record: message %q, logs %q", panicked.Message, logs.String())
		}

		t.Run("filters", func(t *testing.T) {
			for _, tc := range []struct {
				query string
				want  []int // steps, newest first
			}{
				{"?function=login", []int{4, 2, 1, 0}},
				{"?function=getUser", []int{3}},
				{"?outcome=error", []int{4, 2, 0}},
				{"?outcome=ok", []int{3, 1}},
				{"?code=wrong_password", []int{4, 0}},
				{"?requestId=" + reqIDs[1], []int{1}},
				{"?function=login&outcome=ok", []int{1}},
			} {
				p := e.callPage(key, "users", tc.query)
				var ids []string
				for _, c := range p.Calls {
					ids = append(ids, c.RequestID)
				}
				var want []string
				for _, i := range tc.want {
					want = append(want, reqIDs[i])
				}
				if fmt.Sprint(ids) != fmt.Sprint(want) || p.Next != "" {
					t.Errorf("%s: request ids %v next %q, want %v", tc.query, ids, p.Next, want)
				}
			}
			for _, q := range []string{"?outcome=maybe", "?function=nope", "?limit=0", "?limit=201", "?before=x"} {
				if r := e.req("GET", "/v1/connections/users/calls"+q, key, nil).must(t, 400); r.errCode(t) != "invalid_input" {
					t.Errorf("%s: %s", q, r.body)
				}
			}
		})

		t.Run("paging", func(t *testing.T) {
			var seen []string
			query := "?limit=2"
			for pages := 0; ; pages++ {
				p := e.callPage(key, "users", query)
				for _, c := range p.Calls {
					seen = append(seen, c.RequestID)
				}
				if p.Next == "" {
					if pages != 2 || len(p.Calls) != 1 {
						t.Fatalf("last page %d has %d calls", pages, len(p.Calls))
					}
					break
				}
				if len(p.Calls) != 2 || p.Next != p.Calls[1].ID {
					t.Fatalf("page %+v", p)
				}
				query = "?limit=2&before=" + p.Next
			}
			want := []string{reqIDs[4], reqIDs[3], reqIDs[2], reqIDs[1], reqIDs[0]}
			if fmt.Sprint(seen) != fmt.Sprint(want) {
				t.Fatalf("pages %v, want %v", seen, want)
			}
		})

		t.Run("no secret stored", func(t *testing.T) {
			raw := rawCallRows(t, spec)
			for _, s := range []string{connSecret, envSecret, inputSecret, testSecret} {
				if strings.Contains(raw, s) {
					t.Errorf("the call log's rows hold %q:\n%s", s, raw)
				}
			}
			if !strings.Contains(raw, calllog.Redacted) {
				t.Errorf("nothing was redacted: the connector logs its secrets")
			}
			answer := string(e.req("GET", "/v1/connections/users/calls?limit=200", key, nil).must(t, 200).body)
			for _, s := range []string{connSecret, envSecret, inputSecret, testSecret} {
				if strings.Contains(answer, s) {
					t.Errorf("the calls answer holds %q", s)
				}
			}
		})

		t.Run("tenants apart", func(t *testing.T) {
			tenantB, keyB := e.newTenant("globex")
			e.callLogConn(tenantB, keyB, "users")
			rb := e.req("POST", "/v1/connections/users/login", keyB, map[string]any{"email": "z@example.com", "password": "good"}).must(t, 200)
			b := e.waitCalls(t, keyB, "users", 1)
			if len(b) != 1 || b[0].RequestID != rb.header.Get("X-Request-ID") {
				t.Fatalf("tenant B's log %+v", b)
			}
			if a := e.callPage(key, "users", "?limit=200").Calls; len(a) != len(steps) {
				t.Fatalf("tenant A's log has %d calls, want %d", len(a), len(steps))
			}
			e.req("PUT", "/v1/connections/other", key, pgConn("pw")).must(t, 201)
			e.req("GET", "/v1/connections/other/calls", keyB, nil).must(t, 404)
			e.req("GET", "/v1/connections/other/calls/stream", keyB, nil).must(t, 404)
			e.req("GET", "/v1/connections/users/calls", "", nil).must(t, 401)
		})

		t.Run("deleted with the connection", func(t *testing.T) {
			e.req("DELETE", "/v1/connections/users", key, nil).must(t, 204)
			e.req("GET", "/v1/connections/users/calls", key, nil).must(t, 404)
			e.callLogConn(tenant, key, "users")
			if p := e.callPage(key, "users", ""); len(p.Calls) != 0 {
				t.Fatalf("the new connection of the old name has %d calls", len(p.Calls))
			}
		})
	})
}

// TestCallLogBounds: a connection keeps its newest calls within the
// count and the byte bound; the oldest go first.
func TestCallLogBounds(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  calllog.Config
	}{
		{"count", calllog.Config{MaxCalls: 3, MaxBytes: 1 << 20}},
		{"bytes", calllog.Config{MaxCalls: 1000, MaxBytes: 2000}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := sqliteSpec(t)
			e := newEnv(t, spec, func(c *envConfig) { c.calls = tc.cfg })
			tenant, key := e.newTenant("acme")
			e.callLogConn(tenant, key, "users")
			var ids []string
			for i := range 8 {
				r := e.req("POST", "/v1/connections/users/debug", key, map[string]any{
					"function": "getUser", "input": map[string]any{"query": map[string]any{"email": fmt.Sprintf("u%d@example.com", i)}},
				}).must(t, 200)
				ids = append(ids, r.header.Get("X-Request-ID"))
				// One call at a time, so the store trims after each.
				waitFor(t, func() bool {
					p := e.callPage(key, "users", "?limit=1")
					return len(p.Calls) == 1 && p.Calls[0].RequestID == ids[i]
				})
			}
			kept := e.callPage(key, "users", "?limit=200").Calls
			if len(kept) == 0 || len(kept) >= len(ids) {
				t.Fatalf("%d calls kept of %d", len(kept), len(ids))
			}
			for i, c := range kept { // the newest, newest first
				if c.RequestID != ids[len(ids)-1-i] {
					t.Fatalf("kept %d is %s, want %s", i, c.RequestID, ids[len(ids)-1-i])
				}
			}
			switch tc.name {
			case "count":
				if len(kept) != 3 {
					t.Fatalf("%d calls kept, want 3", len(kept))
				}
			case "bytes":
				stored := e.storedCalls(t, tenant, "users")
				total := 0
				for _, c := range stored {
					total += len(c.Record)
				}
				if total > 2000 || total+len(stored[0].Record) <= 2000 {
					t.Fatalf("%d calls of %d bytes kept: not the most that fit in 2000", len(stored), total)
				}
			}
		})
	}
}

func (e *env) storedCalls(t *testing.T, tenant, conn string) []store.Call {
	t.Helper()
	calls, err := e.store.ListCalls(context.Background(), tenant, conn, store.CallQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return calls
}

// sseEvent is one event of a stream.
type sseEvent struct {
	id, event, data string
	comment         bool
}

// openStream opens a call-log stream; its events arrive on the channel,
// which closes when the stream ends. cancel closes it.
func openStream(t *testing.T, base, key, conn, lastID string) (events <-chan sseEvent, cancel func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/v1/connections/"+conn+"/calls/stream", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(res.Body)
		t.Fatalf("stream: %d %s: %s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev != (sseEvent{}) {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, ":"):
				ev.comment, ev.data = true, strings.TrimSpace(line[1:])
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	t.Cleanup(cancel)
	return ch, cancel
}

// nextCall is the stream's next call event (keepalives skipped).
func nextCall(t *testing.T, events <-chan sseEvent) callRecord {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			if ev.comment {
				continue
			}
			var c callRecord
			if err := json.Unmarshal([]byte(ev.data), &c); err != nil || ev.event != "call" || ev.id != c.ID {
				t.Fatalf("event %+v: %v", ev, err)
			}
			return c
		case <-timeout:
			t.Fatal("no call event in 30s")
		}
	}
}

// TestCallLogStream: a stream delivers a new call live, resumes after
// Last-Event-ID, sends keepalives, ends at shutdown; on PostgreSQL a
// second node's stream sees the first node's calls.
func TestCallLogStream(t *testing.T) {
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec, func(c *envConfig) { c.api.StreamHeartbeat = 20 * time.Millisecond })
		tenant, key := e.newTenant("acme")
		e.callLogConn(tenant, key, "users")
		debug := func(email string) string {
			return e.req("POST", "/v1/connections/users/debug", key, map[string]any{
				"function": "getUser", "input": map[string]any{"query": map[string]any{"email": email}},
			}).must(t, 200).header.Get("X-Request-ID")
		}
		debug("before@example.com") // in the log before the stream: not sent
		e.waitCalls(t, key, "users", 1)

		events, cancel := openStream(t, e.ts.URL, key, "users", "")
		first := debug("live@example.com")
		c := nextCall(t, events)
		if c.RequestID != first || c.Source != "debug" || c.Function != "getUser" {
			t.Fatalf("live call %+v, want request %s", c, first)
		}
		// A keepalive comes between calls.
		waitFor(t, func() bool {
			ev, ok := <-events
			return !ok || (ev.comment && ev.data == "keepalive")
		})
		cancel()

		// Two calls while no one listens; resuming after the first
		// delivers both, in order.
		missed := []string{debug("m1@example.com"), debug("m2@example.com")}
		e.waitCalls(t, key, "users", 4)
		events, cancel = openStream(t, e.ts.URL, key, "users", c.ID)
		for _, want := range missed {
			if got := nextCall(t, events); got.RequestID != want {
				t.Fatalf("resumed call %s, want %s", got.RequestID, want)
			}
		}
		defer cancel()

		if spec.name == "postgres" {
			// A second node over the same store: its stream sees this
			// node's calls (it polls the store).
			other := newEnv(t, spec, func(c *envConfig) { c.api.StreamPoll = 50 * time.Millisecond })
			oevents, ocancel := openStream(t, other.ts.URL, key, "users", "")
			defer ocancel()
			id := debug("cross@example.com")
			if got := nextCall(t, oevents); got.RequestID != id {
				t.Fatalf("node 2 streamed %s, want %s", got.RequestID, id)
			}
		}

		// Shutdown ends the open stream rather than waiting for it.
		done := make(chan error, 1)
		go func() { done <- e.srv.Shutdown(context.Background()) }()
		for range events { // drained: the server ended the stream
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestCallLogMigrationJob: the finish-migration job's connector calls
// are recorded as source migration, under the request that started it.
func TestCallLogMigrationJob(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.legacyConn(key, "legacy", "LAZY_MIGRATION", testpg.LegacyUsers(t, 5))
	r := e.req("POST", "/v1/connections/legacy/migration/finish", key, nil).must(t, 202)
	waitFor(t, func() bool {
		j, err := e.store.GetMigrationJob(t.Context(), tenant, "legacy")
		return err == nil && j.Status == store.JobDone
	})
	var p callPage
	waitFor(t, func() bool {
		p = e.callPage(key, "legacy", "?function=listUsers")
		return len(p.Calls) > 0
	})
	c := p.Calls[len(p.Calls)-1]
	if c.Source != "migration" || c.Route != "finishMigration" || c.RequestID != r.header.Get("X-Request-ID") || c.Outcome != "ok" || len(c.HostCalls) == 0 {
		t.Fatalf("the job's listUsers call %+v", c)
	}
}
