package examplestest

import (
	"context"
	"net"
	"net/url"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sluice-dev/sluice/hostfuncs"
)

func TestMongoDB(t *testing.T) {
	t.Parallel()
	runSuite(t, mongoFixture(t))
}

// mongoFixture creates a database of its own on the test server with the
// indexes of examples/mongodb/init.js and the seed users in "users" (the
// template's default collection).
func mongoFixture(t *testing.T) fixture {
	base, err := url.Parse(env("SLUICE_TEST_MONGO_URI", "mongodb://127.0.0.1:27017/"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client, err := mongo.Connect(options.Client().ApplyURI(base.String()).SetServerSelectionTimeout(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Disconnect(context.Background()) })
	dbName := uniqueName("sluice_examples")
	db := client.Database(dbName)
	t.Cleanup(func() { db.Drop(context.Background()) })

	users := db.Collection("users")
	for _, field := range []string{"email", "username", "phone"} {
		_, err := users.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys: bson.D{{Key: field, Value: 1}}, Options: options.Index().SetUnique(true).SetSparse(true)})
		if err != nil {
			t.Fatalf("no MongoDB-wire server at %s? (run scripts/test-services.sh up): %v", base.Host, err)
		}
	}
	ids := map[string]string{}
	for _, u := range seedUsers {
		doc := bson.D{{Key: "email", Value: u.email}, {Key: "username", Value: u.username},
			{Key: "phone", Value: u.phone}, {Key: "nickname", Value: u.nickname},
			{Key: "created_at", Value: time.Now()}}
		if u.name != "" {
			doc = append(doc, bson.E{Key: "name", Value: u.name})
		}
		if u.emailVerified {
			doc = append(doc, bson.E{Key: "email_verified", Value: true})
		}
		if u.phoneVerified {
			doc = append(doc, bson.E{Key: "phone_verified", Value: true})
		}
		if u.customData != nil {
			doc = append(doc, bson.E{Key: "custom_data", Value: u.customData})
		}
		if h, ok := seedHashes()[u.key]; ok {
			doc = append(doc, bson.E{Key: "password_hash", Value: h})
		}
		res, err := users.InsertOne(ctx, doc)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.key] = res.InsertedID.(bson.ObjectID).Hex()
	}

	u := *base
	u.Path = "/" + dbName
	host, _, _ := net.SplitHostPort(base.Host)
	return fixture{
		example: "mongodb",
		conn: loopback(hostfuncs.Connection{Tenant: uniqueName("t"), Name: "mongodb", ConfigVersion: 1, DBType: "mongodb",
			URI: u.String(), Database: dbName, Allowlist: []string{host}}),
		ids: ids,
		skip: map[string]string{"updateUser to a taken email": "FerretDB 1.24 (SQLite) answers a unique index " +
			"violation of an update with InternalError instead of duplicate key error 11000"},
		hash: func(t *testing.T, id string) string {
			oid, err := bson.ObjectIDFromHex(id)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				PasswordHash string `bson:"password_hash"`
			}
			if err := users.FindOne(context.Background(), bson.M{"_id": oid}).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			return doc.PasswordHash
		},
	}
}
