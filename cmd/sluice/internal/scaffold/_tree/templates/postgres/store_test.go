package main

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// row is what the host answers for find's SELECT: the profile columns by
// their names, NULLs included, then the hash.
const row = `{"columns":["id","email","email_verified","username","phone","phone_verified","nickname","name","given_name","family_name","photo","gender","birthdate","address","company","website","blocked","custom_data","coalesce"],` +
	`"types":["int8","text","bool","text","text","bool","text","text","text","text","text","text","text","text","text","text","bool","jsonb","text"],` +
	`"rows":[[42,"ada@example.com",true,"ada","+15550100",false,"Ada","Ada Lovelace","Ada","Lovelace","https://example.com/ada.png",null,"1815-12-10",null,"Analytical Engines Ltd",null,false,{"plan":"pro","logins":7},"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"]]}`

const ada = `{"id":"42","email":"ada@example.com","emailVerified":true,"phone":"+15550100","username":"ada","nickname":"Ada","name":"Ada Lovelace","givenName":"Ada","familyName":"Lovelace","photo":"https://example.com/ada.png","birthdate":"1815-12-10","company":"Analytical Engines Ltd","customData":{"logins":7,"plan":"pro"}}`

func cannedHost(tb testing.TB) *sluicetest.Host {
	h := sluicetest.New(tb)
	h.HostCall = func(op string, req []byte) ([]byte, error) {
		if op == "password.verify" {
			return []byte(`{"valid":true}`), nil
		}
		return []byte(row), nil
	}
	return h
}

// TestFindProfile checks the profile getUser and login answer for a row
// with NULL columns and custom data (internal/examplestest runs the
// template against PostgreSQL).
func TestFindProfile(t *testing.T) {
	for _, c := range []struct{ name, fn, input string }{
		{"getUser", "getUser", `{"query":{"email":"ada@example.com"}}`},
		{"login", "login", `{"query":{"email":"ada@example.com"},"password":"s3cret"}`},
	} {
		t.Run(c.name, func(t *testing.T) {
			if out, st := cannedHost(t).Call(c.fn, c.input); st != 0 || out != ada {
				t.Errorf("%s = %d %s, want %s", c.fn, st, out, ada)
			}
		})
	}
}

// BenchmarkFind runs getUser and login natively with canned host
// answers: with -benchmem, what the template allocates per call (in wasm
// each allocation costs far more).
func BenchmarkFind(b *testing.B) {
	const ctx = `"context":{"tenant":"t_1234_1","connection":"pg","requestId":"r-8f3a"}`
	h := cannedHost(b)
	for _, c := range []struct{ name, fn, input string }{
		{"getUser", "getUser", `{"query":{"email":"ada@example.com"},` + ctx + `}`},
		{"login", "login", `{"query":{"email":"ada@example.com"},"password":"s3cret",` + ctx + `}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.Call(c.fn, c.input)
			}
		})
	}
}

// TestLoginCostsTheSame checks, on the host-call trace, that a login of
// an unknown user makes the host calls of a wrong password's: the lookup,
// then one password.verify, of dummyHash (bcrypt at cost 10, as
// password.Hash writes), so its time does not tell the user exists.
func TestLoginCostsTheSame(t *testing.T) {
	if !strings.HasPrefix(dummyHash, "$2a$10$") {
		t.Fatalf("dummyHash %q is not bcrypt cost 10", dummyHash)
	}
	h := sluicetest.New(t)
	h.HostCall = func(op string, req []byte) ([]byte, error) {
		if op == "password.verify" {
			return []byte(`{"valid":false}`), nil
		}
		return []byte(row[:strings.Index(row, `"rows":`)] + `"rows":[]}`), nil // no user
	}
	out, st := h.Call("login", `{"query":{"email":"zoe@example.com"},"password":"nope"}`)
	if st != 1 || !strings.Contains(out, `"code":"user_not_found"`) {
		t.Fatalf("login = %d %s, want user_not_found", st, out)
	}
	calls := h.HostCalls()
	if len(calls) != 2 || calls[0].Op != "sql.query" || calls[1].Op != "password.verify" ||
		!strings.Contains(string(calls[1].Request), `"hash":"`+dummyHash+`"`) {
		t.Fatalf("host calls %+v, want sql.query then password.verify of dummyHash", calls)
	}
}
