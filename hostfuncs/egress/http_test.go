package egress_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs/egress"
)

func TestHTTP(t *testing.T) {
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		otherHits.Add(1)
		io.WriteString(w, "other")
	}))
	t.Cleanup(other.Close)
	allowed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if to := r.URL.Query().Get("to"); to != "" {
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		io.WriteString(w, "ok")
	}))
	t.Cleanup(allowed.Close)
	allowedAddr := strings.TrimPrefix(allowed.URL, "http://")

	resolver := newResolver(map[string][]string{"metadata.example.com": {"169.254.169.254"}})
	// Loopback needs a grant naming it; only the allowed server's port
	// is allowlisted, so the other server (same IP, other port) is not.
	newClient := func(t *testing.T, withCheckRedirect bool) (*http.Client, *fixture) {
		f := newFixture(t, grant(t, true, "127.0.0.1/32"), resolver, allowedAddr, "*.example.com")
		c := egress.HTTPClient(f.d)
		if !withCheckRedirect {
			c = &http.Client{Transport: egress.HTTPTransport(f.d)}
		}
		t.Cleanup(c.CloseIdleConnections)
		return c, f
	}
	get := func(c *http.Client, u string) (string, error) {
		resp, err := c.Get(u)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	redirect := func(to string) string { return allowed.URL + "/?to=" + url.QueryEscape(to) }

	t.Run("allowed server", func(t *testing.T) {
		c, _ := newClient(t, true)
		body, err := get(c, allowed.URL)
		if err != nil || body != "ok" {
			t.Fatalf("GET allowed = %q, %v", body, err)
		}
	})

	denied := []struct {
		name, to, reason string
		checkRedirect    bool
	}{
		{"redirect to metadata literal", "http://169.254.169.254/latest/meta-data/", "cloud metadata", true},
		{"redirect to name resolving to metadata", "http://metadata.example.com/", "cloud metadata", true},
		{"redirect to other port", other.URL + "/", egress.ReasonNotAllowlisted, true},
		{"transport alone refuses redirect", other.URL + "/", egress.ReasonNotAllowlisted, false},
		{"transport alone refuses metadata", "http://169.254.169.254/", "cloud metadata", false},
	}
	for _, tc := range denied {
		t.Run(tc.name, func(t *testing.T) {
			c, f := newClient(t, tc.checkRedirect)
			before := otherHits.Load()
			_, err := get(c, redirect(tc.to))
			var de *egress.DeniedError
			if !errors.As(err, &de) || !strings.Contains(de.Reason, tc.reason) {
				t.Fatalf("GET redirect to %s: err = %v, want *DeniedError %q", tc.to, err, tc.reason)
			}
			if otherHits.Load() != before {
				t.Error("the denied server was reached")
			}
			for _, a := range f.connects.list() {
				if a != allowedAddr {
					t.Errorf("connected to %s, want only %s", a, allowedAddr)
				}
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if last := f.events[len(f.events)-1]; !last.Denied || last.CheckOnly != tc.checkRedirect {
				t.Errorf("last event = %+v, want a denial (CheckOnly %v)", last, tc.checkRedirect)
			}
		})
	}

	t.Run("redirect to other scheme", func(t *testing.T) {
		c, _ := newClient(t, true)
		if _, err := get(c, redirect("ftp://203.0.113.7/x")); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
			t.Fatalf("err = %v, want unsupported scheme", err)
		}
	})

	t.Run("proxy disabled", func(t *testing.T) {
		_, f := newClient(t, true)
		if egress.HTTPTransport(f.d).Proxy != nil {
			t.Fatal("HTTPTransport sets a Proxy: an environment proxy would bypass the gate")
		}
	})
}
