// Command probe runs the host calls a test asks for. getUser's query.id
// is a JSON command:
//
//	{"http": {"method","url","headers","body" (base64),"timeoutMs"}}  — through sluicehttp.Client
//	{"raw": {...}}                                                     — the http.request op as given
//	{"hash": {"algorithm","password"}}                                 — password.Hash, then Verify
//	{"digest": {"spec","hash","password"}}                             — password.VerifyDigest
//
// and the answer is the user "probe" whose customData holds the outcome:
// the result, or {"error":{"code","message"}} when the host call failed.
// validatePassword checks password.Verify(id, password).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/validatepassword"
	sluicehttp "github.com/sluice-dev/sluice/guest-sdk/http"
	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

type command struct {
	HTTP *struct {
		Method    string              `json:"method"`
		URL       string              `json:"url"`
		Headers   map[string][]string `json:"headers"`
		Body      string              `json:"body"`
		TimeoutMs int                 `json:"timeoutMs"`
	} `json:"http"`
	Raw  json.RawMessage `json:"raw"`
	Hash *struct {
		Algorithm string `json:"algorithm"`
		Password  string `json:"password"`
	} `json:"hash"`
	Digest *struct {
		Spec     password.Digest `json:"spec"`
		Hash     string          `json:"hash"`
		Password string          `json:"password"`
	} `json:"digest"`
}

var client = sluicehttp.Client()

func run(ctx context.Context, c command) (map[string]any, error) {
	switch {
	case c.HTTP != nil:
		body, err := base64.StdEncoding.DecodeString(c.HTTP.Body)
		if err != nil {
			return nil, sluice.InvalidInput(err.Error())
		}
		if c.HTTP.TimeoutMs > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, time.Duration(c.HTTP.TimeoutMs)*time.Millisecond)
			defer cancel()
		}
		req, err := http.NewRequestWithContext(ctx, c.HTTP.Method, c.HTTP.URL, bytes.NewReader(body))
		if err != nil {
			return nil, sluice.InvalidInput(err.Error())
		}
		for k, vs := range c.HTTP.Headers {
			req.Header[k] = vs
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		return map[string]any{"status": resp.StatusCode, "headers": resp.Header, "body": base64.StdEncoding.EncodeToString(b)}, nil
	case c.Raw != nil:
		var out map[string]any
		if err := sluice.HostCall("http.request", c.Raw, &out); err != nil {
			return nil, err
		}
		return out, nil
	case c.Hash != nil:
		h, err := password.Hash(c.Hash.Algorithm, c.Hash.Password)
		if err != nil {
			return nil, err
		}
		ok, err := password.Verify(h, c.Hash.Password)
		if err != nil {
			return nil, err
		}
		wrong, err := password.Verify(h, c.Hash.Password+"x")
		if err != nil {
			return nil, err
		}
		return map[string]any{"hash": h, "valid": ok, "wrongValid": wrong}, nil
	case c.Digest != nil:
		ok, err := password.VerifyDigest(c.Digest.Spec, c.Digest.Hash, c.Digest.Password)
		if err != nil {
			return nil, err
		}
		return map[string]any{"valid": ok}, nil
	}
	return nil, sluice.InvalidInput("empty command")
}

func init() {
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		var c command
		if err := json.Unmarshal([]byte(in.Query.ID), &c); err != nil {
			return nil, sluice.InvalidInput(err.Error())
		}
		out, err := run(ctx, c)
		if err != nil {
			var se *sluice.Error
			if !errors.As(err, &se) {
				se = &sluice.Error{Code: "guest_error", Message: err.Error()}
			}
			out = map[string]any{"error": map[string]any{"code": se.Code, "message": se.Message}}
		}
		return &sluice.User{ID: "probe", CustomData: out}, nil
	})
	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		return password.Verify(in.ID, in.Password)
	})
}

func main() {}
