package hostfuncs_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
)

// exact is a document with every type whose Extended JSON must survive
// the round trip: ObjectId, date, int64 over 2^53, int32, double,
// nested documents and arrays.
const exactDoc = `{"_id":{"$oid":"65f0c0ffee0123456789abcd"},` +
	`"createdAt":{"$date":{"$numberLong":"1700000000123"}},` +
	`"big":{"$numberLong":"9007199254740993"},` +
	`"small":{"$numberInt":"42"},` +
	`"ratio":{"$numberDouble":"1.5"},` +
	`"name":"alice","ok":true,"none":null,` +
	`"profile":{"address":{"city":"Lyon","zip":"69001"},"langs":["fr","en"]},` +
	`"logins":[{"at":{"$date":{"$numberLong":"1700000000000"}},"n":{"$numberLong":"1"}},{"$numberInt":"7"}]}`

func TestMongoRoundTripExact(t *testing.T) {
	conn := mongoConn(t)
	h := mongoHost(t, mongoManager(t, hostfuncs.Config{}), conn)

	res := mustMongo(t, h, "mongo.insertOne", `{"collection":"things","document":`+exactDoc+`}`)
	if got, want := string(res), `{"insertedId":{"$oid":"65f0c0ffee0123456789abcd"}}`; got != want {
		t.Fatalf("insertOne = %s, want %s", got, want)
	}

	res = mustMongo(t, h, "mongo.findOne", `{"collection":"things","filter":{"_id":{"$oid":"65f0c0ffee0123456789abcd"}}}`)
	var one struct{ Document json.RawMessage }
	if err := json.Unmarshal(res, &one); err != nil {
		t.Fatal(err)
	}
	if string(one.Document) != exactDoc {
		t.Fatalf("findOne document changed in the round trip:\n got %s\nwant %s", one.Document, exactDoc)
	}

	// The filter matches on an int64 beyond float64 precision and a date.
	res = mustMongo(t, h, "mongo.find", `{"collection":"things","filter":{"big":{"$numberLong":"9007199254740993"},"createdAt":{"$date":"2023-11-14T22:13:20.123Z"}}}`)
	if got, want := string(res), `{"documents":[`+exactDoc+`]}`; got != want {
		t.Fatalf("find by int64 and date:\n got %s\nwant %s", got, want)
	}
	res = mustMongo(t, h, "mongo.countDocuments", `{"collection":"things","filter":{"big":{"$numberLong":"9007199254740992"}}}`)
	if string(res) != `{"count":0}` {
		t.Fatalf("count of the neighbouring int64 = %s, want 0", res)
	}

	// Relaxed output: plain numbers, ISO dates, same ObjectId.
	res = mustMongo(t, h, "mongo.findOne", `{"collection":"things","relaxed":true,"projection":{"big":1,"small":1,"createdAt":1}}`)
	if got, want := string(res), `{"document":{"_id":{"$oid":"65f0c0ffee0123456789abcd"},"createdAt":{"$date":"2023-11-14T22:13:20.123Z"},"big":9007199254740993,"small":42}}`; got != want {
		t.Fatalf("relaxed findOne:\n got %s\nwant %s", got, want)
	}
}

