package mongo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Coll is one collection of the connection's database.
type Coll struct{ name string }

// Collection returns the collection called name in the connection's
// database.
func Collection(name string) Coll { return Coll{name: name} }

// Name returns the collection's name.
func (c Coll) Name() string { return c.name }

// Option tunes one operation. Each operation accepts only the options it
// documents; any other is an error.
type Option func(*settings)

type settings struct {
	projection, sort any
	skip, limit      int64
	relaxed, upsert  bool
	set              map[string]bool
}

func (s *settings) mark(name string) {
	if s.set == nil {
		s.set = map[string]bool{}
	}
	s.set[name] = true
}

// Projection selects the fields returned by Find and FindOne
// (mongo.M{"passwordHash": 0}).
func Projection(doc any) Option {
	return func(s *settings) { s.projection = doc; s.mark("Projection") }
}

// Sort orders Find and FindOne results; use a D for several keys
// (mongo.D{{"lastName", 1}, {"_id", 1}}).
func Sort(doc any) Option { return func(s *settings) { s.sort = doc; s.mark("Sort") } }

// Skip skips the first n documents of Find and FindOne.
func Skip(n int64) Option { return func(s *settings) { s.skip = n; s.mark("Skip") } }

// Limit returns at most n documents from Find (0: the host's limit).
func Limit(n int64) Option { return func(s *settings) { s.limit = n; s.mark("Limit") } }

// Relaxed asks Find, FindOne and Aggregate for relaxed Extended JSON:
// plain JSON numbers and ISO dates instead of {"$numberInt":..} and
// {"$date":{"$numberLong":..}}.
func Relaxed() Option { return func(s *settings) { s.relaxed = true; s.mark("Relaxed") } }

// Upsert makes UpdateOne and UpdateMany insert a document when the filter
// matches none.
func Upsert() Option { return func(s *settings) { s.upsert = true; s.mark("Upsert") } }

func apply(op string, opts []Option, allowed ...string) (*settings, error) {
	s := &settings{}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	for name := range s.set {
		ok := false
		for _, a := range allowed {
			ok = ok || a == name
		}
		if !ok {
			return nil, fmt.Errorf("mongo: %s does not take the option %s", op, name)
		}
	}
	return s, nil
}

// InsertOneResult is the result of InsertOne.
type InsertOneResult struct {
	// InsertedID is the document's _id as canonical Extended JSON, for
	// example {"$oid":"..."} when the host generated it.
	InsertedID json.RawMessage `json:"insertedId"`
}

// ObjectID returns the inserted _id when it is an ObjectId.
func (r InsertOneResult) ObjectID() (ObjectID, bool) {
	var id ObjectID
	if err := json.Unmarshal(r.InsertedID, &id); err != nil {
		return "", false
	}
	return id, true
}

// UpdateResult is the result of UpdateOne and UpdateMany.
type UpdateResult struct {
	MatchedCount  int64 `json:"matchedCount"`
	ModifiedCount int64 `json:"modifiedCount"`
	// UpsertedID is the _id of the document an upsert inserted, as
	// canonical Extended JSON, or nil.
	UpsertedID json.RawMessage `json:"upsertedId,omitempty"`
}

type findRequest struct {
	Collection string `json:"collection"`
	Filter     any    `json:"filter"`
	Projection any    `json:"projection,omitempty"`
	Sort       any    `json:"sort,omitempty"`
	Skip       int64  `json:"skip,omitempty"`
	Limit      int64  `json:"limit,omitempty"`
	Relaxed    bool   `json:"relaxed,omitempty"`
}

// Find runs mongo.find and decodes the documents into results, a
// pointer to a slice (of structs, of maps, of json.RawMessage). Options:
// Projection, Sort, Skip, Limit, Relaxed. When more documents match than
// the host allows, Find fails with resource_exhausted: page with Skip and
// Limit.
func (c Coll) Find(ctx context.Context, filter any, results any, opts ...Option) error {
	s, err := apply("Find", opts, "Projection", "Sort", "Skip", "Limit", "Relaxed")
	if err != nil {
		return err
	}
	if err := checkPtr("Find", results, reflect.Slice); err != nil {
		return err
	}
	var out struct {
		Documents json.RawMessage `json:"documents"`
	}
	if err := c.call(ctx, "mongo.find", c.findReq(filter, s), &out); err != nil {
		return err
	}
	return decode("mongo.find", out.Documents, results)
}

// FindOne runs mongo.findOne and decodes the first matching document into
// result; found is false when none matches. Options: Projection, Sort,
// Skip, Relaxed.
func (c Coll) FindOne(ctx context.Context, filter any, result any, opts ...Option) (found bool, err error) {
	s, err := apply("FindOne", opts, "Projection", "Sort", "Skip", "Relaxed")
	if err != nil {
		return false, err
	}
	if err := checkPtr("FindOne", result, reflect.Invalid); err != nil {
		return false, err
	}
	var out struct {
		Document json.RawMessage `json:"document"`
	}
	if err := c.call(ctx, "mongo.findOne", c.findReq(filter, s), &out); err != nil {
		return false, err
	}
	if len(out.Document) == 0 || string(out.Document) == "null" {
		return false, nil
	}
	return true, decode("mongo.findOne", out.Document, result)
}

func (c Coll) findReq(filter any, s *settings) findRequest {
	return findRequest{Collection: c.name, Filter: orEmpty(filter), Projection: s.projection,
		Sort: s.sort, Skip: s.skip, Limit: s.limit, Relaxed: s.relaxed}
}

