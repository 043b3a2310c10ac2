// Package mongohost serves the mongo.* host calls on MongoDB (and
// MongoDB-wire servers such as FerretDB) with mongo-driver v2.
//
// One *mongo.Client is kept per connection configuration (Target.Key),
// opened on the first call and closed when the configuration changes, the
// connection is evicted or the client is idle. The client dials only
// through the connection's egress gate (Target.Dialer); options that would
// make the driver reach anything else on its own (OCSP responders, cloud
// metadata for MONGODB-AWS or MONGODB-OIDC credentials, local certificate
// files, SOCKS proxies) are refused or turned off. A mongodb+srv URI makes
// the driver look up SRV and TXT records with the system resolver; the
// hosts they name are then checked and dialed through the gate like any
// other.
//
// The database is the connection's: the path of its URI, or its Database
// field. A guest names only the collection, so it cannot reach another
// database; aggregate refuses $out and $merge, $lookup with a {db, coll}
// "from" and $unionWith naming a db, at any depth.
//
// Documents cross the boundary as MongoDB Extended JSON v2: requests may
// use canonical or relaxed form; results are canonical unless the request
// sets "relaxed", so ObjectId, dates, int64 and decimals survive the round
// trip. The operations and their JSON are documented for guest authors in
// guest-sdk/ABI.md, "MongoDB host calls".
package mongohost
