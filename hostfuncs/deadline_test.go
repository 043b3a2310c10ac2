package hostfuncs_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

// These tests give host calls a deadline of their own (as the engine
// does: the call's deadline) and check that each ends with timeout soon
// after it, on the real servers: a query still running, a server that
// accepts connections and never answers, a pool whose connections are
// all busy, a response that never completes.

// callDeadline is the deadline of the host calls under test; slack is
// how long after it they may end. Generous for a shared 2-core machine;
// the tests log what they measured.
const (
	callDeadline = 200 * time.Millisecond
	slack        = 50 * time.Millisecond
)

// hostCall runs op on h under a deadline of within and returns its error
// (nil on success) and how long after the deadline it ended (negative
// when before).
func hostCall(t *testing.T, h engine.Host, within time.Duration, op, req string) (*engine.Error, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var tr engine.HostCall
	start := time.Now()
	_, err := h.HostCall(ctx, op, []byte(req), &tr)
	late := time.Since(start) - within
	if err == nil {
		return nil, late
	}
	var ee *engine.Error
	if !errors.As(err, &ee) {
		t.Fatalf("%s: %T %v, want an *engine.Error", op, err, err)
	}
	return ee, late
}

// wantTimeout checks a host call ended with timeout within slack of its
// deadline.
func wantTimeout(t *testing.T, what string, ee *engine.Error, late time.Duration) {
	t.Helper()
	if ee == nil || ee.Code != engine.CodeTimeout {
		t.Errorf("%s: %v, want timeout", what, ee)
	}
	if late > slack {
		t.Errorf("%s: ended %v after its deadline, want within %v", what, late.Round(time.Millisecond), slack)
	}
	t.Logf("%s: %s %v after the deadline", what, codeOf(ee), late.Round(time.Millisecond))
}

func codeOf(ee *engine.Error) string {
	if ee == nil {
		return "ok"
	}
	return string(ee.Code)
}

// blackhole listens on loopback, accepts every connection and never
// sends a byte: a server that hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

// stallProxy forwards loopback connections to target; while stalled, it
// holds the server's bytes back (the client sees a server that stopped
// answering mid-operation).
type stallProxy struct {
	addr    string
	stalled atomic.Bool
	resume  chan struct{}
	mu      sync.Mutex
}