// InsertOne runs mongo.insertOne. A document without _id gets an
// ObjectId from the host.
func (c Coll) InsertOne(ctx context.Context, document any) (InsertOneResult, error) {
	var out InsertOneResult
	if document == nil {
		return out, errors.New("mongo: InsertOne: document is nil")
	}
	err := c.call(ctx, "mongo.insertOne", struct {
		Collection string `json:"collection"`
		Document   any    `json:"document"`
	}{c.name, document}, &out)
	return out, err
}

type updateRequest struct {
	Collection string `json:"collection"`
	Filter     any    `json:"filter"`
	Update     any    `json:"update"`
	Upsert     bool   `json:"upsert,omitempty"`
}

// UpdateOne runs mongo.updateOne: update holds update operators
// (mongo.M{"$set": mongo.M{"name": "Alice"}}) or is a pipeline (an
// array). Option: Upsert.
func (c Coll) UpdateOne(ctx context.Context, filter, update any, opts ...Option) (UpdateResult, error) {
	return c.update(ctx, "UpdateOne", "mongo.updateOne", filter, update, opts)
}

// UpdateMany runs mongo.updateMany, as UpdateOne on every matching
// document.
func (c Coll) UpdateMany(ctx context.Context, filter, update any, opts ...Option) (UpdateResult, error) {
	return c.update(ctx, "UpdateMany", "mongo.updateMany", filter, update, opts)
}

func (c Coll) update(ctx context.Context, name, op string, filter, update any, opts []Option) (UpdateResult, error) {
	var out UpdateResult
	s, err := apply(name, opts, "Upsert")
	if err != nil {
		return out, err
	}
	err = c.call(ctx, op, updateRequest{Collection: c.name, Filter: orEmpty(filter), Update: update, Upsert: s.upsert}, &out)
	return out, err
}

// DeleteOne runs mongo.deleteOne and returns how many documents it
// deleted (0 or 1).
func (c Coll) DeleteOne(ctx context.Context, filter any) (int64, error) {
	return c.delete(ctx, "mongo.deleteOne", filter)
}

// DeleteMany runs mongo.deleteMany and returns how many documents it
// deleted.
func (c Coll) DeleteMany(ctx context.Context, filter any) (int64, error) {
	return c.delete(ctx, "mongo.deleteMany", filter)
}

type filterRequest struct {
	Collection string `json:"collection"`
	Filter     any    `json:"filter"`
}

func (c Coll) delete(ctx context.Context, op string, filter any) (int64, error) {
	var out struct {
		DeletedCount int64 `json:"deletedCount"`
	}
	err := c.call(ctx, op, filterRequest{c.name, orEmpty(filter)}, &out)
	return out.DeletedCount, err
}

// CountDocuments runs mongo.countDocuments.
func (c Coll) CountDocuments(ctx context.Context, filter any) (int64, error) {
	var out struct {
		Count int64 `json:"count"`
	}
	err := c.call(ctx, "mongo.countDocuments", filterRequest{c.name, orEmpty(filter)}, &out)
	return out.Count, err
}

// Aggregate runs mongo.aggregate with pipeline, an array of stages
// (mongo.A{mongo.M{"$match": ...}, mongo.D{{"$sort", ...}}}), and decodes
// the documents into results, a pointer to a slice. The host refuses
// $out, $merge and stages naming another database. Option: Relaxed.
func (c Coll) Aggregate(ctx context.Context, pipeline any, results any, opts ...Option) error {
	s, err := apply("Aggregate", opts, "Relaxed")
	if err != nil {
		return err
	}
	if err := checkPtr("Aggregate", results, reflect.Slice); err != nil {
		return err
	}
	var out struct {
		Documents json.RawMessage `json:"documents"`
	}
	err = c.call(ctx, "mongo.aggregate", struct {
		Collection string `json:"collection"`
		Pipeline   any    `json:"pipeline"`
		Relaxed    bool   `json:"relaxed,omitempty"`
	}{c.name, pipeline, s.relaxed}, &out)
	if err != nil {
		return err
	}
	return decode("mongo.aggregate", out.Documents, results)
}

func (c Coll) call(ctx context.Context, op string, req, resp any) error {
	if ctx != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	if c.name == "" {
		return errors.New("mongo: the collection has no name")
	}
	return sluice.HostCall(op, req, resp)
}

// IsDuplicateKey reports whether err is a database error for a unique
// index violation (MongoDB codes 11000, 11001, 12582).
func IsDuplicateKey(err error) bool {
	var e *sluice.Error
	if !errors.As(err, &e) || e.Code != "db_error" {
		return false
	}
	switch fmt.Sprint(e.Details["mongoCode"]) {
	case "11000", "11001", "12582":
		return true
	}
	return false
}

func orEmpty(filter any) any {
	if filter == nil {
		return M{}
	}
	return filter
}

func checkPtr(op string, v any, kind reflect.Kind) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("mongo: %s needs a non-nil pointer to decode into, not %T", op, v)
	}
	if kind != reflect.Invalid && rv.Elem().Kind() != kind {
		return fmt.Errorf("mongo: %s needs a pointer to a slice, not %T", op, v)
	}
	return nil
}

func decode(op string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("mongo: %s: decoding the result: %w", op, err)
	}
	return nil
}
