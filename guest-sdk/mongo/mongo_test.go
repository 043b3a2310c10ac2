//go:build !wasip1

package mongo_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/mongo"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// body is what the test connector's getUser runs; each test sets it.
var body func(ctx context.Context) error

func init() {
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		return nil, body(ctx)
	})
}

// inConnector runs fn inside a connector call with the fake host hc and
// returns the host calls made.
func inConnector(t *testing.T, hc func(op string, req []byte) ([]byte, error), fn func(ctx context.Context) error) []sluicetest.HostCall {
	t.Helper()
	h := sluicetest.New(t)
	h.HostCall = hc
	var fnErr error
	body = func(ctx context.Context) error { fnErr = fn(ctx); return nil }
	if out, status := h.Call("getUser", `{"query":{"id":"1"}}`); status != 0 {
		t.Fatalf("connector failed: %s", out)
	}
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	return h.HostCalls()
}

// answer returns a fake host answering every call with res.
func answer(res string) func(string, []byte) ([]byte, error) {
	return func(string, []byte) ([]byte, error) { return []byte(res), nil }
}

type user struct {
	ID      mongo.ObjectID `json:"_id"`
	Email   string         `json:"email"`
	Created mongo.DateTime `json:"createdAt"`
	Logins  mongo.Int64    `json:"logins"`
	Age     mongo.Int32    `json:"age"`
	Score   mongo.Double   `json:"score"`
}

