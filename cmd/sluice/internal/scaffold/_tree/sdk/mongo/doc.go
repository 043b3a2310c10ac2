// Package mongo is the connector side of Sluice's MongoDB host calls
// (guest-sdk/ABI.md, "MongoDB host calls"): it runs find, findOne,
// insertOne, updateOne, updateMany, deleteOne, deleteMany, countDocuments
// and aggregate on the connection's database, which the host chooses; a
// connector names only the collection.
//
//	var u struct {
//		ID       mongo.ObjectID `json:"_id"`
//		Email    string         `json:"email"`
//		Hash     string         `json:"passwordHash"`
//		Created  mongo.DateTime `json:"createdAt"`
//		Logins   mongo.Int64    `json:"logins"`
//	}
//	found, err := mongo.Collection("users").FindOne(ctx, mongo.M{"email": in.Query.Email}, &u)
//
// # Extended JSON
//
// Documents cross the boundary as MongoDB Extended JSON v2. Filters,
// updates, documents and pipelines are encoded with encoding/json, so any
// value works: maps, structs, and this package's D (an ordered document,
// needed where key order matters, as in a sort on several keys). Typed
// BSON values are written as Extended JSON objects; the types here do it:
// ObjectID marshals as {"$oid":"..."}, DateTime as
// {"$date":{"$numberLong":"<ms>"}}, Int64 as {"$numberLong":"<n>"}, Int32
// as {"$numberInt":"<n>"}, Double as {"$numberDouble":"<x>"}. A plain Go
// int or float is sent as a JSON number, which the host reads as int32
// when it fits, else int64, and as a double when it has a fraction or an
// exponent.
//
// Results are canonical Extended JSON unless the call sets Relaxed, so
// every value keeps its BSON type:
//
//	{"_id": {"$oid": "65f0c0ffee0123456789abcd"},
//	 "createdAt": {"$date": {"$numberLong": "1700000000000"}},
//	 "logins": {"$numberLong": "9007199254740993"},
//	 "age": {"$numberInt": "42"},
//	 "score": {"$numberDouble": "1.5"},
//	 "name": "alice", "tags": ["a", "b"], "verified": true}
//
// Decode them into this package's types (ObjectID, DateTime, Int64,
// Int32, Double), which accept both the canonical and the relaxed forms;
// strings, booleans, arrays, nested documents and null are plain JSON and
// decode into ordinary Go fields. With Relaxed, numbers arrive as plain
// JSON numbers (int64 beyond 2^53 loses precision in float64 fields; use
// Int64 or int64) and dates between 1970 and 9999 as
// {"$date":"2023-11-14T22:13:20Z"}.
//
// # Errors
//
// A failed call returns the host's *sluice.Error: db_error for an error
// of the database, with the server's numeric code in
// Details["mongoCode"] (IsDuplicateKey reports a unique index violation),
// invalid_input for a malformed request, egress_denied, timeout or
// resource_exhausted (more documents than the host's limit: page with
// Skip and Limit).
package mongo