func TestMongoOperations(t *testing.T) {
	conn := mongoConn(t)
	h := mongoHost(t, mongoManager(t, hostfuncs.Config{}), conn)
	for i, name := range []string{"ann", "bob", "cid", "dan", "eve"} {
		mustMongo(t, h, "mongo.insertOne", fmt.Sprintf(`{"collection":"users","document":{"name":%q,"age":%d,"group":%q}}`, name, i*10, []string{"a", "b"}[i%2]))
	}

	tests := []struct {
		name, op, req string
		want          string // exact result, or
		check         func(t *testing.T, res json.RawMessage)
		rows          int
		statement     string
	}{
		{name: "find filter sort skip limit projection", op: "mongo.find",
			req:       `{"collection":"users","filter":{"age":{"$gte":10}},"projection":{"_id":0,"name":1},"sort":{"age":-1},"skip":1,"limit":2}`,
			want:      `{"documents":[{"name":"dan"},{"name":"cid"}]}`,
			rows:      2,
			statement: "find users"},
		{name: "find with relaxed numbers", op: "mongo.find",
			req:  `{"collection":"users","filter":{"name":"bob"},"projection":{"_id":0,"age":1},"relaxed":true}`,
			want: `{"documents":[{"age":10}]}`, rows: 1, statement: "find users"},
		{name: "find nothing", op: "mongo.find",
			req:  `{"collection":"users","filter":{"name":"zed"}}`,
			want: `{"documents":[]}`, statement: "find users"},
		{name: "sort on two keys keeps their order", op: "mongo.find",
			req:  `{"collection":"users","projection":{"_id":0,"name":1},"sort":{"group":1,"age":-1}}`,
			want: `{"documents":[{"name":"eve"},{"name":"cid"},{"name":"ann"},{"name":"dan"},{"name":"bob"}]}`,
			rows: 5, statement: "find users"},
		{name: "findOne none", op: "mongo.findOne",
			req:  `{"collection":"users","filter":{"name":"zed"}}`,
			want: `{"document":null}`, statement: "findOne users"},
		{name: "findOne sorted", op: "mongo.findOne",
			req:  `{"collection":"users","sort":{"age":-1},"projection":{"_id":0,"name":1,"age":1}}`,
			want: `{"document":{"name":"eve","age":{"$numberInt":"40"}}}`, rows: 1, statement: "findOne users"},
		{name: "countDocuments", op: "mongo.countDocuments",
			req:  `{"collection":"users","filter":{"group":"a"}}`,
			want: `{"count":3}`, statement: "countDocuments users"},
		{name: "countDocuments all", op: "mongo.countDocuments",
			req:  `{"collection":"users"}`,
			want: `{"count":5}`, statement: "countDocuments users"},
		{name: "updateOne", op: "mongo.updateOne",
			req:  `{"collection":"users","filter":{"name":"ann"},"update":{"$set":{"email":"ann@example.com"},"$inc":{"age":1}}}`,
			want: `{"matchedCount":1,"modifiedCount":1}`, rows: 1, statement: "updateOne users"},
		{name: "updateOne no match", op: "mongo.updateOne",
			req:  `{"collection":"users","filter":{"name":"zed"},"update":{"$set":{"x":1}}}`,
			want: `{"matchedCount":0,"modifiedCount":0}`, statement: "updateOne users"},
		{name: "updateOne upsert", op: "mongo.updateOne",
			req: `{"collection":"users","filter":{"name":"fay"},"update":{"$set":{"age":50}},"upsert":true}`,
			check: func(t *testing.T, res json.RawMessage) {
				var out struct {
					MatchedCount, ModifiedCount int64
					UpsertedID                  struct {
						OID string `json:"$oid"`
					}
				}
				if err := json.Unmarshal(res, &out); err != nil || out.MatchedCount != 0 || len(out.UpsertedID.OID) != 24 {
					t.Fatalf("upsert = %s (%v), want matchedCount 0 and an upsertedId $oid", res, err)
				}
			},
			rows: 1, statement: "updateOne users"},
		{name: "updateMany", op: "mongo.updateMany",
			req:  `{"collection":"users","filter":{"group":"b"},"update":{"$set":{"flag":true}}}`,
			want: `{"matchedCount":2,"modifiedCount":2}`, rows: 2, statement: "updateMany users"},
		{name: "aggregate", op: "mongo.aggregate",
			req:  `{"collection":"users","pipeline":[{"$match":{"group":{"$in":["a","b"]}}},{"$group":{"_id":"$group","n":{"$sum":1}}},{"$sort":{"_id":1}}]}`,
			want: `{"documents":[{"_id":"a","n":{"$numberInt":"3"}},{"_id":"b","n":{"$numberInt":"2"}}]}`,
			rows: 2, statement: "aggregate users"},
		{name: "deleteOne", op: "mongo.deleteOne",
			req:  `{"collection":"users","filter":{"name":"fay"}}`,
			want: `{"deletedCount":1}`, rows: 1, statement: "deleteOne users"},
		{name: "deleteMany", op: "mongo.deleteMany",
			req:  `{"collection":"users","filter":{"group":"b"}}`,
			want: `{"deletedCount":2}`, rows: 2, statement: "deleteMany users"},
		{name: "deleteMany none", op: "mongo.deleteMany",
			req:  `{"collection":"users","filter":{"group":"zzz"}}`,
			want: `{"deletedCount":0}`, statement: "deleteMany users"},
	}
	target := conn.URI[len("mongodb://"):strings.LastIndex(conn.URI, "/")]
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err, tr := mongoCall(t, h, tt.op, tt.req)
			if err != nil {
				t.Fatalf("%s: %v (details %v)", tt.op, err, err.Details)
			}
			if tt.check != nil {
				tt.check(t, res)
			} else if string(res) != tt.want {
				t.Fatalf("%s:\n got %s\nwant %s", tt.op, res, tt.want)
			}
			if tr.Target != target || tr.Statement != tt.statement || tr.Rows != tt.rows {
				t.Errorf("trace = target %q statement %q rows %d, want %q %q %d", tr.Target, tr.Statement, tr.Rows, target, tt.statement, tt.rows)
			}
		})
	}
}

