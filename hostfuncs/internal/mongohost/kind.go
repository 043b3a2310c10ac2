package mongohost

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs/internal/hostconn"
	"github.com/sluice-dev/sluice/hostfuncs/internal/rescache"
)

// codeDBError is the code of an error the database answered with.
const codeDBError engine.Code = "db_error"

// Kind serves the mongo.* host calls. The zero value is not usable; make
// one with New.
type Kind struct {
	clients rescache.Cache[*client]
}

// New returns a Kind with no clients yet.
func New() *Kind { return &Kind{} }

// Evict closes the clients of every target whose Key starts with prefix.
func (k *Kind) Evict(prefix string) { k.clients.Evict(prefix) }

// EvictIdle closes the clients unused since cutoff.
func (k *Kind) EvictIdle(cutoff time.Time) { k.clients.EvictIdle(cutoff) }

// Close closes every client.
func (k *Kind) Close() error { return k.clients.Close() }

// Call runs op (mongo.find, mongo.insertOne, ...) for target t.
func (k *Kind) Call(ctx context.Context, t *hostconn.Target, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	run, ok := ops[op]
	if !ok {
		return nil, engine.Errorf(engine.CodeNotImplemented, "unknown host call %q", op)
	}
	if t.DBType != "mongodb" {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: the connection's database type is %q, not mongodb", op, t.DBType)
	}
	tr.Target = hostsOf(uri(t))
	c, err := k.clients.Get(ctx, t.Key, func() (*client, error) { return open(ctx, t) })
	if err != nil {
		return nil, hostconn.GuestError(err, codeDBError)
	}
	tr.Target = c.target
	qctx, cancel := hostconn.WithQueryTimeout(ctx, t.Limits)
	defer cancel()
	x := &call{ctx: qctx, c: c, op: op, limits: t.Limits, tr: tr}
	res, err := run(x, req)
	if err != nil {
		return nil, x.guestError(err)
	}
	return res, nil
}

// call is one host call in progress.
type call struct {
	ctx    context.Context
	c      *client
	op     string
	limits hostconn.Limits
	tr     *engine.HostCall
}

var ops = map[string]func(*call, []byte) (json.RawMessage, error){
	"mongo.find":           (*call).find,
	"mongo.findOne":        (*call).findOne,
	"mongo.insertOne":      (*call).insertOne,
	"mongo.updateOne":      (*call).updateOne,
	"mongo.updateMany":     (*call).updateMany,
	"mongo.deleteOne":      (*call).deleteOne,
	"mongo.deleteMany":     (*call).deleteMany,
	"mongo.countDocuments": (*call).countDocuments,
	"mongo.aggregate":      (*call).aggregate,
}

type findRequest struct {
	Collection string          `json:"collection"`
	Filter     json.RawMessage `json:"filter"`
	Projection json.RawMessage `json:"projection"`
	Sort       json.RawMessage `json:"sort"`
	Skip       int64           `json:"skip"`
	Limit      int64           `json:"limit"`
	Relaxed    bool            `json:"relaxed"`
}

type insertRequest struct {
	Collection string          `json:"collection"`
	Document   json.RawMessage `json:"document"`
}

type updateRequest struct {
	Collection string          `json:"collection"`
	Filter     json.RawMessage `json:"filter"`
	Update     json.RawMessage `json:"update"`
	Upsert     bool            `json:"upsert"`
}

type filterRequest struct {
	Collection string          `json:"collection"`
	Filter     json.RawMessage `json:"filter"`
}

type aggregateRequest struct {
	Collection string          `json:"collection"`
	Pipeline   json.RawMessage `json:"pipeline"`
	Relaxed    bool            `json:"relaxed"`
}

// decode reads the request strictly: an unknown field (a "database", a
// misspelt "filtre") is an error rather than silently ignored.
func (x *call) decode(req []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(req))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if strings.Contains(msg, `unknown field "database"`) || strings.Contains(msg, `unknown field "db"`) {
			msg += " (the database is the connection's; a request names only the collection)"
		}
		return engine.Errorf(engine.CodeInvalidInput, "%s: bad request: %s", x.op, msg)
	}
	return nil
}

// collection checks name and returns the collection, recording the
// statement ("find users") for the trace.
func (x *call) collection(name string) (*mongo.Collection, error) {
	switch {
	case name == "":
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: collection is required", x.op)
	case strings.ContainsAny(name, "$\x00"):
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: invalid collection name %q", x.op, name)
	case strings.HasPrefix(name, "system."):
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: system collections are not accessible", x.op)
	}
	x.tr.Statement = strings.TrimPrefix(x.op, "mongo.") + " " + name
	return x.c.db.Collection(name), nil
}

func (x *call) find(req []byte) (json.RawMessage, error) {
	return x.findDocs(req, false)
}

func (x *call) findOne(req []byte) (json.RawMessage, error) {
	return x.findDocs(req, true)
}

