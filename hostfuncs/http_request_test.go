package hostfuncs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// httpEchoServer answers /echo with what it received as JSON (status from
// ?status=), /binary with the request body as octet-stream, and /to?u=
// with a 302 to u.
func httpEchoServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		status := http.StatusOK
		if s := r.URL.Query().Get("status"); s != "" {
			status, _ = strconv.Atoi(s)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "yes")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{
			"method": r.Method, "path": r.URL.Path, "host": r.Host,
			"test": r.Header.Values("X-Test"), "contentType": r.Header.Get("Content-Type"),
			"body": string(body),
		})
	})
	mux.HandleFunc("/binary", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(body)
	})
	mux.HandleFunc("/to", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.Query().Get("u"), http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func httpConn(t *testing.T, base string, allow ...string) hostfuncs.Connection {
	if len(allow) == 0 {
		allow = []string{"127.0.0.1"}
	}
	return granted(hostfuncs.Connection{Tenant: "t-" + t.Name(), Name: "web", ConfigVersion: 1, DBType: "http", URI: base, Allowlist: allow})
}

func httpJSONBody(t *testing.T, out map[string]any) map[string]any {
	t.Helper()
	s, _ := out["body"].(string)
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("body %q: %v", s, err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %q: %v", b, err)
	}
	return v
}

func httpB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestHTTPRequestSDK sends requests with the Go SDK's http.Client from a
// guest and checks what the server saw and what the guest got back.
func TestHTTPRequestSDK(t *testing.T) {
	srv := httpEchoServer(t)
	m := newHTTPManager(t, httpConfig)
	conn := httpConn(t, srv.URL)

	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	tests := []struct {
		name       string
		cmd        map[string]any
		wantStatus float64
		check      func(t *testing.T, out map[string]any)
	}{
		{
			name:       "GET with headers",
			cmd:        map[string]any{"method": "GET", "url": srv.URL + "/echo", "headers": map[string][]string{"X-Test": {"a", "b"}}},
			wantStatus: 200,
			check: func(t *testing.T, out map[string]any) {
				got := httpJSONBody(t, out)
				if got["method"] != "GET" || got["path"] != "/echo" {
					t.Errorf("server saw %v", got)
				}
				if test, _ := json.Marshal(got["test"]); string(test) != `["a","b"]` {
					t.Errorf("X-Test = %s, want [a b]", test)
				}
				if h, _ := out["headers"].(map[string]any); h["X-Echo"] == nil {
					t.Errorf("response headers %v lack X-Echo", h)
				}
			},
		},
		{
			name: "POST JSON",
			cmd: map[string]any{"method": "POST", "url": srv.URL + "/echo", "body": httpB64(`{"email":"a@example.com"}`),
				"headers": map[string][]string{"Content-Type": {"application/json"}}},
			wantStatus: 200,
			check: func(t *testing.T, out map[string]any) {
				got := httpJSONBody(t, out)
				if got["method"] != "POST" || got["body"] != `{"email":"a@example.com"}` || got["contentType"] != "application/json" {
					t.Errorf("server saw %v", got)
				}
			},
		},
		{
			name:       "binary body round trip",
			cmd:        map[string]any{"method": "PUT", "url": srv.URL + "/binary", "body": base64.StdEncoding.EncodeToString(binary)},
			wantStatus: 200,
			check: func(t *testing.T, out map[string]any) {
				b, _ := base64.StdEncoding.DecodeString(out["body"].(string))
				if !bytes.Equal(b, binary) {
					t.Errorf("body came back as %x, want %x", b, binary)
				}
			},
		},
		{
			name:       "non-2xx passes through",
			cmd:        map[string]any{"method": "DELETE", "url": srv.URL + "/echo?status=418"},
			wantStatus: 418,
			check: func(t *testing.T, out map[string]any) {
				if got := httpJSONBody(t, out); got["method"] != "DELETE" {
					t.Errorf("server saw %v", got)
				}
			},
		},
		{
			name:       "redirect to an allowed address is followed",
			cmd:        map[string]any{"method": "GET", "url": srv.URL + "/to?u=" + url.QueryEscape(srv.URL+"/echo?status=201")},
			wantStatus: 201,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := httpProbe(t, m, conn, map[string]any{"http": tc.cmd})
			if code := httpProbeErr(out); code != "" {
				t.Fatalf("request failed: %v", out["error"])
			}
			if out["status"] != tc.wantStatus {
				t.Fatalf("status %v, want %v", out["status"], tc.wantStatus)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
}

// TestHTTPRequestOp drives the http.request operation itself, as a guest
// in another language would.
func TestHTTPRequestOp(t *testing.T) {
	srv := httpEchoServer(t)
	m := newHTTPManager(t, httpConfig)
	conn := httpConn(t, srv.URL+"/")
	addr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name     string
		raw      map[string]any
		wantCode string
		check    func(t *testing.T, out map[string]any, tr engine.HostCall)
	}{
		{
			name: "relative URL resolves against the base; trace hides the query",
			raw:  map[string]any{"method": "post", "url": "echo?status=202&token=secret", "headers": map[string]any{"X-Test": "one"}, "body": "héllo"},
			check: func(t *testing.T, out map[string]any, tr engine.HostCall) {
				if out["status"] != 202.0 || out["bodyEncoding"] != "text" {
					t.Fatalf("got %v", out)
				}
				var got map[string]any
				json.Unmarshal([]byte(out["body"].(string)), &got)
				if got["body"] != "héllo" || got["method"] != "POST" || got["host"] != addr {
					t.Errorf("server saw %v", got)
				}
				if tr.Kind != "http" || tr.Target != addr || tr.Statement != "POST http://"+addr+"/echo" {
					t.Errorf("trace %+v", tr)
				}
			},
		},
		{
			name: "binary response is base64",
			raw:  map[string]any{"method": "POST", "url": srv.URL + "/binary", "body": "/wD+", "bodyEncoding": "base64"},
			check: func(t *testing.T, out map[string]any, tr engine.HostCall) {
				if out["bodyEncoding"] != "base64" || out["body"] != "/wD+" {
					t.Errorf("got %v", out)
				}
			},
		},
		{
			name: "manual redirect returns the 302",
			raw:  map[string]any{"url": srv.URL + "/to?u=/echo", "redirect": "manual"},
			check: func(t *testing.T, out map[string]any, tr engine.HostCall) {
				h, _ := out["headers"].(map[string]any)
				if out["status"] != 302.0 || h["Location"] == nil {
					t.Errorf("got %v", out)
				}
			},
		},
		{name: "Host header refused", raw: map[string]any{"url": srv.URL + "/echo", "headers": map[string]any{"host": "evil.example"}}, wantCode: "invalid_input"},
		{name: "method not allowed", raw: map[string]any{"method": "CONNECT", "url": srv.URL + "/echo"}, wantCode: "invalid_input"},
		{name: "scheme not allowed", raw: map[string]any{"url": "ftp://example.com/x"}, wantCode: "invalid_input"},
		{name: "file url refused", raw: map[string]any{"url": "file:///etc/passwd"}, wantCode: "egress_denied"},
		{name: "bad base64 body", raw: map[string]any{"method": "POST", "url": srv.URL, "body": "!!", "bodyEncoding": "base64"}, wantCode: "invalid_input"},
		{name: "connection refused", raw: map[string]any{"url": "http://127.0.0.1:1/"}, wantCode: "http_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, res := httpProbe(t, m, conn, map[string]any{"raw": tc.raw})
			if code := httpProbeErr(out); code != tc.wantCode {
				t.Fatalf("error code %q, want %q (%v)", code, tc.wantCode, out)
			}
			if len(res.Trace) != 1 {
				t.Fatalf("trace %+v, want one entry", res.Trace)
			}
			if tc.check != nil {
				tc.check(t, out, res.Trace[0])
			}
		})
	}
}

// TestHTTPWebServiceLogin runs a realistic web-service connector against
// a legacy authentication API.
func TestHTTPWebServiceLogin(t *testing.T) {
	type account struct {
		uid      int
		password string
	}
	accounts := map[string]account{"ada@example.com": {7, "lovelace"}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/authenticate", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-123" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad key", http.StatusForbidden)
			return
		}
		var in struct{ Email, Password string }
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		a, ok := accounts[in.Email]
		switch {
		case !ok:
			http.Error(w, `{"error":"no such user"}`, http.StatusNotFound)
		case a.password != in.Password:
			http.Error(w, `{"error":"bad credentials"}`, http.StatusUnauthorized)
		default:
			json.NewEncoder(w).Encode(map[string]any{"uid": a.uid, "mail": in.Email, "nick": "Ada", "verified": true})
		}
	})
	mux.HandleFunc("GET /api/v1/users", func(w http.ResponseWriter, r *http.Request) {
		email := r.URL.Query().Get("email")
		a, ok := accounts[email]
		if !ok {
			http.NotFound(w, r)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"uid": a.uid, "mail": email, "nick": "Ada"})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	m := newHTTPManager(t, httpConfig)
	conn := httpConn(t, srv.URL)
	ctx := map[string]any{"tenant": conn.Tenant, "connection": conn.Name, "requestId": "r1"}

	tests := []struct {
		name, email, password string
		wantCode              engine.Code
		wantUser              string
	}{
		{name: "success", email: "ada@example.com", password: "lovelace", wantUser: `{"id":"7","email":"ada@example.com","emailVerified":true,"nickname":"Ada"}`},
		{name: "401 is wrong_password", email: "ada@example.com", password: "babbage", wantCode: engine.CodeWrongPassword},
		{name: "404 is user_not_found", email: "nobody@example.com", password: "x", wantCode: engine.CodeUserNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			input := map[string]any{"query": map[string]any{"email": tc.email}, "password": tc.password, "context": ctx}
			res, err := httpGuestCall(t, m, conn, "webservice", "login", input)
			if tc.wantCode != "" {
				if err == nil || err.Code != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("login: %v (logs %v)", err, res.Logs)
			}
			if string(res.Output) != tc.wantUser {
				t.Errorf("user %s, want %s", res.Output, tc.wantUser)
			}
			if len(res.Trace) != 1 || res.Trace[0].Statement != "POST "+srv.URL+"/api/v1/authenticate" {
				t.Errorf("trace %+v", res.Trace)
			}
		})
	}
	t.Run("getUser", func(t *testing.T) {
		res, err := httpGuestCall(t, m, conn, "webservice", "getUser", map[string]any{"query": map[string]any{"email": "ada@example.com"}, "context": ctx})
		if err != nil || string(res.Output) != `{"id":"7","email":"ada@example.com","nickname":"Ada"}` {
			t.Fatalf("getUser = %s, %v", res.Output, err)
		}
		res, err = httpGuestCall(t, m, conn, "webservice", "getUser", map[string]any{"query": map[string]any{"email": "nobody@example.com"}, "context": ctx})
		if err != nil || string(res.Output) != "null" {
			t.Fatalf("getUser of nobody = %s, %v", res.Output, err)
		}
	})
}

