package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// answer is the host's sql.query answer for find, holding rows.
func answer(rows ...string) []byte {
	return []byte(`{"columns":["id","username","email","given_name","family_name","name","blocked","custom_data","password","is_active"],` +
		`"types":["int4","varchar","text","text","text","text","bool","jsonb","varchar","bool"],` +
		`"rows":[` + strings.Join(rows, ",") + `]}`)
}

const (
	// A Django 4.1 hash of "lètmein" (Django's test_pbkdf2).
	adaRow = `[1,"ada","ada@example.com",null,null,null,false,{"isStaff":false},` +
		`"pbkdf2_sha256$390000$seasalt$8xBlGd3jVgvJ+92hWPxi5ww0uuAuAnKgC45eudxro7c=",true]`
	ssoRow   = `[3,"sso",null,null,null,null,false,{"isStaff":false},"!Xk3mQ9vLr2pT8sW4yB6nC1dF5gH7jK0aZeRuIoP",true]`
	twin1Row = `[4,"twin1","twin@example.com",null,null,null,false,{},"!Xk3mQ9vLr2pT8sW4yB6nC1dF5gH7jK0aZeRuIoP",true]`
	twin2Row = `[5,"twin2","Twin@example.com",null,null,null,false,{},"!Xk3mQ9vLr2pT8sW4yB6nC1dF5gH7jK0aZeRuIoP",true]`
)

// TestUnusablePassword checks that a user created without a password gets
// Django's unusable password ("!" and 40 letters and digits, as
// set_unusable_password writes).
func TestUnusablePassword(t *testing.T) {
	for range 3 {
		p, err := makePassword("")
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^![A-Za-z0-9]{40}$`).MatchString(p) {
			t.Fatalf("unusable password %q", p)
		}
	}
}

// TestLoginCostsTheSame checks, on the host-call trace, that every login
// that fails makes the same host calls as a wrong password: the lookup,
// then one password.verify of a PBKDF2 hash of the iteration count
// makePassword writes (Django 4.2's 600,000). An unknown user, an email
// several users share and an unusable password are checked against
// dummyHash, so their answer takes as long as a wrong password's.
func TestLoginCostsTheSame(t *testing.T) {
	if !strings.HasPrefix(dummyHash, "pbkdf2_sha256$600000$") {
		t.Fatalf("dummyHash %q is not pbkdf2_sha256 with 600000 iterations", dummyHash)
	}
	for _, tc := range []struct {
		name, query string
		rows        []string
		wantHash    string
		wantCode    string
	}{
		{"wrong password", `{"username":"ada"}`, []string{adaRow}, "pbkdf2_sha256$390000$seasalt$", "wrong_password"},
		{"unknown user", `{"username":"zoe"}`, nil, dummyHash, "user_not_found"},
		{"unknown email", `{"email":"zoe@example.com"}`, nil, dummyHash, "user_not_found"},
		{"an email several users share", `{"email":"twin@example.com"}`, []string{twin1Row, twin2Row}, dummyHash, "user_not_found"},
		{"unusable password", `{"username":"sso"}`, []string{ssoRow}, dummyHash, "wrong_password"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sluicetest.New(t)
			h.HostCall = func(op string, req []byte) ([]byte, error) {
				switch op {
				case "sql.query":
					return answer(tc.rows...), nil
				case "password.verify":
					return []byte(`{"valid":false}`), nil
				}
				t.Fatalf("host call %s %s", op, req)
				return nil, nil
			}
			out, status := h.Call("login", `{"query":`+tc.query+`,"password":"nope"}`)
			if status != 1 || !strings.Contains(out, `"code":"`+tc.wantCode+`"`) {
				t.Fatalf("login: %s (status %d), want %s", out, status, tc.wantCode)
			}
			calls := h.HostCalls()
			if len(calls) != 2 || calls[0].Op != "sql.query" || calls[1].Op != "password.verify" {
				t.Fatalf("host calls %+v, want sql.query then password.verify", calls)
			}
			var req struct{ Hash, Password string }
			if err := json.Unmarshal(calls[1].Request, &req); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(req.Hash, tc.wantHash) || req.Password != "nope" {
				t.Fatalf("password.verify of %q with %q, want %q", req.Hash, req.Password, tc.wantHash)
			}
		})
	}
}

// TestGetUserSharedEmail checks that getUser, unlike login, says why it
// cannot answer for an email several users share.
func TestGetUserSharedEmail(t *testing.T) {
	h := sluicetest.New(t)
	h.HostCall = func(op string, req []byte) ([]byte, error) { return answer(twin1Row, twin2Row), nil }
	out, status := h.Call("getUser", `{"query":{"email":"twin@example.com"}}`)
	if status != 1 || !strings.Contains(out, `"code":"invalid_input"`) {
		t.Fatalf("getUser: %s (status %d), want invalid_input", out, status)
	}
}