func (x *call) findDocs(req []byte, one bool) (json.RawMessage, error) {
	var in findRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	filter, err := parseDoc(x.op, "filter", in.Filter, true)
	if err != nil {
		return nil, err
	}
	opts := options.Find()
	if !isNull(in.Projection) {
		p, err := parseDoc(x.op, "projection", in.Projection, true)
		if err != nil {
			return nil, err
		}
		opts.SetProjection(p)
	}
	if !isNull(in.Sort) {
		s, err := parseDoc(x.op, "sort", in.Sort, true)
		if err != nil {
			return nil, err
		}
		opts.SetSort(s)
	}
	if in.Skip < 0 || in.Limit < 0 {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: skip and limit must not be negative", x.op)
	}
	if in.Skip > 0 {
		opts.SetSkip(in.Skip)
	}
	max := int64(x.limits.MaxRows)
	switch {
	case one:
		opts.SetLimit(1)
	case in.Limit > 0 && (max <= 0 || in.Limit <= max):
		opts.SetLimit(in.Limit)
	case max > 0:
		opts.SetLimit(max + 1) // one more tells "over the limit" apart
	}
	cur, err := coll.Find(x.ctx, filter, opts)
	if err != nil {
		return nil, err
	}
	docs, err := x.drain(cur, in.Relaxed)
	if err != nil {
		return nil, err
	}
	if one {
		var doc json.RawMessage = []byte("null")
		if len(docs) > 0 {
			doc = docs[0]
		}
		return x.marshal(struct {
			Document json.RawMessage `json:"document"`
		}{doc})
	}
	return x.marshal(struct {
		Documents []json.RawMessage `json:"documents"`
	}{docs})
}

// drain reads a cursor into Extended JSON documents within the
// document and byte limits.
func (x *call) drain(cur *mongo.Cursor, relaxed bool) ([]json.RawMessage, error) {
	defer cur.Close(context.WithoutCancel(x.ctx))
	docs := []json.RawMessage{}
	size := 0
	for cur.Next(x.ctx) {
		if x.limits.MaxRows > 0 && len(docs) >= x.limits.MaxRows {
			return nil, engine.Errorf(engine.CodeResourceExhausted,
				"%s: more than %d documents match; narrow the filter or set a limit (and page with skip)", x.op, x.limits.MaxRows)
		}
		b, err := encodeDoc(cur.Current, relaxed)
		if err != nil {
			return nil, engine.Errorf(engine.CodeConnectorError, "%s: encoding a document as Extended JSON: %v", x.op, err)
		}
		size += len(b) + 1
		if x.limits.MaxResponseBytes > 0 && size > x.limits.MaxResponseBytes {
			return nil, engine.Errorf(engine.CodeResourceExhausted,
				"%s: the documents are over the response limit of %d bytes; set a limit or a projection", x.op, x.limits.MaxResponseBytes)
		}
		docs = append(docs, b)
		x.tr.Rows = len(docs)
	}
	if err := cur.Err(); err != nil {
		return nil, err
	}
	return docs, nil
}

func (x *call) insertOne(req []byte) (json.RawMessage, error) {
	var in insertRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	doc, err := parseDoc(x.op, "document", in.Document, false)
	if err != nil {
		return nil, err
	}
	res, err := coll.InsertOne(x.ctx, doc)
	if err != nil {
		return nil, err
	}
	x.tr.Rows = 1
	id, err := encodeValue(res.InsertedID, false)
	if err != nil {
		return nil, engine.Errorf(engine.CodeConnectorError, "%s: encoding insertedId: %v", x.op, err)
	}
	return x.marshal(struct {
		InsertedID json.RawMessage `json:"insertedId"`
	}{id})
}

func (x *call) updateOne(req []byte) (json.RawMessage, error)  { return x.update(req, false) }
func (x *call) updateMany(req []byte) (json.RawMessage, error) { return x.update(req, true) }

