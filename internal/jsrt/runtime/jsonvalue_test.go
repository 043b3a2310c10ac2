package main

import (
	"encoding/json"
	"testing"

	"github.com/dop251/goja"
)

// TestJSONValue checks the host answers' parser against goja's own
// JSON.parse: the same values (compared through JSON.stringify and the
// keys' order) and the same refusals.
func TestJSONValue(t *testing.T) {
	vm := goja.New()
	s := &script{vm: vm}
	same, err := vm.RunString(`(function (a, b) {
		return JSON.stringify(a) === JSON.stringify(b) &&
			(a === null || typeof a !== 'object' || (Object.getPrototypeOf(a) === Object.getPrototypeOf(b) &&
			Object.getOwnPropertyNames(a).join() === Object.getOwnPropertyNames(b).join()));
	})`)
	if err != nil {
		t.Fatal(err)
	}
	sameFn, _ := goja.AssertFunction(same)
	parse, _ := goja.AssertFunction(vm.Get("JSON").ToObject(vm).Get("parse"))
	for _, tc := range []struct{ name, in string }{
		{"row", `{"columns":["id","email"],"types":["int4","text"],"rows":[[1,"ada@example.com"],[2,null]]}`},
		{"numbers", `[0,-0,1.5,-2e3,1E-7,9007199254740993,123456789012]`},
		{"bad-range", `[1e400]`},
		{"escapes", `{"a\"b":"line\nnext \u00e9 \ud83d\ude00 \\ \/"}`},
		{"literals", ` { "t" : true , "f" : false , "n" : null , "e" : {} , "l" : [ ] } `},
		{"proto", `{"__proto__":{"polluted":1},"x":1}`},
		{"order", `{"b":1,"a":2,"1":3,"b":4}`},
		{"deep", `[[[[{"a":[{"b":"c"}]}]]]]`},
		{"string", `"just text"`},
		{"bad-trailing", `{"a":1} x`},
		{"bad-comma", `[1,]`},
		{"bad-number", `01`},
		{"bad-control", "\"a\tb\""},
		{"bad-empty", ``},
		{"bad-literal", `tru`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := parse(goja.Undefined(), vm.ToValue(tc.in))
			got, gotErr := s.jsonValue(tc.in)
			if (wantErr != nil) != (gotErr != nil) {
				t.Fatalf("JSON.parse error %v, jsonValue error %v", wantErr, gotErr)
			}
			if wantErr != nil {
				return
			}
			ok, err := sameFn(goja.Undefined(), got, want)
			if err != nil || !ok.ToBoolean() {
				t.Fatalf("jsonValue %v, JSON.parse %v (%v)", got, want, err)
			}
			if o, isObj := got.(*goja.Object); isObj && tc.name == "proto" {
				if p := o.Get("__proto__"); p == nil || p.ToObject(vm).Get("polluted") == nil || vm.NewObject().Get("polluted") != nil {
					t.Fatal("__proto__ must be an own property, as JSON.parse makes it")
				}
			}
		})
	}
}

// TestDecodeUser checks the result's way back: a normalized user object
// becomes the User field by field, its customData's numbers exact.
func TestDecodeUser(t *testing.T) {
	u, err := decodeUser("getUser", []byte(`{"id":5,"email":"a@b.c","email_verified":1,"blocked":"true","nickname":null,"password":"$2a$x","customData":{"n":12345678901234567890,"s":"x"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "5" || u.Email != "a@b.c" || !u.EmailVerified || !u.Blocked || u.Nickname != "" {
		t.Fatalf("user %+v", u)
	}
	if n, _ := u.CustomData["n"].(json.Number); n.String() != "12345678901234567890" || u.CustomData["s"] != "x" {
		t.Fatalf("customData %#v", u.CustomData)
	}
	if u, err := decodeUser("getUser", []byte(`null`)); u != nil || err != nil {
		t.Fatalf("null: %v %v", u, err)
	}
}