func newStallProxy(t *testing.T, target string) *stallProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallProxy{addr: ln.Addr().String(), resume: make(chan struct{})}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			track(c)
			track(s)
			wg.Add(2)
			go func() { defer wg.Done(); io.Copy(s, c); s.Close() }()
			go func() {
				defer wg.Done()
				buf := make([]byte, 32<<10)
				for {
					n, err := s.Read(buf)
					for p.stalled.Load() {
						p.mu.Lock()
						ch := p.resume
						p.mu.Unlock()
						select {
						case <-ch:
						case <-time.After(10 * time.Millisecond):
						}
					}
					if n > 0 {
						if _, werr := c.Write(buf[:n]); werr != nil {
							break
						}
					}
					if err != nil {
						break
					}
				}
				c.Close()
			}()
		}
	}()
	t.Cleanup(func() {
		p.stalled.Store(false)
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return p
}

func (p *stallProxy) stall(on bool) { p.stalled.Store(on) }

// sqlStmtReq is an sql.query request.
func sqlStmtReq(q string) string {
	b, _ := json.Marshal(map[string]any{"sql": q, "args": []any{}})
	return string(b)
}

func sqlSleep(db string, seconds float64) string {
	if db == "postgres" {
		return fmt.Sprintf("SELECT pg_sleep(%g)", seconds)
	}
	return fmt.Sprintf("SELECT SLEEP(%g)", seconds)
}

// TestSQLDeadline: a query running past the call's deadline, a server
// that never answers the connect, and a pool whose one connection is
// busy all end with timeout within slack of the deadline; the pool then
// serves the next query, and the server is not left running the query.
func TestSQLDeadline(t *testing.T) {
	m := sqlManager(t, hostfuncs.Config{MaxOpenConns: 1, QueryTimeout: 30 * time.Second})
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			h, err := m.Host(d.conn)
			if err != nil {
				t.Fatal(err)
			}
			// Warm: the pool has its connection.
			if ee, _ := hostCall(t, h, 10*time.Second, "sql.query", sqlStmtReq("SELECT 1")); ee != nil {
				t.Fatal(ee)
			}
			marker := fmt.Sprintf("deadline_%d", time.Now().UnixNano())
			ee, late := hostCall(t, h, callDeadline, "sql.query", sqlStmtReq(sqlSleep(d.name, 10)+" AS "+marker))
			wantTimeout(t, "query running past the deadline", ee, late)

			// The pool is not poisoned: the next query answers at once.
			start := time.Now()
			if ee, _ := hostCall(t, h, 5*time.Second, "sql.query", sqlStmtReq("SELECT 7")); ee != nil {
				t.Fatalf("the query after the timeout: %v", ee)
			}
			t.Logf("the next query took %v", time.Since(start).Round(time.Millisecond))
			// And the server stopped the abandoned query.
			waitServerIdle(t, d.name, marker)

			// The pool's one connection busy: waiting for it ends at the deadline.
			busy := make(chan *engine.Error, 1)
			go func() {
				ee, _ := hostCall(t, h, 10*time.Second, "sql.query", sqlStmtReq(sqlSleep(d.name, 1.5)))
				busy <- ee
			}()
			time.Sleep(300 * time.Millisecond)
			ee, late = hostCall(t, h, callDeadline, "sql.query", sqlStmtReq("SELECT 1"))
			wantTimeout(t, "waiting for the pool's busy connection", ee, late)
			if ee := <-busy; ee != nil {
				t.Errorf("the query holding the connection: %v", ee)
			}
		})
	}
	// Named by a host name the allowlist names: the server still gets
	// the cancel request (to the connection's literal address) and stops
	// a statement that would run for minutes.
	t.Run("postgres by name", func(t *testing.T) {
		u, err := url.Parse(sqlPGDSN())
		if err != nil {
			t.Fatal(err)
		}
		if u.Hostname() != "127.0.0.1" {
			t.Skipf("the test PostgreSQL is at %s, not 127.0.0.1", u.Host)
		}
		u.Host = "localhost:" + u.Port()
		conn := granted(hostfuncs.Connection{Tenant: sqlName("t"), Name: "byname", ConfigVersion: 1, DBType: "postgres",
			URI: u.String(), Allowlist: []string{u.Host}})
		h, err := m.Host(conn)
		if err != nil {
			t.Fatal(err)
		}
		// Warm, so that the statement reaches the server well before the
		// deadline: a cancel request arriving before the statement starts
		// cancels nothing (PostgreSQL's protocol), and the server would
		// then run it to its end on the closed connection.
		if ee, _ := hostCall(t, h, 10*time.Second, "sql.query", sqlStmtReq("SELECT 1")); ee != nil {
			t.Fatal(ee)
		}
		marker := fmt.Sprintf("deadline_%d", time.Now().UnixNano())
		ee, late := hostCall(t, h, callDeadline, "sql.query", sqlStmtReq("SELECT count(*) AS "+marker+" FROM generate_series(1, 5000000000)"))
		wantTimeout(t, "a statement of minutes", ee, late)
		waitServerIdle(t, "postgres", marker)
	})
	for _, db := range []string{"postgres", "mysql"} {
		t.Run(db+" server not answering", func(t *testing.T) {
			addr := blackhole(t)
			uri := "postgres://postgres@" + addr + "/test?sslmode=disable"
			if db == "mysql" {
				uri = "root@tcp(" + addr + ")/test"
			}
			conn := granted(hostfuncs.Connection{Tenant: sqlName("t"), Name: "hang", ConfigVersion: 1, DBType: db, URI: uri, Allowlist: []string{"127.0.0.1"}})
			h, err := m.Host(conn)
			if err != nil {
				t.Fatal(err)
			}
			ee, late := hostCall(t, h, callDeadline, "sql.query", sqlStmtReq("SELECT 1"))
			wantTimeout(t, "connect to a server that never answers", ee, late)
		})
	}
}