// TestHTTPResponseLimit refuses responses over MaxResponseBytes, with or
// without a Content-Length.
func TestHTTPResponseLimit(t *testing.T) {
	big := strings.Repeat("x", 200<<10)
	mux := http.NewServeMux()
	mux.HandleFunc("/sized", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, big) })
	mux.HandleFunc("/streamed", func(w http.ResponseWriter, r *http.Request) {
		for range 20 {
			io.WriteString(w, big[:10<<10])
			w.(http.Flusher).Flush()
		}
	})
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := httpConfig
	cfg.MaxResponseBytes = 64 << 10
	m := newHTTPManager(t, cfg)
	conn := httpConn(t, srv.URL)
	for _, path := range []string{"/sized", "/streamed"} {
		t.Run(path, func(t *testing.T) {
			out, res := httpProbe(t, m, conn, map[string]any{"http": map[string]any{"method": "GET", "url": srv.URL + path}})
			if code := httpProbeErr(out); code != "resource_exhausted" {
				t.Fatalf("got %v, want resource_exhausted", out)
			}
			if res.Trace[0].Error == "" {
				t.Errorf("trace %+v has no error", res.Trace[0])
			}
		})
	}
	t.Run("small passes", func(t *testing.T) {
		out, _ := httpProbe(t, m, conn, map[string]any{"http": map[string]any{"method": "GET", "url": srv.URL + "/small"}})
		if out["status"] != 200.0 || out["body"] != httpB64("ok") {
			t.Fatalf("got %v", out)
		}
	})
}

