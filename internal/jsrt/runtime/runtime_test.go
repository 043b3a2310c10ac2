package main

import (
	"os"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// fakeDB answers the seed template's getUser query with one row.
func fakeDB(op string, req []byte) ([]byte, error) {
	if op == "sql.query" {
		return []byte(`{"columns":["id","email","username","phone","password","nickname","photo","token","created_at"],` +
			`"types":["int4","text","text","text","text","text","text","text","timestamptz"],` +
			`"rows":[[1,"ada@example.com","ada","+15550001","$2a$10$x","Ada",null,null,"2024-02-29T12:34:56.123456Z"]]}`), nil
	}
	return nil, &sluice.Error{Code: "not_implemented", Message: op}
}

func withScript(tb testing.TB, path string) *sluicetest.Host {
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Setenv(envSource, string(src))
	rt = nil
	tb.Cleanup(func() { rt = nil })
	h := sluicetest.New(tb)
	h.HostCall = fakeDB
	return h
}

// TestSeedGetUser runs the seed template's getUser natively against a
// fake database (the api tests run it in wasm against PostgreSQL).
func TestSeedGetUser(t *testing.T) {
	h := withScript(t, "../../../api/testdata/js/seed-postgres.js")
	out, status := h.Call("getUser", `{"query":{"id":"1"},"context":{"tenant":"t","connection":"c","requestId":"r"}}`)
	if status != 0 || !strings.Contains(out, `"id":"1"`) || !strings.Contains(out, `"email":"ada@example.com"`) {
		t.Fatalf("status %d: %s", status, out)
	}
}

func BenchmarkSeedGetUser(b *testing.B) {
	h := withScript(b, "../../../api/testdata/js/seed-postgres.js")
	in := `{"query":{"id":"1"},"context":{"tenant":"t","connection":"c","requestId":"r"}}`
	for b.Loop() {
		if _, status := h.Call("getUser", in); status != 0 {
			b.Fatal("getUser failed")
		}
	}
}