func (x *call) update(req []byte, many bool) (json.RawMessage, error) {
	var in updateRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	filter, err := parseDoc(x.op, "filter", in.Filter, true)
	if err != nil {
		return nil, err
	}
	if isNull(in.Update) {
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: update is required", x.op)
	}
	update, err := parseValue(x.op, "update", in.Update)
	if err != nil {
		return nil, err
	}
	switch u := update.(type) {
	case bson.D:
		if len(u) == 0 || !strings.HasPrefix(u[0].Key, "$") {
			return nil, engine.Errorf(engine.CodeInvalidInput, `%s: update must use update operators such as {"$set": {...}}`, x.op)
		}
	case bson.A:
		if err := checkPipeline(x.op, u); err != nil {
			return nil, err
		}
	default:
		return nil, engine.Errorf(engine.CodeInvalidInput, "%s: update must be a document or a pipeline, not %s", x.op, typeName(update))
	}
	var res *mongo.UpdateResult
	if many {
		res, err = coll.UpdateMany(x.ctx, filter, update, options.UpdateMany().SetUpsert(in.Upsert))
	} else {
		res, err = coll.UpdateOne(x.ctx, filter, update, options.UpdateOne().SetUpsert(in.Upsert))
	}
	if err != nil {
		return nil, err
	}
	x.tr.Rows = int(res.ModifiedCount + res.UpsertedCount)
	out := struct {
		MatchedCount  int64           `json:"matchedCount"`
		ModifiedCount int64           `json:"modifiedCount"`
		UpsertedID    json.RawMessage `json:"upsertedId,omitempty"`
	}{MatchedCount: res.MatchedCount, ModifiedCount: res.ModifiedCount}
	if res.UpsertedID != nil {
		if out.UpsertedID, err = encodeValue(res.UpsertedID, false); err != nil {
			return nil, engine.Errorf(engine.CodeConnectorError, "%s: encoding upsertedId: %v", x.op, err)
		}
	}
	return x.marshal(out)
}

func (x *call) deleteOne(req []byte) (json.RawMessage, error)  { return x.delete(req, false) }
func (x *call) deleteMany(req []byte) (json.RawMessage, error) { return x.delete(req, true) }

func (x *call) delete(req []byte, many bool) (json.RawMessage, error) {
	var in filterRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	filter, err := parseDoc(x.op, "filter", in.Filter, true)
	if err != nil {
		return nil, err
	}
	var res *mongo.DeleteResult
	if many {
		res, err = coll.DeleteMany(x.ctx, filter)
	} else {
		res, err = coll.DeleteOne(x.ctx, filter)
	}
	if err != nil {
		return nil, err
	}
	x.tr.Rows = int(res.DeletedCount)
	return x.marshal(struct {
		DeletedCount int64 `json:"deletedCount"`
	}{res.DeletedCount})
}

func (x *call) countDocuments(req []byte) (json.RawMessage, error) {
	var in filterRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	filter, err := parseDoc(x.op, "filter", in.Filter, true)
	if err != nil {
		return nil, err
	}
	n, err := coll.CountDocuments(x.ctx, filter)
	if err != nil {
		return nil, err
	}
	return x.marshal(struct {
		Count int64 `json:"count"`
	}{n})
}

func (x *call) aggregate(req []byte) (json.RawMessage, error) {
	var in aggregateRequest
	if err := x.decode(req, &in); err != nil {
		return nil, err
	}
	coll, err := x.collection(in.Collection)
	if err != nil {
		return nil, err
	}
	pipeline, err := parseArray(x.op, "pipeline", in.Pipeline)
	if err != nil {
		return nil, err
	}
	if err := checkPipeline(x.op, pipeline); err != nil {
		return nil, err
	}
	cur, err := coll.Aggregate(x.ctx, pipeline)
	if err != nil {
		return nil, err
	}
	docs, err := x.drain(cur, in.Relaxed)
	if err != nil {
		return nil, err
	}
	return x.marshal(struct {
		Documents []json.RawMessage `json:"documents"`
	}{docs})
}

func (x *call) marshal(v any) (json.RawMessage, error) {
	return hostconn.Marshal(x.op, x.limits, v)
}

// errorCoder is what the driver's server errors (CommandError,
// WriteException, BulkWriteException) have in common.
type errorCoder interface{ ErrorCodes() []int }

// guestError maps an operation's error to what the guest sees: server
// errors become db_error with the server's code in details.mongoCode;
// a server that cannot be reached is explained by the gate's refusal or
// the last connect error.
func (x *call) guestError(err error) error {
	var ee *engine.Error
	if errors.As(err, &ee) {
		return ee
	}
	var sel topology.ServerSelectionError
	if errors.As(err, &sel) {
		return x.c.selectionError(x.ctx, x.op)
	}
	if mongo.IsTimeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return &engine.Error{Code: engine.CodeTimeout, Message: x.op + ": " + err.Error()}
	}
	var ec errorCoder
	if errors.As(err, &ec) {
		if codes := ec.ErrorCodes(); len(codes) > 0 {
			e := &engine.Error{Code: codeDBError, Message: x.op + ": " + err.Error(),
				Details: map[string]string{"mongoCode": strconv.Itoa(codes[0])}}
			var ce mongo.CommandError
			if errors.As(err, &ce) && ce.Name != "" {
				e.Details["codeName"] = ce.Name
			}
			if mongo.IsDuplicateKeyError(err) {
				e.Details["duplicateKey"] = "true"
				e.Owns = engine.CodeUserExists
			}
			return e
		}
	}
	g := hostconn.GuestError(err, codeDBError)
	if ge, ok := g.(*engine.Error); ok && ge.Code == codeDBError {
		ge.Message = x.op + ": " + ge.Message
	}
	return g
}