// TestHTTPTimeout ends a request to a server that does not answer with
// timeout, by the host's per-request timeout and by the guest's context
// deadline, and the client keeps working afterwards.
func TestHTTPTimeout(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	mux := http.NewServeMux()
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	mux.HandleFunc("/fast", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "fast") })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	cfg := httpConfig
	cfg.QueryTimeout = 300e6 // 300ms
	m := newHTTPManager(t, cfg)
	conn := httpConn(t, srv.URL)

	tests := []struct {
		name string
		cmd  map[string]any
	}{
		{"host timeout", map[string]any{"method": "GET", "url": srv.URL + "/slow"}},
		{"raw timeoutMs", map[string]any{"raw": true}},
		{"guest context deadline", map[string]any{"method": "GET", "url": srv.URL + "/slow", "timeoutMs": 100}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := map[string]any{"http": tc.cmd}
			if tc.cmd["raw"] != nil {
				cmd = map[string]any{"raw": map[string]any{"url": srv.URL + "/slow", "timeoutMs": 100}}
			}
			out, res := httpProbe(t, m, conn, cmd)
			if code := httpProbeErr(out); code != "timeout" {
				t.Fatalf("got %v, want timeout", out)
			}
			if res.Trace[0].Error == "" {
				t.Errorf("trace %+v has no error", res.Trace[0])
			}
			out, _ = httpProbe(t, m, conn, map[string]any{"http": map[string]any{"method": "GET", "url": srv.URL + "/fast"}})
			if out["status"] != 200.0 || out["body"] != httpB64("fast") {
				t.Fatalf("after the timeout: %v", out)
			}
		})
	}
}

