package main

import (
	"encoding/json"
	"regexp"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// TestUnusablePassword checks that a user created without a password gets
// Django's unusable password ("!" and 40 letters and digits, as
// set_unusable_password writes) and that such a password checks nothing
// on the host (internal/examplestest runs the template against
// PostgreSQL).
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
	h := sluicetest.New(t)
	h.HostCall = func(op string, req []byte) ([]byte, error) {
		if op != "sql.query" {
			t.Fatalf("host call %s %s, want none but the lookup", op, req)
		}
		return []byte(`{"columns":["id","username","email","given_name","family_name","name","blocked","custom_data","password","is_active"],` +
			`"types":["int4","varchar","text","text","text","text","bool","jsonb","varchar","bool"],` +
			`"rows":[[3,"sso",null,null,null,null,false,{"isStaff":false},"!Xk3mQ9vLr2pT8sW4yB6nC1dF5gH7jK0aZeRuIoP",true]]}`), nil
	}
	in, _ := json.Marshal(map[string]any{"query": map[string]string{"username": "sso"}, "password": ""})
	out, status := h.Call("login", string(in))
	if status != 1 || !regexp.MustCompile(`"code":"wrong_password"`).MatchString(out) {
		t.Fatalf("login: %s (status %d), want wrong_password", out, status)
	}
}