func TestMongoRefusals(t *testing.T) {
	conn := mongoConn(t)
	h := mongoHost(t, mongoManager(t, hostfuncs.Config{}), conn)
	mustMongo(t, h, "mongo.insertOne", `{"collection":"users","document":{"name":"ann"}}`)
	tests := []struct {
		name, op, req string
		code          engine.Code
		msg           string
	}{
		{"another database", "mongo.find", `{"collection":"users","database":"admin"}`, engine.CodeInvalidInput, "the database is the connection's"},
		{"unknown field", "mongo.find", `{"collection":"users","filtre":{}}`, engine.CodeInvalidInput, `unknown field "filtre"`},
		{"no collection", "mongo.find", `{}`, engine.CodeInvalidInput, "collection is required"},
		{"system collection", "mongo.find", `{"collection":"system.users"}`, engine.CodeInvalidInput, "system collections"},
		{"dollar in the name", "mongo.find", `{"collection":"a$b"}`, engine.CodeInvalidInput, "invalid collection name"},
		{"filter not a document", "mongo.find", `{"collection":"users","filter":[1]}`, engine.CodeInvalidInput, "filter must be a document"},
		{"bad extended json", "mongo.find", `{"collection":"users","filter":{"_id":{"$oid":"xyz"}}}`, engine.CodeInvalidInput, "not valid Extended JSON"},
		{"negative limit", "mongo.find", `{"collection":"users","limit":-1}`, engine.CodeInvalidInput, "negative"},
		{"insert without document", "mongo.insertOne", `{"collection":"users"}`, engine.CodeInvalidInput, "document is required"},
		{"update without operators", "mongo.updateOne", `{"collection":"users","filter":{},"update":{"name":"x"}}`, engine.CodeInvalidInput, "update operators"},
		{"update missing", "mongo.updateMany", `{"collection":"users","filter":{}}`, engine.CodeInvalidInput, "update is required"},
		{"$out", "mongo.aggregate", `{"collection":"users","pipeline":[{"$match":{}},{"$out":"copy"}]}`, engine.CodeInvalidInput, "$out is not allowed"},
		{"$merge", "mongo.aggregate", `{"collection":"users","pipeline":[{"$merge":{"into":{"db":"other","coll":"x"}}}]}`, engine.CodeInvalidInput, "$merge is not allowed"},
		{"$lookup from another db", "mongo.aggregate", `{"collection":"users","pipeline":[{"$lookup":{"from":{"db":"admin","coll":"system.users"},"as":"x","pipeline":[]}}]}`, engine.CodeInvalidInput, "$lookup.from"},
		{"nested $unionWith db", "mongo.aggregate", `{"collection":"users","pipeline":[{"$facet":{"a":[{"$unionWith":{"db":"admin","coll":"x"}}]}}]}`, engine.CodeInvalidInput, "$unionWith.db"},
		{"$out in a $lookup pipeline", "mongo.aggregate", `{"collection":"users","pipeline":[{"$lookup":{"from":"users","as":"x","pipeline":[{"$out":"y"}]}}]}`, engine.CodeInvalidInput, "$out"},
		{"pipeline not an array", "mongo.aggregate", `{"collection":"users","pipeline":{"$match":{}}}`, engine.CodeInvalidInput, "pipeline must be an array"},
		{"unknown op", "mongo.drop", `{"collection":"users"}`, engine.CodeNotImplemented, "mongo.drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err, _ := mongoCall(t, h, tt.op, tt.req)
			if err == nil || err.Code != tt.code || !strings.Contains(err.Message, tt.msg) {
				t.Fatalf("%s %s = %v, want %s containing %q", tt.op, tt.req, err, tt.code, tt.msg)
			}
		})
	}
}