// TestHTTPRedirectDenied refuses redirects from an allowed server to a
// denied address, before anything is sent there.
func TestHTTPRedirectDenied(t *testing.T) {
	srv := httpEchoServer(t)
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { otherHits.Add(1) }))
	t.Cleanup(other.Close)
	srvAddr := strings.TrimPrefix(srv.URL, "http://")

	tests := []struct {
		name   string
		allow  []string
		target string
		sdk    bool
	}{
		{"metadata, host follows", []string{"127.0.0.1"}, "http://169.254.169.254/latest/meta-data/", false},
		{"metadata, SDK follows", []string{"127.0.0.1"}, "http://169.254.169.254/latest/meta-data/", true},
		{"other port, host follows", []string{srvAddr}, other.URL + "/x", false},
		{"other port, SDK follows", []string{srvAddr}, other.URL + "/x", true},
		{"file url, host follows", []string{"127.0.0.1"}, "file:///etc/passwd", false},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := newHTTPManager(t, httpConfig)
			conn := httpConn(t, srv.URL, tc.allow...)
			conn.Tenant += strconv.Itoa(i)
			from := srv.URL + "/to?u=" + url.QueryEscape(tc.target)
			cmd := map[string]any{"raw": map[string]any{"url": from}}
			if tc.sdk {
				cmd = map[string]any{"http": map[string]any{"method": "GET", "url": from}}
			}
			out, res := httpProbe(t, m, conn, cmd)
			if code := httpProbeErr(out); code != "egress_denied" {
				t.Fatalf("got %v, want egress_denied", out)
			}
			last := res.Trace[len(res.Trace)-1]
			if !last.Denied {
				t.Errorf("trace %+v not marked denied", res.Trace)
			}
			if tc.sdk && (len(res.Trace) != 2 || res.Trace[0].Denied || res.Trace[1].Target != httpHostPort(t, tc.target)) {
				t.Errorf("trace %+v, want the allowed hop then the denied one", res.Trace)
			}
		})
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the denied server got %d requests", n)
	}
}

