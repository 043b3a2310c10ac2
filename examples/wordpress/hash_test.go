package main

import (
	"encoding/json"
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
	for _, tc := range []struct {
		name, userPass, password string
		want                     string // the password.verify request; "" for none
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
		{"no password", "", "x", "", "false"},
		{"WordPress's marker of a refused password", "*", "x", "", "false"},
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
			if tc.want == "" {
				if verify != nil {
					t.Fatalf("password.verify %s, want no host check", verify)
				}
				return
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

func TestNicename(t *testing.T) {
	for in, want := range map[string]string{
		"admin": "admin", "Ada Lovelace": "ada-lovelace", "ada@example.com": "ada-example-com", "--x--": "x",
	} {
		if got := nicename(in); got != want {
			t.Errorf("nicename(%q) = %q, want %q", in, got, want)
		}
	}
}
