//go:build !wasip1

// Package sluicetest runs a connector's functions in the test binary, on
// the normal toolchain, without wasm: it calls the handlers registered
// with the fn/* packages exactly as the Sluice engine would call the
// exports, with JSON in and JSON plus a status out, and captures the
// connector's log. Host calls go to a fake of the test's choosing.
//
//	func TestLogin(t *testing.T) {
//		out, status := sluicetest.Call(t, "login", `{"query":{"email":"alice@example.com"},"password":"wonderland"}`)
//		if status != 0 {
//			t.Fatalf("login failed: %s", out)
//		}
//	}
//
// With a fake host and typed input and output:
//
//	h := sluicetest.New(t)
//	h.HostCall = func(op string, req []byte) ([]byte, error) {
//		if op == "sql.query" {
//			return []byte(`{"columns":["id"],"rows":[["1"]]}`), nil
//		}
//		return nil, &sluice.Error{Code: "not_implemented", Message: op}
//	}
//	var u sluice.User
//	err := h.Invoke("getUser", sluice.GetUserInput{Query: sluice.UserQuery{ID: "1"}}, &u)
//
// Calls are serialized, as in an instance: tests of one package may run
// in parallel, but their connector calls take turns. Handlers live in
// package state, so each test binary tests the connector it links.
package sluicetest
