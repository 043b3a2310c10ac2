package hostfuncs_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// mongoUniqueEmail creates the unique index a real user store has, with
// the driver directly (host calls cannot create indexes).
func mongoUniqueEmail(t *testing.T, conn hostfuncs.Connection) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(conn.URI))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect(ctx)
	_, err = c.Database(conn.Database).Collection("users").Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys:    bson.D{{Key: "email", Value: 1}},
		Options: options.Index().SetUnique(true),
	})
	if err != nil {
		t.Fatalf("creating the unique index on users.email: %v", err)
	}
}

type guestUser struct {
	ID         string         `json:"id"`
	Email      string         `json:"email"`
	Username   string         `json:"username"`
	Name       string         `json:"name"`
	CustomData map[string]any `json:"customData"`
}

type guestList struct {
	TotalCount int         `json:"totalCount"`
	List       []guestUser `json:"list"`
}

// TestMongoGuestConnector runs a realistic connector (testdata/mongoguest,
// written with guest-sdk/mongo) through the engine on the test server:
// every connector function, typed values through the SDK, the duplicate
// key as user_exists, and password.verify on the stored hash.
func TestMongoGuestConnector(t *testing.T) {
	conn := mongoConn(t)
	mongoUniqueEmail(t, conn)
	m := mongoManager(t, hostfuncs.Config{})
	h := mongoHost(t, m, conn)

	run := func(t *testing.T, fn string, input any, out any) *engine.Result {
		t.Helper()
		res, err := mongoGuestCall(t, m, conn, fn, input)
		if err != nil {
			t.Fatalf("%s: %v (logs %v)", fn, err, res.Logs)
		}
		if out != nil {
			if err := json.Unmarshal(res.Output, out); err != nil {
				t.Fatalf("%s output %s: %v", fn, res.Output, err)
			}
		}
		return res
	}
	fails := func(t *testing.T, fn string, input any, code engine.Code) {
		t.Helper()
		res, err := mongoGuestCall(t, m, conn, fn, input)
		if err == nil || err.Code != code {
			t.Fatalf("%s = %s, %v; want %s", fn, res.Output, err, code)
		}
	}

	custom := map[string]any{
		"big":    "9007199254740993",         // 2^53 + 1
		"born":   "1969-07-20T20:17:40.123Z", // before the epoch
		"nested": map[string]any{"a": map[string]any{"b": []any{1.0, "x", true}}, "n": nil},
		"tags":   []any{"x", "y"},
	}
	var alice guestUser
	run(t, "createUser", map[string]any{"user": map[string]any{
		"email": "alice@example.com", "username": "alice", "name": "Alice", "password": "wonderland", "customData": custom,
	}}, &alice)
	if len(alice.ID) != 24 || alice.CustomData["big"] != "9007199254740993" || alice.CustomData["born"] != "1969-07-20T20:17:40.123Z" {
		t.Fatalf("createUser = %+v", alice)
	}

	t.Run("stored as typed BSON", func(t *testing.T) {
		res := mustMongo(t, h, "mongo.findOne", `{"collection":"users","filter":{"email":"alice@example.com"},"projection":{"extra":1,"loginCount":1}}`)
		// Keys in the order the guest's encoding/json wrote them.
		want := `{"document":{"_id":{"$oid":"` + alice.ID + `"},"extra":{` +
			`"big":{"$numberLong":"9007199254740993"},"born":{"$date":{"$numberLong":"-14182939877"}},` +
			`"nested":{"a":{"b":[{"$numberInt":"1"},"x",true]},"n":null},"tags":["x","y"]},"loginCount":{"$numberLong":"0"}}}`
		if string(res) != want {
			t.Fatalf("stored document:\n got %s\nwant %s", res, want)
		}
	})
	t.Run("getUser decodes the types back", func(t *testing.T) {
		var u guestUser
		run(t, "getUser", map[string]any{"query": map[string]any{"id": alice.ID}}, &u)
		if !reflect.DeepEqual(u.CustomData["nested"], custom["nested"]) || !reflect.DeepEqual(u.CustomData["tags"], custom["tags"]) ||
			u.CustomData["big"] != custom["big"] || u.CustomData["born"] != custom["born"] {
			t.Fatalf("getUser customData = %v, want %v", u.CustomData, custom)
		}
		var none json.RawMessage
		run(t, "getUser", map[string]any{"query": map[string]any{"id": "65f0c0ffee0123456789abcd"}}, &none)
		if string(none) != "null" {
			t.Fatalf("getUser of an unknown id = %s, want null", none)
		}
		run(t, "getUser", map[string]any{"query": map[string]any{"email": "alice@example.com"}}, &u)
		if u.ID != alice.ID {
			t.Fatalf("getUser by email = %+v", u)
		}
	})
	t.Run("duplicate email is user_exists", func(t *testing.T) {
		fails(t, "createUser", map[string]any{"user": map[string]any{"email": "alice@example.com", "password": "x"}}, engine.CodeUserExists)
	})
	t.Run("login", func(t *testing.T) {
		var u guestUser
		res := run(t, "login", map[string]any{"query": map[string]any{"email": "alice@example.com"}, "password": "wonderland"}, &u)
		if u.ID != alice.ID || u.CustomData["loginCount"] != "1" {
			t.Fatalf("login = %+v", u)
		}
		ops := []string{}
		for _, c := range res.Trace {
			ops = append(ops, c.Op+" "+c.Statement)
		}
		if want := []string{"mongo.findOne findOne users", "password.verify ", "mongo.updateOne updateOne users"}; !reflect.DeepEqual(ops, want) {
			t.Errorf("login trace = %q, want %q", ops, want)
		}
		run(t, "login", map[string]any{"query": map[string]any{"username": "alice"}, "password": "wonderland"}, &u)
		if u.CustomData["loginCount"] != "2" {
			t.Fatalf("second login count = %v", u.CustomData["loginCount"])
		}
		fails(t, "login", map[string]any{"query": map[string]any{"email": "alice@example.com"}, "password": "nope"}, engine.CodeWrongPassword)
		fails(t, "login", map[string]any{"query": map[string]any{"email": "nobody@example.com"}, "password": "x"}, engine.CodeUserNotFound)
	})
	t.Run("validatePassword", func(t *testing.T) {
		var ok bool
		run(t, "validatePassword", map[string]any{"id": alice.ID, "password": "wonderland"}, &ok)
		if !ok {
			t.Fatal("validatePassword(right) = false")
		}
		run(t, "validatePassword", map[string]any{"id": alice.ID, "password": "nope"}, &ok)
		if ok {
			t.Fatal("validatePassword(wrong) = true")
		}
	})
	t.Run("updateUser", func(t *testing.T) {
		var u guestUser
		run(t, "updateUser", map[string]any{"id": alice.ID, "updates": map[string]any{"name": "Alice L."}}, &u)
		if u.Name != "Alice L." || u.CustomData["big"] != "9007199254740993" {
			t.Fatalf("updateUser = %+v", u)
		}
		fails(t, "updateUser", map[string]any{"id": "65f0c0ffee0123456789abcd", "updates": map[string]any{"name": "x"}}, engine.CodeUserNotFound)
	})
	t.Run("listUsers and searchUser", func(t *testing.T) {
		for _, name := range []string{"bob", "carol"} {
			run(t, "createUser", map[string]any{"user": map[string]any{"email": name + "@example.com", "username": name, "password": "pw"}}, nil)
		}
		var l guestList
		run(t, "listUsers", map[string]any{"page": 1, "limit": 2}, &l)
		if l.TotalCount != 3 || len(l.List) != 2 || l.List[0].Username != "alice" || l.List[1].Username != "bob" {
			t.Fatalf("listUsers page 1 = %+v", l)
		}
		run(t, "listUsers", map[string]any{"page": 2, "limit": 2}, &l)
		if l.TotalCount != 3 || len(l.List) != 1 || l.List[0].Username != "carol" {
			t.Fatalf("listUsers page 2 = %+v", l)
		}
		run(t, "searchUser", map[string]any{"keyword": "bob", "page": 1, "limit": 10}, &l)
		if l.TotalCount != 1 || len(l.List) != 1 || l.List[0].Email != "bob@example.com" {
			t.Fatalf("searchUser bob = %+v", l)
		}
	})
	t.Run("deleteUser", func(t *testing.T) {
		var ok bool
		run(t, "deleteUser", map[string]any{"id": alice.ID}, &ok)
		if !ok {
			t.Fatal("deleteUser = false")
		}
		fails(t, "deleteUser", map[string]any{"id": alice.ID}, engine.CodeUserNotFound)
	})
}

// TestMongoGuestEgressDenied: the connector's host call fails with
// egress_denied when the tenant has no private-network grant.
func TestMongoGuestEgressDenied(t *testing.T) {
	conn := mongoConn(t)
	conn.AllowPrivateNetworks = false
	m := hostfuncs.New(hostfuncs.Config{})
	t.Cleanup(func() { m.Close() })
	res, err := mongoGuestCall(t, m, conn, "getUser", map[string]any{"query": map[string]any{"email": "a@b.c"}})
	// The connector returns the host call's error: the host's code
	// reaches the caller unchanged.
	if err == nil || err.Code != engine.CodeEgressDenied || !strings.Contains(err.Message, "127.0.0.1:27017") {
		t.Fatalf("getUser = %v, want the connector to fail on egress_denied", err)
	}
	if len(res.Trace) != 1 || res.Trace[0].Kind != "mongo" || !res.Trace[0].Denied || res.Trace[0].Target != "127.0.0.1:27017" {
		t.Errorf("trace = %+v, want one denied mongo call to 127.0.0.1:27017", res.Trace)
	}
}
