package calllog

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/store"
)

func TestRecordRedactsAndBounds(t *testing.T) {
	conn := store.Connection{
		Tenant: "tn_1", Name: "db",
		Connection: store.ConnParams{URI: "postgres://app:uri-secret-1234@db:5432/x", Password: "param-secret-99"},
		Env:        map[string]string{"API_TOKEN": "env-secret-abcd", "REGION": "eu-west-1x", "PIN": "1234"},
		PlainEnv:   []string{"REGION"},
	}
	logs := []engine.LogEntry{{Stream: "log", Level: "info", Message: "uri postgres://app:uri-secret-1234@db token env-secret-abcd pw user-pass-5678 region eu-west-1x pin 1234"}}
	for range 10 {
		logs = append(logs, engine.LogEntry{Stream: "stdout", Level: "info", Message: strings.Repeat("x", 100)})
	}
	trace := make([]engine.HostCall, 5)
	for i := range trace {
		trace[i] = engine.HostCall{Op: "sql.query", Kind: "sql", Statement: "SELECT 1", Error: "auth failed for param-secret-99"}
	}
	l := &Log{cfg: Config{MaxLogBytes: 500, MaxHostCalls: 3}}
	e := &Entry{
		At: time.Now(), Conn: conn, Source: SourceUserFlow, Route: "login", Function: "login", Version: 2,
		InputPassword: "user-pass-5678",
		Result: &engine.Result{Logs: logs, Trace: trace, Duration: 1500 * time.Microsecond,
			Error: &engine.Error{Code: engine.CodeConnectorError, Message: "failed with env-secret-abcd"}},
	}
	l.prepare(e)
	if e.Result != nil || e.size < int64(len(logs[0].Message)) {
		t.Fatalf("prepared entry keeps the Result (%v) or has no size (%d)", e.Result != nil, e.size)
	}
	rec := l.record(e)
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, secret := range []string{"uri-secret-1234", "param-secret-99", "env-secret-abcd", "user-pass-5678"} {
		if strings.Contains(text, secret) {
			t.Errorf("record holds %q: %s", secret, text)
		}
	}
	for _, kept := range []string{"eu-west-1x", "pin 1234", `"durationMs":1.5`, `"outcome":"error"`, `"code":"connector_error"`} {
		if !strings.Contains(text, kept) {
			t.Errorf("record lacks %q (a plain value, a short one, the outcome): %s", kept, text)
		}
	}
	if len(rec.Logs) != 4 || rec.LogsOmitted != 7 {
		t.Errorf("logs %d kept, %d omitted; want 4 and 7 (500 bytes)", len(rec.Logs), rec.LogsOmitted)
	}
	if len(rec.HostCalls) != 3 || rec.HostCallsOmitted != 2 {
		t.Errorf("host calls %d kept, %d omitted; want 3 and 2", len(rec.HostCalls), rec.HostCallsOmitted)
	}
	if trace[0].Error != "auth failed for param-secret-99" || !strings.Contains(logs[0].Message, "env-secret-abcd") {
		t.Error("recording changed the caller's result")
	}
}

// gated holds AppendCalls until released, so the queue fills.
type gated struct {
	store.CallStore
	entered chan struct{}
	release chan struct{}
}

func (g *gated) AppendCalls(ctx context.Context, calls []store.Call, b store.CallBounds) (int, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.CallStore.AppendCalls(ctx, calls, b)
}

// A full queue drops and counts; nothing blocks; Close writes what was
// queued.
func TestFullQueueDrops(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), MasterKey: make([]byte, store.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := st.PutConnection(ctx, store.Connection{Tenant: tn.ID, Name: "db", Mode: store.ModeLazyMigration, DBType: store.DBHTTP, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	g := &gated{CallStore: st, entered: make(chan struct{}, 10), release: make(chan struct{})}
	l := New(Config{Store: g, QueueSize: 1, BatchSize: 1})
	entry := func(id string) *Entry {
		return &Entry{At: time.Now(), Conn: conn, Source: SourceDebug, Route: "debug", Function: "getUser", RequestID: id,
			Result: &engine.Result{Logs: []engine.LogEntry{}, Trace: []engine.HostCall{}}}
	}
	l.Record(entry("r1"))
	<-g.entered           // the writer holds r1
	l.Record(entry("r2")) // queued
	l.Record(entry("r3")) // the queue is full: dropped
	close(g.release)
	if err := l.Close(ctx); err != nil {
		t.Fatal(err)
	}
	calls, err := st.ListCalls(ctx, tn.ID, "db", store.CallQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 || calls[0].RequestID != "r2" || calls[1].RequestID != "r1" {
		t.Fatalf("stored %+v, want r2 and r1", calls)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(l)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			if mf.GetName() == "sluice_call_log_records_total" {
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if got["written"] != 2 || got["dropped_queue_full"] != 1 {
		t.Fatalf("records_total %v, want 2 written and 1 dropped", got)
	}
}

// TestRedactorText: the short-secret rule, the cut after redacting, and
// a cut tail that starts a secret.
func TestRedactorText(t *testing.T) {
	r := newRedactor(&Entry{InputPassword: "Zq7", Conn: store.Connection{Env: map[string]string{"T": "long-secret-0042"}}})
	for _, tc := range []struct {
		name, in string
		max      int
		want     string
	}{
		{"short as a value", "password=Zq7 pw: Zq7 q=\"Zq7\"", 0, "password=[redacted] pw: [redacted] q=\"[redacted]\""},
		{"short whole text", "Zq7", 0, "[redacted]"},
		{"short in words left", "Zq7 starts; xZq7 aZq7b =Zq7b", 0, "Zq7 starts; xZq7 aZq7b =Zq7b"},
		{"cut after redacting", strings.Repeat("x", 10) + "long-secret-0042", 14, strings.Repeat("x", 10) + "[red…"},
		{"tail starts a secret", "panic: sent long-secr", 0, "panic: sent "},
		{"tail too short to tell", "panic: sent lon", 0, "panic: sent lon"},
		{"before a cut mark", "x long-secret-00… (trap) long-s… long-secret-", 0, "x … (trap) … "},
		{"encoded", `{"t":"long-secret-0042"} %6c%6F%6e%67%2d%73%65%63%72%65%74%2d%30%30%34%32`, 0, `{"t":"[redacted]"} %6c%6F%6e%67%2d%73%65%63%72%65%74%2d%30%30%34%32`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.text(tc.in, tc.max); got != tc.want {
				t.Fatalf("text(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestWrittenWakesItsConnection: a batch wakes the waiters of the
// connections it holds calls of, not those of others.
func TestWrittenWakesItsConnection(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), MasterKey: make([]byte, store.MasterKeySize)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.CreateTenant(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	var conns []store.Connection
	for _, name := range []string{"a", "b"} {
		c, err := st.PutConnection(ctx, store.Connection{Tenant: tn.ID, Name: name, Mode: store.ModeLazyMigration, DBType: store.DBHTTP, Enabled: true})
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	l := New(Config{Store: st, BatchSize: 1})
	defer l.Close(ctx)
	wa, wb := l.Written(tn.ID, "a"), l.Written(tn.ID, "b")
	l.Record(&Entry{At: time.Now(), Conn: conns[0], Source: SourceDebug, Route: "debug", Function: "getUser", RequestID: "r1",
		Result: &engine.Result{}})
	<-wa
	select {
	case <-wb:
		t.Fatal("a batch of connection a woke the waiters of b")
	default:
	}
	if l.Written(tn.ID, "a") == wa {
		t.Fatal("the closed channel is handed out again")
	}
}
