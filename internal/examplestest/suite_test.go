package examplestest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// seedUser is one user of the legacy store every template starts with.
type seedUser struct {
	key                          string // the name tests use for its id: {{alice}}
	email, username, phone       string
	nickname, name               string
	emailVerified, phoneVerified bool
	customData                   map[string]any
	password                     string // "" for a user without a password hash
}

// seedUsers are inserted in this order, so listing order is this order.
var seedUsers = []seedUser{
	{key: "alice", email: "alice@example.com", username: "alice", phone: "+14155550101", nickname: "Alice",
		name: "Alice Liddell", emailVerified: true, phoneVerified: true, customData: map[string]any{"plan": "pro"},
		password: "wonderland"},
	{key: "bob", email: "bob@example.com", username: "bob", phone: "+442071838750", nickname: "Bob the Builder",
		name: "Bob Builder", password: "canwefixit"},
	{key: "carol", email: "carol@example.org", username: "carol", phone: "+4930901820", nickname: "Carol",
		password: "jinglebells"},
	{key: "dave", email: "dave@example.net", username: "dave", phone: "+61255501234", nickname: "Dave"},
}

// fixture is one template's legacy store, seeded with seedUsers.
type fixture struct {
	example string // directory under examples/
	conn    hostfuncs.Connection
	env     map[string]string // the tenant's env
	ids     map[string]string // seed user key -> id
	// hash returns the password hash the store holds for user id.
	hash func(t *testing.T, id string) string
	// skip names steps the test server cannot run, with the reason.
	skip map[string]string
	// steps, when set, replace the shared steps (a template over a real
	// product's schema has its own users), and after replaces the check
	// that new hashes are bcrypt: it runs once the steps have.
	steps []step
	after func(t *testing.T, ids map[string]string)
	// functions, when set, are the only functions the template exports:
	// the suite runs their steps up to the first createUser (the reads),
	// since later steps need the users it creates.
	functions map[string]bool
}

// step is one call of the shared suite. Inputs and wants may name ids as
// {{alice}}; ids of created users are saved under step.save.
type step struct {
	name, fn, input string
	want            string      // JSON the result must match (see match)
	code            engine.Code // or the error the call must fail with
	save            string
	// sameCallsAs names an earlier step whose host calls (their ops, in
	// order) this step must make too: a login of an unknown user makes
	// the calls of a wrong password's, a password check included, so
	// its time does not tell whether the user exists.
	sameCallsAs string
}

