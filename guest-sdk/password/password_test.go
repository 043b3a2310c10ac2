//go:build !wasip1

package password_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/fn/validatepassword"
	"github.com/sluice-dev/sluice/guest-sdk/password"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// inCall runs do inside a validatePassword call whose host answers with
// answer (a result JSON) or answerErr, and returns the requests sent.
func inCall(t *testing.T, answer string, answerErr error, do func() error) ([]sluicetest.HostCall, error) {
	t.Helper()
	h := sluicetest.New(t)
	h.HostCall = func(op string, req []byte) ([]byte, error) { return []byte(answer), answerErr }
	var err error
	validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
		err = do()
		return true, nil
	})
	t.Cleanup(func() { validatepassword.Handle(nil) })
	if out, status := h.Call("validatePassword", `{"id":"1","password":"x"}`); status != 0 {
		t.Fatalf("validatePassword failed: %s", out)
	}
	return h.HostCalls(), err
}

func TestPassword(t *testing.T) {
	tests := []struct {
		name      string
		answer    string
		answerErr error
		do        func() (any, error)
		wantOp    string
		wantReq   string
		want      any
		wantCode  string
	}{
		{name: "Verify true", answer: `{"valid":true}`, do: func() (any, error) { return password.Verify("$2a$10$x", "pw") },
			wantOp: "password.verify", wantReq: `{"hash":"$2a$10$x","password":"pw"}`, want: true},
		{name: "Verify false", answer: `{"valid":false}`, do: func() (any, error) { return password.Verify("$P$x", "pw") },
			wantOp: "password.verify", wantReq: `{"hash":"$P$x","password":"pw"}`, want: false},
		{name: "Verify malformed", answerErr: &sluice.Error{Code: "invalid_input", Message: "malformed"},
			do:     func() (any, error) { return password.Verify("$2a$", "pw") },
			wantOp: "password.verify", wantReq: `{"hash":"$2a$","password":"pw"}`, want: false, wantCode: "invalid_input"},
		{name: "VerifyDigest", answer: `{"valid":true}`,
			do: func() (any, error) {
				return password.VerifyDigest(password.Digest{Algorithm: "sha256", Salt: "s", SaltPosition: "prefix"}, "ab", "pw")
			},
			wantOp: "password.verify", wantReq: `{"hash":"ab","password":"pw","digest":{"algorithm":"sha256","salt":"s","saltPosition":"prefix"}}`, want: true},
		{name: "Hash", answer: `{"hash":"$argon2id$v=19$..."}`, do: func() (any, error) { return password.Hash(password.Argon2id, "pw") },
			wantOp: "password.hash", wantReq: `{"algorithm":"argon2id","password":"pw"}`, want: "$argon2id$v=19$..."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got any
			calls, err := inCall(t, tc.answer, tc.answerErr, func() error {
				var err error
				got, err = tc.do()
				return err
			})
			if tc.wantCode != "" {
				var se *sluice.Error
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("error %v, want %s", err, tc.wantCode)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if len(calls) != 1 || calls[0].Op != tc.wantOp || !jsonEqual(calls[0].Request, tc.wantReq) {
				t.Errorf("host calls %+v, want one %s %s", calls, tc.wantOp, tc.wantReq)
			}
		})
	}
}

func jsonEqual(a []byte, b string) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