func TestMongoDuplicateKey(t *testing.T) {
	conn := mongoConn(t)
	h := mongoHost(t, mongoManager(t, hostfuncs.Config{}), conn)
	// The host calls cannot create indexes; a unique _id is the index
	// every collection has.
	doc := `{"collection":"users","document":{"_id":"alice@example.com","name":"Alice"}}`
	mustMongo(t, h, "mongo.insertOne", doc)
	_, err, _ := mongoCall(t, h, "mongo.insertOne", doc)
	if err == nil || err.Code != "db_error" || err.Details["mongoCode"] != "11000" || err.Details["duplicateKey"] != "true" {
		t.Fatalf("second insert = %+v, want db_error with mongoCode 11000", err)
	}
}

func TestMongoLimits(t *testing.T) {
	conn := mongoConn(t)
	h := mongoHost(t, mongoManager(t, hostfuncs.Config{MaxRows: 3, MaxResponseBytes: 400}), conn)
	for i := 0; i < 5; i++ {
		mustMongo(t, h, "mongo.insertOne", fmt.Sprintf(`{"collection":"docs","document":{"i":%d,"pad":%q}}`, i, strings.Repeat("x", 150)))
	}
	tests := []struct {
		name, op, req string
		code          engine.Code
		msg           string
	}{
		{"find over MaxRows", "mongo.find", `{"collection":"docs","projection":{"pad":0}}`, engine.CodeResourceExhausted, "more than 3 documents"},
		{"find limit over MaxRows", "mongo.find", `{"collection":"docs","limit":10,"projection":{"pad":0}}`, engine.CodeResourceExhausted, "more than 3 documents"},
		{"aggregate over MaxRows", "mongo.aggregate", `{"collection":"docs","pipeline":[{"$project":{"pad":0}}]}`, engine.CodeResourceExhausted, "more than 3 documents"},
		{"response bytes", "mongo.find", `{"collection":"docs","limit":3,"projection":{"_id":0}}`, engine.CodeResourceExhausted, "response limit of 400 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err, _ := mongoCall(t, h, tt.op, tt.req)
			if err == nil || err.Code != tt.code || !strings.Contains(err.Message, tt.msg) {
				t.Fatalf("%s = %v, want %s containing %q", tt.op, err, tt.code, tt.msg)
			}
		})
	}
	t.Run("within the limits", func(t *testing.T) {
		res := mustMongo(t, h, "mongo.find", `{"collection":"docs","limit":3,"projection":{"_id":0,"i":1},"sort":{"i":1},"relaxed":true}`)
		if string(res) != `{"documents":[{"i":0},{"i":1},{"i":2}]}` {
			t.Fatalf("find = %s", res)
		}
	})
}

func TestMongoEgressDenied(t *testing.T) {
	conn := mongoConn(t)
	conn.AllowPrivateNetworks = false // loopback is refused to a tenant without a grant
	m := hostfuncs.New(hostfuncs.Config{})
	t.Cleanup(func() { m.Close() })
	_, err, _ := mongoCall(t, mongoHost(t, m, conn), "mongo.find", `{"collection":"users"}`)
	if err == nil || err.Code != engine.CodeEgressDenied || err.Details["address"] == "" {
		t.Fatalf("find without a grant = %+v, want egress_denied with an address", err)
	}

	// Granted loopback but not in the connection's allowlist.
	conn.AllowPrivateNetworks = true
	conn.Allowlist = []string{"192.0.2.10"}
	_, err, _ = mongoCall(t, mongoHost(t, mongoManager(t, hostfuncs.Config{}), conn), "mongo.countDocuments", `{"collection":"users"}`)
	if err == nil || err.Code != engine.CodeEgressDenied || !strings.Contains(err.Message, "allowlist") {
		t.Fatalf("find outside the allowlist = %+v, want egress_denied naming the allowlist", err)
	}
}

