package httphost

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
)

func target(t *testing.T, key, base string) *hostconn.Target {
	t.Helper()
	allow, err := egress.ParseAllowlist([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	grant, err := egress.ParseGrant(true, []string{"127.0.0.1/32"}) // the test servers
	if err != nil {
		t.Fatal(err)
	}
	return &hostconn.Target{
		Key: key, DBType: "http", URI: base,
		Dialer: egress.NewDialer(egress.Config{}, grant, allow, nil),
		Limits: hostconn.Limits{QueryTimeout: 5 * time.Second, MaxResponseBytes: 1 << 20},
	}
}

func TestNewRequest(t *testing.T) {
	tg := target(t, "k", "https://api.example.com/v1/")
	tests := []struct {
		name    string
		in      Request
		wantURL string
		wantErr bool
		// wantCode is the error's code; "" is invalid_input.
		wantCode engine.Code
		check    func(t *testing.T, r *http.Request)
	}{
		{name: "default GET", in: Request{URL: "https://api.example.com/x#frag"}, wantURL: "https://api.example.com/x"},
		{name: "relative path", in: Request{Method: "put", URL: "users/7?x=1"}, wantURL: "https://api.example.com/v1/users/7?x=1"},
		{name: "absolute path", in: Request{URL: "/health"}, wantURL: "https://api.example.com/health"},
		{name: "hop-by-hop and Content-Length dropped", in: Request{URL: "http://h/", Body: "abc",
			Headers: map[string]HeaderValues{"connection": {"close"}, "Content-Length": {"99"}, "x-a": {"1", "2"}}},
			wantURL: "http://h/", check: func(t *testing.T, r *http.Request) {
				if r.Header.Get("Connection") != "" || r.Header.Get("Content-Length") != "" || len(r.Header.Values("X-A")) != 2 || r.ContentLength != 3 {
					t.Errorf("headers %v, length %d", r.Header, r.ContentLength)
				}
			}},
		{name: "Host refused", in: Request{URL: "http://h/", Headers: map[string]HeaderValues{"HOST": {"x"}}}, wantErr: true},
		{name: "bad header value", in: Request{URL: "http://h/", Headers: map[string]HeaderValues{"X": {"a\r\nB: c"}}}, wantErr: true},
		{name: "bad header name", in: Request{URL: "http://h/", Headers: map[string]HeaderValues{"X Y": {"a"}}}, wantErr: true},
		{name: "TRACE", in: Request{Method: "TRACE", URL: "http://h/"}, wantErr: true},
		{name: "ftp", in: Request{URL: "ftp://h/"}, wantErr: true},
		{name: "no host", in: Request{URL: "http:///x"}, wantErr: true, wantCode: engine.CodeEgressDenied},
		{name: "file", in: Request{URL: "file:///etc/passwd"}, wantErr: true, wantCode: engine.CodeEgressDenied},
		{name: "empty url", in: Request{}, wantErr: true},
		{name: "bad encoding", in: Request{URL: "http://h/", BodyEncoding: "hex"}, wantErr: true},
		{name: "bad redirect", in: Request{URL: "http://h/", Redirect: "never"}, wantErr: true},
		{name: "negative timeout", in: Request{URL: "http://h/", TimeoutMs: -1}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := newRequest(tg, &tc.in)
			if tc.wantErr {
				var ee *engine.Error
				want := tc.wantCode
				if want == "" {
					want = engine.CodeInvalidInput
				}
				if !errors.As(err, &ee) || ee.Code != want {
					t.Fatalf("error %v, want %s", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.URL.String() != tc.wantURL {
				t.Errorf("url %s, want %s", r.URL, tc.wantURL)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
	t.Run("relative without a base", func(t *testing.T) {
		pg := target(t, "k", "")
		pg.DBType = "postgres"
		if _, err := newRequest(pg, &Request{URL: "/x"}); err == nil {
			t.Fatal("relative URL accepted without a base URL")
		}
	})
}

func TestHeaderValuesJSON(t *testing.T) {
	var in Request
	if err := json.Unmarshal([]byte(`{"headers":{"A":"1","B":["2","3"]}}`), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Headers["A"]) != 1 || len(in.Headers["B"]) != 2 {
		t.Errorf("headers %v", in.Headers)
	}
	if err := json.Unmarshal([]byte(`{"headers":{"A":1}}`), &in); err == nil {
		t.Error("a number accepted as a header value")
	}
}

// TestClientCache keeps one client per configuration and drops them on
// Evict, EvictIdle and Close.
func TestClientCache(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	k := New()
	defer k.Close()
	call := func(tg *hostconn.Target) {
		t.Helper()
		var tr engine.HostCall
		out, err := k.Call(context.Background(), tg, OpRequest, []byte(`{"url":"/"}`), &tr)
		if err != nil {
			t.Fatal(err)
		}
		var resp Response
		if err := json.Unmarshal(out, &resp); err != nil || resp.Status != 200 || resp.Body != "ok" {
			t.Fatalf("response %s, %v", out, err)
		}
	}
	a1, a2, b := target(t, "a/c/1", srv.URL), target(t, "a/c/2", srv.URL), target(t, "b/c/1", srv.URL)
	steps := []struct {
		name string
		do   func()
		want int
	}{
		{"one per configuration", func() { call(a1); call(a1); call(a2); call(b) }, 3},
		{"Evict by prefix", func() { k.Evict("a/c/") }, 1},
		{"EvictIdle keeps recent", func() { call(a1); k.EvictIdle(time.Now().Add(-time.Hour)) }, 2},
		{"EvictIdle drops idle", func() { k.EvictIdle(time.Now().Add(time.Second)) }, 0},
		{"Close", func() { call(b); k.Close() }, 0},
	}
	for _, st := range steps {
		st.do()
		if got := k.Len(); got != st.want {
			t.Fatalf("%s: %d clients, want %d", st.name, got, st.want)
		}
	}
	var tr engine.HostCall
	if _, err := k.Call(context.Background(), a1, "http.get", nil, &tr); err == nil {
		t.Error("unknown op accepted")
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"https://u:p@h/x?token=1": "https://h/x",
		"/a#b":                    "/a",
		"mailto:a@b":              "mailto:a@b",
	} {
		if got := redact(in); got != want {
			t.Errorf("redact(%q) = %q, want %q", in, got, want)
		}
	}
}
