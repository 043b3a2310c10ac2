//go:build !wasip1

package sluice

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/internal/abi"
)

// withHost routes host calls to answer for the test and records requests.
func withHost(t *testing.T, answer string) *[]string {
	var got []string
	prev := abi.SetHooks(&abi.Hooks{HostCall: func(op string, req []byte) []byte {
		got = append(got, op+" "+string(req))
		return []byte(answer)
	}})
	t.Cleanup(func() { abi.SetHooks(prev) })
	return &got
}

func TestHostCall(t *testing.T) {
	type row struct {
		ID string `json:"id"`
	}
	tests := []struct {
		name     string
		req      any
		answer   string
		wantReq  string
		wantRows []row
		wantErr  *Error
		wantText string // for errors that are not *Error
	}{
		{name: "result", req: map[string]any{"sql": "select 1"}, answer: `{"result":[{"id":"1"},{"id":"2"}]}`,
			wantReq: `sql.query {"sql":"select 1"}`, wantRows: []row{{"1"}, {"2"}}},
		{name: "raw request", req: json.RawMessage(`{"a":1}`), answer: `{"result":[]}`,
			wantReq: `sql.query {"a":1}`, wantRows: []row{}},
		{name: "bytes request", req: []byte(`{"b":2}`), answer: `{"result":null}`, wantReq: `sql.query {"b":2}`},
		{name: "error", req: struct{}{}, answer: `{"error":{"code":"egress_denied","message":"10.0.0.1:5432 is not allowed","details":{"address":"10.0.0.1:5432"}}}`,
			wantReq: `sql.query {}`, wantErr: &Error{Code: CodeEgressDenied, Message: "10.0.0.1:5432 is not allowed", Details: map[string]any{"address": "10.0.0.1:5432"}}},
		{name: "error without code", req: nil, answer: `{"error":{"message":"boom"}}`,
			wantReq: `sql.query null`, wantErr: &Error{Code: "host_error", Message: "boom"}},
		{name: "bad envelope", req: nil, answer: `not json`, wantReq: `sql.query null`, wantText: "bad response"},
		{name: "bad result", req: nil, answer: `{"result":"text"}`, wantReq: `sql.query null`, wantText: "decode result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reqs := withHost(t, tt.answer)
			var rows []row
			err := HostCall("sql.query", tt.req, &rows)
			if len(*reqs) != 1 || (*reqs)[0] != tt.wantReq {
				t.Errorf("requests = %q, want [%q]", *reqs, tt.wantReq)
			}
			switch {
			case tt.wantErr != nil:
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v, want *Error", err)
				}
				if e.Code != tt.wantErr.Code || e.Message != tt.wantErr.Message || len(e.Details) != len(tt.wantErr.Details) {
					t.Errorf("err = %+v, want %+v", e, tt.wantErr)
				}
				if !errors.Is(err, &Error{Code: tt.wantErr.Code}) {
					t.Errorf("errors.Is by code failed for %v", err)
				}
			case tt.wantText != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("err = %v, want one containing %q", err, tt.wantText)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(rows) != len(tt.wantRows) {
					t.Errorf("rows = %+v, want %+v", rows, tt.wantRows)
				}
				for i := range rows {
					if rows[i] != tt.wantRows[i] {
						t.Errorf("rows = %+v, want %+v", rows, tt.wantRows)
					}
				}
			}
		})
	}
}

func TestHostCallNilResp(t *testing.T) {
	withHost(t, `{"result":{"ignored":true}}`)
	if err := HostCall("http.request", map[string]string{"url": "https://x"}, nil); err != nil {
		t.Fatal(err)
	}
}

func TestHostCallUnencodableRequest(t *testing.T) {
	reqs := withHost(t, `{"result":null}`)
	if err := HostCall("x", func() {}, nil); err == nil || !strings.Contains(err.Error(), "encode request") {
		t.Errorf("err = %v, want an encode error", err)
	}
	if len(*reqs) != 0 {
		t.Errorf("the host was called: %q", *reqs)
	}
}