// steps run in order against one seeded store: reads first, then writes.
var steps = []step{
	{name: "login by email ignores case", fn: "login",
		input: `{"query":{"email":"Alice@Example.COM"},"password":"wonderland"}`,
		want: `{"id":"{{alice}}","email":"alice@example.com","emailVerified":true,"username":"alice",
			"phone":"+14155550101","phoneVerified":true,"nickname":"Alice","name":"Alice Liddell",
			"customData":{"plan":"pro"},"blocked":null,"givenName":null}`},
	{name: "login by username", fn: "login", input: `{"query":{"username":"BOB"},"password":"canwefixit"}`,
		want: `{"id":"{{bob}}","email":"bob@example.com","nickname":"Bob the Builder","emailVerified":null,"customData":null}`},
	{name: "login by phone", fn: "login", input: `{"query":{"phone":"+4930901820"},"password":"jinglebells"}`,
		want: `{"id":"{{carol}}","username":"carol"}`},
	{name: "login wrong password", fn: "login", input: `{"query":{"email":"alice@example.com"},"password":"nope"}`,
		code: engine.CodeWrongPassword},
	{name: "login without a stored password", fn: "login", input: `{"query":{"username":"dave"},"password":""}`,
		code: engine.CodeWrongPassword, sameCallsAs: "login wrong password"},
	{name: "login unknown user", fn: "login", input: `{"query":{"email":"zoe@example.com"},"password":"wonderland"}`,
		code: engine.CodeUserNotFound, sameCallsAs: "login wrong password"},
	{name: "login empty query", fn: "login", input: `{"query":{},"password":"wonderland"}`,
		code: engine.CodeInvalidInput},

	{name: "getUser by id", fn: "getUser", input: `{"query":{"id":"{{carol}}"}}`,
		want: `{"id":"{{carol}}","email":"carol@example.org","username":"carol","phone":"+4930901820"}`},
	{name: "getUser by email ignores case", fn: "getUser", input: `{"query":{"email":"BOB@example.com"}}`,
		want: `{"id":"{{bob}}"}`},
	{name: "getUser by username", fn: "getUser", input: `{"query":{"username":"Dave"}}`, want: `{"id":"{{dave}}"}`},
	{name: "getUser by phone", fn: "getUser", input: `{"query":{"phone":"+14155550101"}}`, want: `{"id":"{{alice}}"}`},
	{name: "getUser unknown email", fn: "getUser", input: `{"query":{"email":"zoe@example.com"}}`, want: `null`},
	{name: "getUser unknown id", fn: "getUser", input: `{"query":{"id":"424242"}}`, want: `null`},
	{name: "getUser malformed id", fn: "getUser", input: `{"query":{"id":"not an id"}}`, want: `null`},
	{name: "getUser empty query", fn: "getUser", input: `{"query":{}}`, code: engine.CodeInvalidInput},

	{name: "searchUser by email domain", fn: "searchUser", input: `{"keyword":"example.com","page":1,"limit":10}`,
		want: `{"totalCount":2,"list":[{"id":"{{alice}}"},{"id":"{{bob}}"}]}`},
	{name: "searchUser ignores case", fn: "searchUser", input: `{"keyword":"ALI","page":1,"limit":10}`,
		want: `{"totalCount":1,"list":[{"id":"{{alice}}","email":"alice@example.com"}]}`},
	{name: "searchUser by nickname", fn: "searchUser", input: `{"keyword":"builder","page":1,"limit":10}`,
		want: `{"totalCount":1,"list":[{"id":"{{bob}}"}]}`},
	{name: "searchUser by phone", fn: "searchUser", input: `{"keyword":"+49","page":1,"limit":10}`,
		want: `{"totalCount":1,"list":[{"id":"{{carol}}"}]}`},
	{name: "searchUser second page", fn: "searchUser", input: `{"keyword":"example","page":2,"limit":1}`,
		want: `{"totalCount":4,"list":[{"id":"{{bob}}"}]}`},
	{name: "searchUser wildcards are literal", fn: "searchUser", input: `{"keyword":"%","page":1,"limit":10}`,
		want: `{"totalCount":0,"list":[]}`},
	{name: "searchUser no match", fn: "searchUser", input: `{"keyword":"zoe","page":1,"limit":10}`,
		want: `{"totalCount":0,"list":[]}`},

	{name: "listUsers first page", fn: "listUsers", input: `{"page":1,"limit":3}`,
		want: `{"totalCount":4,"list":[{"id":"{{alice}}"},{"id":"{{bob}}"},{"id":"{{carol}}"}]}`},
	{name: "listUsers last page", fn: "listUsers", input: `{"page":2,"limit":3}`,
		want: `{"totalCount":4,"list":[{"id":"{{dave}}","nickname":"Dave"}]}`},
	{name: "listUsers past the end", fn: "listUsers", input: `{"page":3,"limit":3}`,
		want: `{"totalCount":4,"list":[]}`},
	{name: "listUsers default page size", fn: "listUsers", input: `{"page":0,"limit":0}`,
		want: `{"totalCount":4,"list":[{"id":"{{alice}}"},{"id":"{{bob}}"},{"id":"{{carol}}"},{"id":"{{dave}}"}]}`},

	{name: "validatePassword right", fn: "validatePassword", input: `{"id":"{{alice}}","password":"wonderland"}`, want: `true`},
	{name: "validatePassword wrong", fn: "validatePassword", input: `{"id":"{{alice}}","password":"Wonderland"}`, want: `false`},
	{name: "validatePassword without a stored password", fn: "validatePassword", input: `{"id":"{{dave}}","password":""}`, want: `false`},
	{name: "validatePassword unknown user", fn: "validatePassword", input: `{"id":"424242","password":"x"}`,
		code: engine.CodeUserNotFound},

	{name: "createUser", fn: "createUser", save: "erin",
		input: `{"user":{"email":"erin@example.com","username":"erin","nickname":"Erin","givenName":"Erin",
			"emailVerified":true,"customData":{"team":"blue","level":3},"password":"s3cret!"}}`,
		want: `{"email":"erin@example.com","username":"erin","nickname":"Erin","givenName":"Erin",
			"emailVerified":true,"customData":{"team":"blue","level":3},"phone":null,"password":null}`},
	{name: "created user logs in", fn: "login", input: `{"query":{"email":"erin@example.com"},"password":"s3cret!"}`,
		want: `{"id":"{{erin}}","nickname":"Erin"}`},
	{name: "createUser without a password", fn: "createUser", save: "frank",
		input: `{"user":{"phone":"+15550100"}}`, want: `{"phone":"+15550100","email":null}`},
	{name: "createUser duplicate email", fn: "createUser",
		input: `{"user":{"email":"ALICE@example.com","password":"x"}}`, code: engine.CodeUserExists},
	{name: "createUser duplicate username", fn: "createUser",
		input: `{"user":{"email":"bobby@example.com","username":"Bob"}}`, code: engine.CodeUserExists},
	{name: "createUser duplicate phone", fn: "createUser",
		input: `{"user":{"phone":"+4930901820"}}`, code: engine.CodeUserExists},
	{name: "createUser without an identifier", fn: "createUser",
		input: `{"user":{"nickname":"nobody","password":"x"}}`, code: engine.CodeInvalidInput},
	{name: "listUsers counts created users", fn: "listUsers", input: `{"page":2,"limit":4}`,
		want: `{"totalCount":6,"list":[{"id":"{{erin}}"},{"id":"{{frank}}"}]}`},

	{name: "updateUser profile", fn: "updateUser",
		input: `{"id":"{{erin}}","updates":{"nickname":"Erin E.","phone":"+15550000","customData":{"team":"red"}}}`,
		want: `{"id":"{{erin}}","email":"erin@example.com","username":"erin","givenName":"Erin","nickname":"Erin E.",
			"phone":"+15550000","customData":{"team":"red"}}`},
	{name: "updateUser clears a field", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"givenName":""}}`,
		want: `{"id":"{{erin}}","givenName":null,"nickname":"Erin E."}`},
	{name: "updateUser password", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"password":"n3w-pass"}}`,
		want: `{"id":"{{erin}}","nickname":"Erin E.","password":null}`},
	{name: "old password no longer works", fn: "login", input: `{"query":{"username":"erin"},"password":"s3cret!"}`,
		code: engine.CodeWrongPassword},
	{name: "new password works", fn: "validatePassword", input: `{"id":"{{erin}}","password":"n3w-pass"}`, want: `true`},
	{name: "updateUser sets a first password", fn: "updateUser", input: `{"id":"{{frank}}","updates":{"password":"frank-pw"}}`,
		want: `{"id":"{{frank}}"}`},
	{name: "first password works", fn: "login", input: `{"query":{"phone":"+15550100"},"password":"frank-pw"}`,
		want: `{"id":"{{frank}}"}`},
	{name: "updateUser to a taken email", fn: "updateUser", input: `{"id":"{{erin}}","updates":{"email":"Bob@Example.com"}}`,
		code: engine.CodeUserExists},
	{name: "updateUser unknown user", fn: "updateUser", input: `{"id":"424242","updates":{"nickname":"x"}}`,
		code: engine.CodeUserNotFound},
	{name: "updateUser keeps the rest", fn: "getUser", input: `{"query":{"id":"{{erin}}"}}`,
		want: `{"id":"{{erin}}","email":"erin@example.com","emailVerified":true,"phone":"+15550000"}`},

	{name: "deleteUser", fn: "deleteUser", input: `{"id":"{{erin}}"}`, want: `true`},
	{name: "deleted user is gone", fn: "getUser", input: `{"query":{"id":"{{erin}}"}}`, want: `null`},
	{name: "deleted user cannot log in", fn: "login", input: `{"query":{"email":"erin@example.com"},"password":"n3w-pass"}`,
		code: engine.CodeUserNotFound},
	{name: "deleteUser again", fn: "deleteUser", input: `{"id":"{{erin}}"}`, code: engine.CodeUserNotFound},
	{name: "deleteUser unknown user", fn: "deleteUser", input: `{"id":"424242"}`, code: engine.CodeUserNotFound},
	{name: "listUsers after delete", fn: "listUsers", input: `{"page":1,"limit":10}`,
		want: `{"totalCount":5,"list":[{"id":"{{alice}}"},{"id":"{{bob}}"},{"id":"{{carol}}"},{"id":"{{dave}}"},{"id":"{{frank}}"}]}`},
}

