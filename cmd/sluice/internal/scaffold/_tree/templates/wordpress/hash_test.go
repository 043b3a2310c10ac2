package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// wpGolden is a published WordPress 6.8 hash of "grimoire-test-123"
// (see internal/examplestest/wordpress_test.go for its source);
// goldenPreHash is base64(HMAC-SHA384("wp-sha384", "grimoire-test-123")),
// computed apart from this code (Python's hmac module).
const (
	wpGolden      = "$wp$2y$12$iWN5xRwDE7i9R5jVJvCyqOxS1CNnwUggQaF8O2W9Bg8TuXQz.ngrS"
	goldenPreHash = "03wg9jL9KNfPWvZXnJTqZ4tZKY/LFLLtkeJLtgctysGwEztsV6sSn4QYQZle4jRH"
)

// TestPasswordRequests checks what validatePassword asks the host for
// each kind of stored user_pass, as wp_check_password would check it
// (internal/examplestest runs the template against MariaDB).
func TestPasswordRequests(t *testing.T) {
	t.Setenv("MULTISITE", "false") // no information_schema question
	for _, tc := range []struct {
		name, userPass, password string
		want                     string // the password.verify request
		valid                    string
	}{
		{"WordPress 6.8: bcrypt of the pre-hash, without $wp", wpGolden, "grimoire-test-123",
			`{"hash":"$2y$12$iWN5xRwDE7i9R5jVJvCyqOxS1CNnwUggQaF8O2W9Bg8TuXQz.ngrS","password":"` + goldenPreHash + `"}`, "true"},
		{"the password is trimmed, as wp_authenticate does", wpGolden, " grimoire-test-123\t\n",
			`{"hash":"$2y$12$iWN5xRwDE7i9R5jVJvCyqOxS1CNnwUggQaF8O2W9Bg8TuXQz.ngrS","password":"` + goldenPreHash + `"}`, "true"},
		{"phpass as stored", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "test12345",
			`{"hash":"$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0","password":"test12345"}`, "true"},
		{"MD5 as a digest", "5f4dcc3b5aa765d61d8327deb882cf99", "password",
			`{"hash":"5f4dcc3b5aa765d61d8327deb882cf99","password":"password","digest":{"algorithm":"md5"}}`, "true"},
		// No password matches nothing, but costs a bcrypt check all the
		// same: the pre-hash of the password against the dummy hash.
		{"no password", "", "x", dummyRequest("x"), "false"},
		{"WordPress's marker of a refused password", "*", "x", dummyRequest("x"), "false"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sluicetest.New(t)
			var verify []byte
			h.HostCall = func(op string, req []byte) ([]byte, error) {
				switch op {
				case "sql.query":
					pass, _ := json.Marshal(tc.userPass)
					return []byte(`{"columns":["id","username","email","website","name","nickname","given_name","family_name","user_pass"],` +
						`"types":["bigint","varchar","varchar","varchar","varchar","longtext","longtext","longtext","varchar"],` +
						`"rows":[[7,"ada","ada@example.com",null,"Ada",null,null,null,` + string(pass) + `]]}`), nil
				case "password.verify":
					verify = req
					return []byte(`{"valid":true}`), nil
				}
				t.Fatalf("unexpected host call %s", op)
				return nil, nil
			}
			in, _ := json.Marshal(map[string]string{"id": "7", "password": tc.password})
			out, status := h.Call("validatePassword", string(in))
			if status != 0 || out != tc.valid {
				t.Fatalf("validatePassword: %s (status %d), want %s", out, status, tc.valid)
			}
			var got, want any
			if err := json.Unmarshal(verify, &got); err != nil {
				t.Fatalf("password.verify request %q: %v", verify, err)
			}
			json.Unmarshal([]byte(tc.want), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Fatalf("password.verify request\n got %s\nwant %s", gb, wb)
			}
		})
	}
}

// dummyRequest is the password.verify request of pw against dummyHash.
func dummyRequest(pw string) string {
	b, _ := json.Marshal(map[string]string{"hash": strings.TrimPrefix(dummyHash, "$wp"), "password": preHash(pw)})
	return string(b)
}

// TestLoginCostsTheSame checks, on the host-call trace, that a login of
// an unknown user makes the host calls of a wrong password's: the lookup
// and one bcrypt check, at cost 10 as hashPassword writes, against
// dummyHash.
func TestLoginCostsTheSame(t *testing.T) {
	t.Setenv("MULTISITE", "false") // no information_schema question
	if !strings.HasPrefix(dummyHash, "$wp$2y$10$") {
		t.Fatalf("dummyHash %q is not a WordPress 6.8 hash of cost 10", dummyHash)
	}
	for _, tc := range []struct {
		name, query, userPass, want, code string
	}{
		{"wrong password", `{"username":"ada"}`, wpGolden, "$2y$12$iWN5", "wrong_password"},
		{"unknown user", `{"username":"zoe"}`, "", dummyHash[3:], "user_not_found"},
		{"unknown email", `{"email":"zoe@example.com"}`, "", dummyHash[3:], "user_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sluicetest.New(t)
			h.HostCall = func(op string, req []byte) ([]byte, error) {
				switch op {
				case "sql.query":
					rows := ""
					if tc.userPass != "" {
						rows = `[7,"ada","ada@example.com",null,"Ada",null,null,null,"` + tc.userPass + `"]`
					}
					return []byte(`{"columns":["id","username","email","website","name","nickname","given_name","family_name","user_pass"],` +
						`"types":["bigint","varchar","varchar","varchar","varchar","longtext","longtext","longtext","varchar"],` +
						`"rows":[` + rows + `]}`), nil
				case "password.verify":
					return []byte(`{"valid":false}`), nil
				}
				t.Fatalf("unexpected host call %s", op)
				return nil, nil
			}
			out, status := h.Call("login", `{"query":`+tc.query+`,"password":"nope"}`)
			if status != 1 || !strings.Contains(out, `"code":"`+tc.code+`"`) {
				t.Fatalf("login: %s (status %d), want %s", out, status, tc.code)
			}
			calls := h.HostCalls()
			if len(calls) != 2 || calls[0].Op != "sql.query" || calls[1].Op != "password.verify" {
				t.Fatalf("host calls %+v, want sql.query then password.verify", calls)
			}
			var req struct{ Hash, Password string }
			if err := json.Unmarshal(calls[1].Request, &req); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(req.Hash, tc.want) || req.Password != preHash("nope") {
				t.Fatalf("password.verify of %q with %q, want %q and the pre-hash", req.Hash, req.Password, tc.want)
			}
		})
	}
}

func TestNicename(t *testing.T) {
	for in, want := range map[string]string{
		"admin": "admin", "Ada Lovelace": "ada-lovelace", "ada@example.com": "ada-example-com", "--x--": "x",
	} {
		if got := nicename(in); got != want {
			t.Errorf("nicename(%q) = %q, want %q", in, got, want)
		}
	}
}