func httpHostPort(t *testing.T, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if u.Port() == "" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return u.Host
}

// TestHTTPPrivateDenied refuses a loopback server to a tenant without a
// private-network grant, even though its connection allowlisted it.
func TestHTTPPrivateDenied(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(srv.Close)
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := httpConn(t, srv.URL)
	conn.AllowPrivateNetworks = false
	out, res := httpProbe(t, m, conn, map[string]any{"http": map[string]any{"method": "GET", "url": srv.URL + "/"}})
	if code := httpProbeErr(out); code != "egress_denied" {
		t.Fatalf("got %v, want egress_denied", out)
	}
	if !res.Trace[0].Denied || res.Trace[0].Target != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("trace %+v", res.Trace[0])
	}
	if hits.Load() != 0 {
		t.Errorf("the server got %d requests", hits.Load())
	}
}

// TestHTTPConfigEviction checks that a connection's client is dropped by
// Manager.Evict and not shared with a newer configuration version: each
// gets a new TCP connection, while requests of one client reuse theirs.
func TestHTTPConfigEviction(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	m := newHTTPManager(t, httpConfig)
	conn := httpConn(t, srv.URL)
	get := func(c hostfuncs.Connection) {
		t.Helper()
		out, _ := httpProbe(t, m, c, map[string]any{"raw": map[string]any{"url": srv.URL + "/"}})
		if out["status"] != 200.0 {
			t.Fatalf("got %v", out)
		}
	}
	steps := []struct {
		name      string
		before    func()
		conn      func() hostfuncs.Connection
		wantConns int32
	}{
		{"first request", nil, func() hostfuncs.Connection { return conn }, 1},
		{"same configuration reuses the connection", nil, func() hostfuncs.Connection { return conn }, 1},
		{"after Evict", func() { m.Evict(conn.Tenant, conn.Name) }, func() hostfuncs.Connection { return conn }, 2},
		{"new configuration version", nil, func() hostfuncs.Connection { c := conn; c.ConfigVersion = 2; return c }, 3},
		{"same again", nil, func() hostfuncs.Connection { c := conn; c.ConfigVersion = 2; return c }, 3},
		// A pool never serves a call made under another grant; the
		// grant given back finds its pool until Evict closes it.
		{"another grant", nil, func() hostfuncs.Connection {
			c := conn
			c.ConfigVersion, c.PrivateNetworks = 2, append([]string{"10.0.0.0/8"}, conn.PrivateNetworks...)
			return c
		}, 4},
		{"the first grant again", nil, func() hostfuncs.Connection { c := conn; c.ConfigVersion = 2; return c }, 4},
		{"after Evict again", func() { m.Evict(conn.Tenant, conn.Name) }, func() hostfuncs.Connection { c := conn; c.ConfigVersion = 2; return c }, 5},
	}
	for _, st := range steps {
		if st.before != nil {
			st.before()
		}
		get(st.conn())
		if n := conns.Load(); n != st.wantConns {
			t.Fatalf("%s: the server saw %d connections, want %d", st.name, n, st.wantConns)
		}
	}
}