// runSuite runs steps against the fixture through the engine, then checks
// that the hashes the template made are bcrypt at cost 10.
func runSuite(t *testing.T, f fixture) {
	mod := module(t, f.example)
	h, err := manager.Host(f.conn)
	if err != nil {
		t.Fatal(err)
	}
	ids := f.ids
	ops := map[string]string{} // step name -> its host calls' ops
	all := steps
	if f.steps != nil {
		all = f.steps
	}
	for _, s := range all {
		if f.functions != nil && s.fn == "createUser" && !f.functions[s.fn] {
			break
		}
		if f.functions != nil && !f.functions[s.fn] {
			continue
		}
		ok := t.Run(s.name, func(t *testing.T) {
			if reason, ok := f.skip[s.name]; ok {
				t.Skip(reason)
			}
			input := fill(s.input, ids)
			res, err := call(mod, f, h, s.fn, input)
			if res != nil {
				var names []string
				for _, c := range res.Trace {
					names = append(names, c.Op)
				}
				ops[s.name] = strings.Join(names, " ")
			}
			if want, ok := ops[s.sameCallsAs]; s.sameCallsAs != "" && (!ok || ops[s.name] != want) {
				t.Errorf("%s(%s): host calls [%s], want those of %q: [%s]", s.fn, input, ops[s.name], s.sameCallsAs, want)
			}
			if s.code != "" {
				var ee *engine.Error
				if !errors.As(err, &ee) || ee.Code != s.code {
					t.Fatalf("%s(%s): err %v, want %s (result %+v)", s.fn, input, err, s.code, res)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s(%s): %v (logs %+v)", s.fn, input, err, res.Logs)
			}
			var got, want any
			if err := json.Unmarshal(res.Output, &got); err != nil {
				t.Fatalf("%s: output %s: %v", s.fn, res.Output, err)
			}
			if err := json.Unmarshal([]byte(fill(s.want, ids)), &want); err != nil {
				t.Fatalf("bad want %s: %v", s.want, err)
			}
			if !match(want, got) {
				t.Fatalf("%s(%s)\n got %s\nwant %s", s.fn, input, res.Output, fill(s.want, ids))
			}
			if s.save != "" {
				id, _ := got.(map[string]any)["id"].(string)
				if id == "" {
					t.Fatalf("%s: no id in %s", s.fn, res.Output)
				}
				ids[s.save] = id
			}
		})
		if !ok && s.save != "" {
			t.Fatalf("later steps need {{%s}}", s.save)
		}
	}
	if f.after != nil {
		t.Run("after the steps", func(t *testing.T) { f.after(t, ids) })
		return
	}
	if f.functions != nil && !f.functions["createUser"] {
		return
	}
	t.Run("new hashes are bcrypt cost 10", func(t *testing.T) {
		hash := f.hash(t, ids["frank"])
		if cost, err := bcrypt.Cost([]byte(hash)); err != nil || cost != 10 {
			t.Fatalf("hash %q: cost %d, %v", hash, cost, err)
		}
		if bcrypt.CompareHashAndPassword([]byte(hash), []byte("frank-pw")) != nil {
			t.Fatalf("hash %q does not match the password set", hash)
		}
	})
}

// call runs one connector function of the fixture's connection.
func call(mod *engine.Module, f fixture, h engine.Host, fn, input string) (*engine.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	in := fmt.Sprintf(`{"context":{"tenant":%q,"connection":%q,"requestId":"r-1"},%s`,
		f.conn.Tenant, f.conn.Name, strings.TrimPrefix(strings.TrimSpace(input), "{"))
	return eng.Call(ctx, mod, engine.Request{
		Tenant: f.conn.Tenant, Pool: fmt.Sprintf("%s/%d", f.conn.Name, f.conn.ConfigVersion),
		Function: fn, Input: []byte(in), Env: f.conn.Env(f.env), Host: h,
		Limits: engine.Limits{Timeout: 20 * time.Second},
	})
}

// fill replaces {{key}} with ids[key].
func fill(s string, ids map[string]string) string {
	for k, v := range ids {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return s
}

// match reports whether got has everything want has: objects may have
// more keys than want (a null in want means absent or null), arrays have
// the same length and match element by element, other values are equal.
func match(want, got any) bool {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, present := g[k]
			if wv == nil {
				if gv != nil {
					return false
				}
				continue
			}
			if !present || !match(wv, gv) {
				return false
			}
		}
		return true
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return false
		}
		for i := range w {
			if !match(w[i], g[i]) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(want, got)
}

// createConcurrently runs createUser with each input at once, through the
// engine (each call on an instance of its own while the others run), and
// returns how many succeeded and how many answered user_exists; any other
// answer fails the test.
func createConcurrently(t *testing.T, f fixture, inputs []string) (created, exists int) {
	t.Helper()
	mod := module(t, f.example)
	h, err := manager.Host(f.conn)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(inputs))
	var wg sync.WaitGroup
	for i, in := range inputs {
		wg.Go(func() { _, errs[i] = call(mod, f, h, "createUser", in) })
	}
	wg.Wait()
	for i, err := range errs {
		var ee *engine.Error
		switch {
		case err == nil:
			created++
		case errors.As(err, &ee) && ee.Code == engine.CodeUserExists:
			exists++
		default:
			t.Errorf("createUser(%s): %v", inputs[i], err)
		}
	}
	return created, exists
}
