//go:build !wasip1

package sluicehttp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	sluicehttp "github.com/sluice-dev/sluice/guest-sdk/http"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// sent is the http.request the fake host received.
type sent struct {
	Method       string              `json:"method"`
	URL          string              `json:"url"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding"`
	TimeoutMs    int64               `json:"timeoutMs"`
	Redirect     string              `json:"redirect"`
}

// run calls do inside a connector call whose host answers http.request
// with answer (a result JSON) or fails with answerErr.
func run(t *testing.T, answer string, answerErr error, do func(ctx context.Context) error) (sent, error) {
	t.Helper()
	var got sent
	h := sluicetest.New(t)
	h.HostCall = func(op string, req []byte) ([]byte, error) {
		if op != sluicehttp.Op {
			t.Errorf("op %q", op)
		}
		if err := json.Unmarshal(req, &got); err != nil {
			t.Errorf("request %s: %v", req, err)
		}
		return []byte(answer), answerErr
	}
	var runErr error
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		runErr = do(ctx)
		return nil, nil
	})
	t.Cleanup(func() { getuser.Handle(nil) })
	if out, status := h.Call("getUser", `{"query":{"id":"1"}}`); status != 0 {
		t.Fatalf("getUser failed: %s", out)
	}
	return got, runErr
}

func TestTransport(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		do      func(ctx context.Context, c *http.Client) (*http.Response, error)
		wantReq sent
		check   func(t *testing.T, resp *http.Response, body []byte)
	}{
		{
			name:   "POST JSON",
			answer: `{"status":201,"headers":{"Content-Type":["application/json"]},"body":"{\"ok\":true}","bodyEncoding":"text"}`,
			do: func(ctx context.Context, c *http.Client) (*http.Response, error) {
				return c.Post("https://api.example.com/login?x=1", "application/json", strings.NewReader(`{"a":1}`))
			},
			wantReq: sent{Method: "POST", URL: "https://api.example.com/login?x=1", Body: `{"a":1}`, Redirect: "manual",
				Headers: map[string][]string{"Content-Type": {"application/json"}}},
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if resp.StatusCode != 201 || resp.Status != "201 Created" || string(body) != `{"ok":true}` ||
					resp.Header.Get("Content-Type") != "application/json" || resp.ContentLength != 11 {
					t.Errorf("response %+v body %q", resp, body)
				}
			},
		},
		{
			name:   "binary both ways",
			answer: `{"status":200,"headers":{},"body":"/wD+","bodyEncoding":"base64"}`,
			do: func(ctx context.Context, c *http.Client) (*http.Response, error) {
				req, _ := http.NewRequestWithContext(ctx, "PUT", "https://h/bin", bytes.NewReader([]byte{0xff, 0, 0xfe}))
				return c.Do(req)
			},
			wantReq: sent{Method: "PUT", URL: "https://h/bin", Body: "/wD+", BodyEncoding: "base64", Redirect: "manual"},
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if !bytes.Equal(body, []byte{0xff, 0, 0xfe}) {
					t.Errorf("body %x", body)
				}
			},
		},
		{
			name:   "404 is a response",
			answer: `{"status":404,"headers":{},"body":"","bodyEncoding":"text"}`,
			do: func(ctx context.Context, c *http.Client) (*http.Response, error) {
				return c.Get("http://h/missing")
			},
			wantReq: sent{Method: "GET", URL: "http://h/missing", Redirect: "manual"},
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if resp.StatusCode != 404 {
					t.Errorf("status %d", resp.StatusCode)
				}
			},
		},
		{
			name:   "HEAD keeps Content-Length",
			answer: `{"status":200,"headers":{"Content-Length":["42"]},"body":"","bodyEncoding":"text"}`,
			do: func(ctx context.Context, c *http.Client) (*http.Response, error) {
				return c.Head("http://h/")
			},
			wantReq: sent{Method: "HEAD", URL: "http://h/", Redirect: "manual"},
			check: func(t *testing.T, resp *http.Response, body []byte) {
				if resp.ContentLength != 42 {
					t.Errorf("ContentLength %d", resp.ContentLength)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var resp *http.Response
			var body []byte
			got, err := run(t, tc.answer, nil, func(ctx context.Context) error {
				var err error
				if resp, err = tc.do(ctx, sluicehttp.Client()); err != nil {
					return err
				}
				defer resp.Body.Close()
				body, err = io.ReadAll(resp.Body)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			gotJSON, _ := json.Marshal(got)
			wantJSON, _ := json.Marshal(tc.wantReq)
			if !bytes.Equal(gotJSON, wantJSON) {
				t.Errorf("request\n got %s\nwant %s", gotJSON, wantJSON)
			}
			tc.check(t, resp, body)
		})
	}
}

func TestTransportErrors(t *testing.T) {
	t.Run("host error reaches the caller", func(t *testing.T) {
		denied := &sluice.Error{Code: sluice.CodeEgressDenied, Message: "169.254.169.254:80 is link-local (cloud metadata)"}
		_, err := run(t, "", denied, func(ctx context.Context) error {
			_, err := sluicehttp.Client().Get("http://169.254.169.254/")
			return err
		})
		var se *sluice.Error
		if !errors.As(err, &se) || se.Code != sluice.CodeEgressDenied {
			t.Fatalf("error %v, want egress_denied", err)
		}
	})
	t.Run("context deadline becomes timeoutMs", func(t *testing.T) {
		got, err := run(t, `{"status":204,"headers":{},"body":"","bodyEncoding":"text"}`, nil, func(ctx context.Context) error {
			c := &http.Client{Transport: &sluicehttp.Transport{}, Timeout: 3 * time.Second}
			resp, err := c.Get("http://h/")
			if err == nil {
				resp.Body.Close()
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.TimeoutMs <= 0 || got.TimeoutMs > 3000 {
			t.Errorf("timeoutMs %d, want in (0, 3000]", got.TimeoutMs)
		}
	})
	t.Run("Host override refused", func(t *testing.T) {
		_, err := run(t, "", errors.New("no host call expected"), func(ctx context.Context) error {
			req, _ := http.NewRequest("GET", "http://api.example.com/", nil)
			req.Host = "evil.example"
			_, err := sluicehttp.Client().Do(req)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "Request.Host") {
			t.Fatalf("error %v, want a Request.Host refusal", err)
		}
	})
	t.Run("expired context", func(t *testing.T) {
		_, err := run(t, "", errors.New("no host call expected"), func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", "http://h/", nil)
			_, err := sluicehttp.Client().Do(req)
			return err
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	})
}
