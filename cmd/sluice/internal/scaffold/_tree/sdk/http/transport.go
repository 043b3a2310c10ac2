package sluicehttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Op is the host call Transport makes.
const Op = "http.request"

// Transport is an http.RoundTripper that sends requests through the host.
// The zero Transport is ready to use and safe for concurrent use.
type Transport struct{}

// Client returns an *http.Client that uses a Transport.
func Client() *http.Client { return &http.Client{Transport: &Transport{}} }

// request and response are http.request's JSON (guest-sdk/ABI.md).
type request struct {
	Method       string              `json:"method"`
	URL          string              `json:"url"`
	Headers      map[string][]string `json:"headers,omitempty"`
	Body         string              `json:"body,omitempty"`
	BodyEncoding string              `json:"bodyEncoding,omitempty"`
	TimeoutMs    int64               `json:"timeoutMs,omitempty"`
	Redirect     string              `json:"redirect"`
}

type response struct {
	Status       int                 `json:"status"`
	Headers      map[string][]string `json:"headers"`
	Body         string              `json:"body"`
	BodyEncoding string              `json:"bodyEncoding"`
}

// RoundTrip sends req through the host's http.request call. A failure of
// the host call is returned as its *sluice.Error.
func (*Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	body, err := readBody(req)
	if err != nil {
		return nil, err
	}
	if req.URL == nil {
		return nil, errors.New("sluicehttp: request has no URL")
	}
	if req.Host != "" && req.Host != req.URL.Host {
		return nil, fmt.Errorf("sluicehttp: Request.Host %q differs from the URL's host: the host always sends the URL's host", req.Host)
	}
	in := request{
		Method:   req.Method,
		URL:      req.URL.String(),
		Headers:  req.Header,
		Redirect: "manual",
	}
	if in.Method == "" {
		in.Method = http.MethodGet
	}
	if len(body) > 0 {
		if utf8.Valid(body) {
			in.Body = string(body)
		} else {
			in.Body = base64.StdEncoding.EncodeToString(body)
			in.BodyEncoding = "base64"
		}
	}
	ctx := req.Context()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if deadline, ok := ctx.Deadline(); ok {
		left := time.Until(deadline)
		if left <= 0 {
			return nil, context.DeadlineExceeded
		}
		in.TimeoutMs = int64(math.Ceil(float64(left) / float64(time.Millisecond)))
	}

	var out response
	if err := sluice.HostCall(Op, in, &out); err != nil {
		return nil, err
	}
	var b []byte
	switch out.BodyEncoding {
	case "base64":
		if b, err = base64.StdEncoding.DecodeString(out.Body); err != nil {
			return nil, fmt.Errorf("sluicehttp: host sent a bad base64 body: %w", err)
		}
	default:
		b = []byte(out.Body)
	}
	header := http.Header(out.Headers)
	if header == nil {
		header = http.Header{}
	}
	resp := &http.Response{
		Status:        strconv.Itoa(out.Status) + " " + http.StatusText(out.Status),
		StatusCode:    out.Status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		Body:          io.NopCloser(bytes.NewReader(b)),
		ContentLength: int64(len(b)),
		Request:       req,
	}
	if req.Method == http.MethodHead {
		resp.ContentLength = -1
		if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil {
			resp.ContentLength = n
		}
	}
	return resp, nil
}

// readBody reads and closes the request's body.
func readBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, nil
	}
	defer req.Body.Close()
	b, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("sluicehttp: reading the request body: %w", err)
	}
	return b, nil
}