func TestRequestsAndResults(t *testing.T) {
	users := mongo.Collection("users")
	created := time.Date(2023, 11, 14, 22, 13, 20, 123e6, time.UTC)
	canonical := `{"_id":{"$oid":"65f0c0ffee0123456789abcd"},"email":"a@b.c","createdAt":{"$date":{"$numberLong":"1700000000123"}},` +
		`"logins":{"$numberLong":"9007199254740993"},"age":{"$numberInt":"42"},"score":{"$numberDouble":"1.5"}}`
	want := user{ID: "65f0c0ffee0123456789abcd", Email: "a@b.c", Created: mongo.Date(created), Logins: 9007199254740993, Age: 42, Score: 1.5}

	tests := []struct {
		name    string
		result  string
		run     func(ctx context.Context) error
		op, req string
	}{
		{"find with options", `{"documents":[` + canonical + `]}`, func(ctx context.Context) error {
			var got []user
			err := users.Find(ctx, mongo.M{"age": mongo.M{"$gt": 18}}, &got,
				mongo.Sort(mongo.D{{Key: "b", Value: 1}, {Key: "a", Value: -1}}), mongo.Skip(2), mongo.Limit(3), mongo.Projection(mongo.M{"hash": 0}))
			if err == nil && (len(got) != 1 || got[0] != want) {
				err = errors.New("decoded " + jsonOf(got))
			}
			return err
		}, "mongo.find", `{"collection":"users","filter":{"age":{"$gt":18}},"projection":{"hash":0},"sort":{"b":1,"a":-1},"skip":2,"limit":3}`},
		{"findOne by ObjectID", `{"document":` + canonical + `}`, func(ctx context.Context) error {
			var got user
			found, err := users.FindOne(ctx, mongo.M{"_id": mongo.ObjectID("65f0c0ffee0123456789abcd")}, &got)
			if err == nil && (!found || got != want) {
				err = errors.New("decoded " + jsonOf(got))
			}
			return err
		}, "mongo.findOne", `{"collection":"users","filter":{"_id":{"$oid":"65f0c0ffee0123456789abcd"}}}`},
		{"findOne none, relaxed", `{"document":null}`, func(ctx context.Context) error {
			var got user
			found, err := users.FindOne(ctx, nil, &got, mongo.Relaxed())
			if err == nil && found {
				err = errors.New("found a document in null")
			}
			return err
		}, "mongo.findOne", `{"collection":"users","filter":{},"relaxed":true}`},
		{"insertOne", `{"insertedId":{"$oid":"65f0c0ffee0123456789abcd"}}`, func(ctx context.Context) error {
			res, err := users.InsertOne(ctx, mongo.D{{Key: "email", Value: "a@b.c"}, {Key: "createdAt", Value: mongo.Date(created)}, {Key: "n", Value: mongo.Int64(1 << 60)}})
			if id, ok := res.ObjectID(); err == nil && (!ok || id != "65f0c0ffee0123456789abcd") {
				err = errors.New("insertedId " + string(res.InsertedID))
			}
			return err
		}, "mongo.insertOne", `{"collection":"users","document":{"email":"a@b.c","createdAt":{"$date":{"$numberLong":"1700000000123"}},"n":{"$numberLong":"1152921504606846976"}}}`},
		{"updateOne upsert", `{"matchedCount":0,"modifiedCount":0,"upsertedId":{"$oid":"65f0c0ffee0123456789abcd"}}`, func(ctx context.Context) error {
			res, err := users.UpdateOne(ctx, mongo.M{"email": "a@b.c"}, mongo.M{"$set": mongo.M{"x": mongo.Double(2)}}, mongo.Upsert())
			if err == nil && string(res.UpsertedID) != `{"$oid":"65f0c0ffee0123456789abcd"}` {
				err = errors.New("result " + jsonOf(res))
			}
			return err
		}, "mongo.updateOne", `{"collection":"users","filter":{"email":"a@b.c"},"update":{"$set":{"x":{"$numberDouble":"2.0"}}},"upsert":true}`},
		{"updateMany", `{"matchedCount":3,"modifiedCount":2}`, func(ctx context.Context) error {
			res, err := users.UpdateMany(ctx, nil, mongo.M{"$inc": mongo.M{"n": 1}})
			if err == nil && (res.MatchedCount != 3 || res.ModifiedCount != 2) {
				err = errors.New("result " + jsonOf(res))
			}
			return err
		}, "mongo.updateMany", `{"collection":"users","filter":{},"update":{"$inc":{"n":1}}}`},
		{"deleteMany", `{"deletedCount":4}`, func(ctx context.Context) error {
			n, err := users.DeleteMany(ctx, mongo.M{"blocked": true})
			if err == nil && n != 4 {
				err = errors.New("deleted " + jsonOf(n))
			}
			return err
		}, "mongo.deleteMany", `{"collection":"users","filter":{"blocked":true}}`},
		{"deleteOne", `{"deletedCount":1}`, func(ctx context.Context) error {
			_, err := users.DeleteOne(ctx, mongo.M{"_id": mongo.ObjectID("65f0c0ffee0123456789abcd")})
			return err
		}, "mongo.deleteOne", `{"collection":"users","filter":{"_id":{"$oid":"65f0c0ffee0123456789abcd"}}}`},
		{"countDocuments", `{"count":7}`, func(ctx context.Context) error {
			n, err := users.CountDocuments(ctx, nil)
			if err == nil && n != 7 {
				err = errors.New("count " + jsonOf(n))
			}
			return err
		}, "mongo.countDocuments", `{"collection":"users","filter":{}}`},
		{"aggregate", `{"documents":[{"_id":"a","n":2}]}`, func(ctx context.Context) error {
			var got []map[string]any
			err := users.Aggregate(ctx, mongo.A{mongo.M{"$group": mongo.M{"_id": "$g", "n": mongo.M{"$sum": 1}}}}, &got, mongo.Relaxed())
			if err == nil && (len(got) != 1 || got[0]["n"] != 2.0) {
				err = errors.New("decoded " + jsonOf(got))
			}
			return err
		}, "mongo.aggregate", `{"collection":"users","pipeline":[{"$group":{"_id":"$g","n":{"$sum":1}}}],"relaxed":true}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := inConnector(t, answer(tt.result), tt.run)
			if len(calls) != 1 || calls[0].Op != tt.op || string(calls[0].Request) != tt.req {
				t.Fatalf("host calls = %+v\nwant %s %s", calls, tt.op, tt.req)
			}
		})
	}
}

func TestMisuse(t *testing.T) {
	tests := []struct {
		name string
		run  func(ctx context.Context) error
		msg  string
	}{
		{"option of another operation", func(ctx context.Context) error {
			var out []user
			return mongo.Collection("users").Find(ctx, nil, &out, mongo.Upsert())
		}, "Find does not take the option Upsert"},
		{"not a slice", func(ctx context.Context) error {
			var out user
			return mongo.Collection("users").Find(ctx, nil, &out)
		}, "pointer to a slice"},
		{"not a pointer", func(ctx context.Context) error {
			_, err := mongo.Collection("users").FindOne(ctx, nil, user{})
			return err
		}, "non-nil pointer"},
		{"no collection name", func(ctx context.Context) error {
			_, err := mongo.Collection("").CountDocuments(ctx, nil)
			return err
		}, "no name"},
		{"bad ObjectID", func(ctx context.Context) error {
			_, err := mongo.Collection("users").DeleteOne(ctx, mongo.M{"_id": mongo.ObjectID("nope")})
			return err
		}, "invalid ObjectID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := sluicetest.New(t)
			var got error
			body = func(ctx context.Context) error { got = tt.run(ctx); return nil }
			h.Call("getUser", `{"query":{"id":"1"}}`)
			if got == nil || !strings.Contains(got.Error(), tt.msg) {
				t.Fatalf("err = %v, want one containing %q", got, tt.msg)
			}
			if n := len(h.HostCalls()); n != 0 {
				t.Errorf("%d host calls made for a misuse", n)
			}
		})
	}
}

func TestHostErrors(t *testing.T) {
	dup := &sluice.Error{Code: "db_error", Message: "E11000 duplicate key", Details: map[string]any{"mongoCode": "11000"}}
	other := &sluice.Error{Code: "db_error", Message: "bad", Details: map[string]any{"mongoCode": "2"}}
	for _, tt := range []struct {
		name string
		err  error
		dup  bool
	}{{"duplicate key", dup, true}, {"other db error", other, false}, {"egress", &sluice.Error{Code: "egress_denied"}, false}} {
		t.Run(tt.name, func(t *testing.T) {
			var got error
			inConnector(t, func(string, []byte) ([]byte, error) { return nil, tt.err }, func(ctx context.Context) error {
				_, got = mongo.Collection("users").InsertOne(ctx, mongo.M{"email": "a@b.c"})
				return nil
			})
			var se *sluice.Error
			if !errors.As(got, &se) || se.Code != tt.err.(*sluice.Error).Code || mongo.IsDuplicateKey(got) != tt.dup {
				t.Fatalf("InsertOne err = %v (duplicate %v), want %v (duplicate %v)", got, mongo.IsDuplicateKey(got), tt.err, tt.dup)
			}
		})
	}
}

func TestTypes(t *testing.T) {
	t.Run("marshal", func(t *testing.T) {
		got := jsonOf(mongo.D{
			{Key: "id", Value: mongo.ObjectID("65f0c0ffee0123456789abcd")},
			{Key: "at", Value: mongo.Date(time.UnixMilli(-14182939877))},
			{Key: "big", Value: mongo.Int64(-9007199254740993)},
			{Key: "small", Value: mongo.Int32(7)},
			{Key: "x", Value: mongo.Double(1e300)},
			{Key: "inf", Value: mongo.Double(posInf())},
			{Key: "nested", Value: mongo.D{{Key: "z", Value: 1}, {Key: "a", Value: mongo.A{"s", nil}}}},
		})
		want := `{"id":{"$oid":"65f0c0ffee0123456789abcd"},"at":{"$date":{"$numberLong":"-14182939877"}},"big":{"$numberLong":"-9007199254740993"},` +
			`"small":{"$numberInt":"7"},"x":{"$numberDouble":"1e+300"},"inf":{"$numberDouble":"Infinity"},"nested":{"z":1,"a":["s",null]}}`
		if got != want {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
	t.Run("unmarshal canonical and relaxed", func(t *testing.T) {
		tests := []struct {
			in   string
			into any
			want string // the value re-encoded canonically
		}{
			{`{"$oid":"65f0c0ffee0123456789abcd"}`, new(mongo.ObjectID), `{"$oid":"65f0c0ffee0123456789abcd"}`},
			{`"65f0c0ffee0123456789abcd"`, new(mongo.ObjectID), `{"$oid":"65f0c0ffee0123456789abcd"}`},
			{`{"$date":{"$numberLong":"1700000000123"}}`, new(mongo.DateTime), `{"$date":{"$numberLong":"1700000000123"}}`},
			{`{"$date":"2023-11-14T22:13:20.123Z"}`, new(mongo.DateTime), `{"$date":{"$numberLong":"1700000000123"}}`},
			{`{"$date":1700000000123}`, new(mongo.DateTime), `{"$date":{"$numberLong":"1700000000123"}}`},
			{`{"$numberLong":"9007199254740993"}`, new(mongo.Int64), `{"$numberLong":"9007199254740993"}`},
			{`9007199254740993`, new(mongo.Int64), `{"$numberLong":"9007199254740993"}`},
			{`{"$numberInt":"5"}`, new(mongo.Int64), `{"$numberLong":"5"}`},
			{`{"$numberDouble":"5.0"}`, new(mongo.Int64), `{"$numberLong":"5"}`},
			{`{"$numberInt":"-3"}`, new(mongo.Int32), `{"$numberInt":"-3"}`},
			{`{"$numberDouble":"-Infinity"}`, new(mongo.Double), `{"$numberDouble":"-Infinity"}`},
			{`2.5`, new(mongo.Double), `{"$numberDouble":"2.5"}`},
			{`{"$numberInt":"4"}`, new(mongo.Double), `{"$numberDouble":"4.0"}`},
		}
		for _, tt := range tests {
			if err := json.Unmarshal([]byte(tt.in), tt.into); err != nil {
				t.Errorf("%s into %T: %v", tt.in, tt.into, err)
				continue
			}
			if got := jsonOf(tt.into); got != tt.want {
				t.Errorf("%s into %T = %s, want %s", tt.in, tt.into, got, tt.want)
			}
		}
	})
	t.Run("unmarshal refusals", func(t *testing.T) {
		for _, tt := range []struct {
			in   string
			into any
		}{
			{`{"$oid":"xyz"}`, new(mongo.ObjectID)},
			{`{"$numberLong":"1.5"}`, new(mongo.Int64)},
			{`{"$numberLong":"3000000000"}`, new(mongo.Int32)},
			{`{"$numberDouble":"1e30"}`, new(mongo.Int64)},
			{`"2023"`, new(mongo.DateTime)},
			{`{"$numberDecimal":"x"}`, new(mongo.Double)},
		} {
			if err := json.Unmarshal([]byte(tt.in), tt.into); err == nil {
				t.Errorf("%s into %T: no error", tt.in, tt.into)
			}
		}
	})
}

func posInf() float64 { var z float64; return 1 / z }

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}