// waitServerIdle fails unless, within five seconds (the cancel request
// or KILL QUERY goes out in the background; the machine may be busy),
// no session of the test server is running a statement containing
// marker.
func waitServerIdle(t *testing.T, dbName, marker string) {
	t.Helper()
	driver, dsn, q := "pgx", sqlPGDSN(), "SELECT COUNT(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()"
	if dbName == "mysql" {
		driver, dsn, q = "mysql", sqlMyDSN(), "SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE CONCAT('%', ?, '%') AND id <> CONNECTION_ID()"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	start := time.Now()
	// A statement the cancel request stopped ends at once; one the cancel
	// request missed (it had not started when the request arrived) ends
	// when the server notices the closed connection
	// (client_connection_check_interval, PostgreSQL 14+), later on a busy
	// machine. Either is far from the minutes the statement would run.
	deadline := start.Add(30 * time.Second)
	for {
		var n int
		if err := db.QueryRow(q, marker).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Logf("the server stopped the abandoned statement within %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the server still runs the abandoned statement (%d sessions) %v after the timeout", n, time.Since(start).Round(time.Second))
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMongoDeadline: a server that never answers, and one that stops
// answering in the middle of an operation, end with timeout within slack
// of the deadline; the client then serves the next operation.
func TestMongoDeadline(t *testing.T) {
	m := mongoManager(t, hostfuncs.Config{QueryTimeout: 30 * time.Second})
	t.Run("server not answering", func(t *testing.T) {
		conn := granted(hostfuncs.Connection{Tenant: "t-hang", Name: "mongo", ConfigVersion: 1, DBType: "mongodb",
			URI: "mongodb://" + blackhole(t) + "/app", Allowlist: []string{"127.0.0.1"}})
		h := mongoHost(t, m, conn)
		ee, late := hostCall(t, h, callDeadline, "mongo.findOne", `{"collection":"users","filter":{"email":"a@b.c"}}`)
		wantTimeout(t, "findOne on a server that never answers", ee, late)
	})
	t.Run("server stops answering", func(t *testing.T) {
		conn := mongoConn(t)
		p := newStallProxy(t, mongoServer(t))
		conn.URI = strings.Replace(conn.URI, mongoServer(t), p.addr, 1)
		h := mongoHost(t, m, conn)
		if ee, _ := hostCall(t, h, 10*time.Second, "mongo.insertOne", `{"collection":"users","document":{"email":"a@b.c"}}`); ee != nil {
			t.Fatal(ee)
		}
		p.stall(true)
		ee, late := hostCall(t, h, callDeadline, "mongo.findOne", `{"collection":"users","filter":{"email":"a@b.c"}}`)
		p.stall(false)
		wantTimeout(t, "findOne while the server stalls", ee, late)
		start := time.Now()
		if ee, _ := hostCall(t, h, 10*time.Second, "mongo.findOne", `{"collection":"users","filter":{"email":"a@b.c"}}`); ee != nil {
			t.Fatalf("the next findOne: %v", ee)
		}
		t.Logf("the next findOne took %v", time.Since(start).Round(time.Millisecond))
	})
}

// TestHTTPDeadline: a service slow to answer, one that never answers
// the connection, and one that stops in the middle of the body end with
// timeout within slack of the call's deadline, even when the request's
// own timeoutMs is longer.
func TestHTTPDeadline(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{QueryTimeout: 30 * time.Second})
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/slow":
			select {
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			case <-stop:
			}
		case "/body":
			w.Header().Set("Content-Length", "1000")
			w.Write([]byte("part of the body"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(func() { close(stop); srv.Close() })
	hang := "http://" + blackhole(t)
	for _, tc := range []struct{ name, url string }{
		{"slow to answer", srv.URL + "/slow"},
		{"stops in the body", srv.URL + "/body"},
		{"never answers the connection", hang + "/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, err := m.Host(httpConn(t, srv.URL))
			if err != nil {
				t.Fatal(err)
			}
			req, _ := json.Marshal(map[string]any{"method": "GET", "url": tc.url, "timeoutMs": 5000})
			ee, late := hostCall(t, h, callDeadline, "http.request", string(req))
			wantTimeout(t, tc.name, ee, late)
		})
	}
}

// stuckResolver answers nothing until the lookup's context ends: DNS
// that hangs.
type stuckResolver struct{}

func (stuckResolver) LookupNetIP(ctx context.Context, _, host string) ([]netip.Addr, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestMongoDeadlineDNS: while one call's client is being made (its name
// does not resolve), a second call of the same connection waits for it
// only until its own deadline.
func TestMongoDeadlineDNS(t *testing.T) {
	m := mongoManager(t, hostfuncs.Config{QueryTimeout: 30 * time.Second, Egress: egress.Config{Resolver: stuckResolver{}}})
	conn := granted(hostfuncs.Connection{Tenant: "t-dns", Name: "mongo", ConfigVersion: 1, DBType: "mongodb",
		URI: "mongodb://stuck.example.com:27017/app", Allowlist: []string{"stuck.example.com"}})
	h := mongoHost(t, m, conn)
	first := make(chan struct{})
	go func() {
		defer close(first)
		ee, late := hostCall(t, h, time.Second, "mongo.findOne", `{"collection":"users","filter":{}}`)
		wantTimeout(t, "the call making the client", ee, late)
	}()
	time.Sleep(50 * time.Millisecond)
	ee, late := hostCall(t, h, callDeadline, "mongo.findOne", `{"collection":"users","filter":{}}`)
	wantTimeout(t, "a call waiting for the client", ee, late)
	<-first
}