func TestMongoDeadServer(t *testing.T) {
	// A port nothing listens on: take one and close it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	m := mongoManager(t, hostfuncs.Config{QueryTimeout: 2 * time.Second})
	conn := granted(hostfuncs.Connection{Tenant: "t-dead", Name: "mongo", ConfigVersion: 1, DBType: "mongodb",
		URI: "mongodb://" + addr + "/app", Allowlist: []string{"127.0.0.1"}})
	h := mongoHost(t, m, conn)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var tr engine.HostCall
	_, callErr := h.HostCall(ctx, "mongo.findOne", []byte(`{"collection":"users","filter":{"email":"a@b.c"}}`), &tr)
	if ctx.Err() != nil {
		t.Fatal("the call ran into the test's own deadline: it should end at the query timeout")
	}
	ee, ok := callErr.(*engine.Error)
	if !ok || ee.Code != "db_error" || !strings.Contains(ee.Message, "cannot reach MongoDB at "+addr) || !strings.Contains(ee.Message, "refused") {
		t.Fatalf("findOne on a dead server = %v, want db_error saying it cannot reach %s (connection refused)", callErr, addr)
	}
	if tr.Target != addr || tr.Statement != "findOne users" {
		t.Errorf("trace target %q statement %q", tr.Target, tr.Statement)
	}

	// The call's own deadline, shorter than the query timeout, wins.
	short, cancel2 := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel2()
	_, callErr = h.HostCall(short, "mongo.find", []byte(`{"collection":"users"}`), &tr)
	if ee, ok := callErr.(*engine.Error); !ok || ee.Code != engine.CodeTimeout || !strings.Contains(ee.Message, "cannot reach MongoDB") {
		t.Fatalf("find past the call deadline = %v, want timeout saying it cannot reach the server", callErr)
	}
}

func TestMongoConnectionConfiguration(t *testing.T) {
	hostport := mongoServer(t)
	host, port, _ := net.SplitHostPort(hostport)
	m := mongoManager(t, hostfuncs.Config{})
	base := granted(hostfuncs.Connection{Tenant: "t-cfg", ConfigVersion: 1, DBType: "mongodb", Allowlist: []string{host}})
	tests := []struct {
		name   string
		edit   func(c *hostfuncs.Connection)
		code   engine.Code
		msg    string
		passes bool
	}{
		{name: "no database", edit: func(c *hostfuncs.Connection) { c.URI = "mongodb://" + hostport + "/" }, code: "db_error", msg: "no database"},
		{name: "database field", edit: func(c *hostfuncs.Connection) { c.URI = "mongodb://" + hostport + "/"; c.Database = "sluice_cfg_field" }, passes: true},
		{name: "five fields", edit: func(c *hostfuncs.Connection) {
			c.Host = host
			c.Port = atoi(t, port)
			c.Database = "sluice_cfg_fields"
		}, passes: true},
		{name: "aws auth", edit: func(c *hostfuncs.Connection) {
			c.URI = "mongodb://" + hostport + "/app?authMechanism=MONGODB-AWS"
		}, code: "db_error", msg: "MONGODB-AWS is not supported"},
		{name: "local CA file", edit: func(c *hostfuncs.Connection) { c.URI = "mongodb://" + hostport + "/app?tls=true&tlsCAFile=/etc/passwd" }, code: "db_error", msg: "tlsCAFile is not supported"},
		{name: "password stays out of errors", edit: func(c *hostfuncs.Connection) { c.URI = "mongodb://u:s3cret@" + hostport + "/app?maxPoolSize=lots" }, code: "db_error", msg: "does not parse"},
		{name: "mysql connection", edit: func(c *hostfuncs.Connection) { c.DBType = "mysql"; c.URI = "mongodb://" + hostport + "/app" }, code: engine.CodeInvalidInput, msg: "not mongodb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			c.Name = strings.ReplaceAll(tt.name, " ", "-")
			tt.edit(&c)
			res, err, _ := mongoCall(t, mongoHost(t, m, c), "mongo.countDocuments", `{"collection":"users"}`)
			if tt.passes {
				if err != nil || string(res) != `{"count":0}` {
					t.Fatalf("countDocuments = %s, %v; want count 0", res, err)
				}
				return
			}
			if err == nil || err.Code != tt.code || !strings.Contains(err.Message, tt.msg) || strings.Contains(err.Message, "s3cret") {
				t.Fatalf("countDocuments = %v, want %s containing %q without the password", err, tt.code, tt.msg)
			}
		})
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			t.Fatalf("not a port: %q", s)
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func TestMongoEvictClosesClients(t *testing.T) {
	conn := mongoConn(t)
	m := mongoManager(t, hostfuncs.Config{})
	h := mongoHost(t, m, conn)
	mustMongo(t, h, "mongo.insertOne", `{"collection":"users","document":{"name":"ann"}}`)
	m.Evict(conn.Tenant, conn.Name)
	// A new configuration version opens a new client and still works.
	conn.ConfigVersion++
	res := mustMongo(t, mongoHost(t, m, conn), "mongo.countDocuments", `{"collection":"users"}`)
	if string(res) != `{"count":1}` {
		t.Fatalf("count after evict = %s", res)
	}
}
