package api_test

import (
	"database/sql"
	"os"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sluice-dev/sluice/internal/testpg"
)

const auth0Insert = "INSERT INTO users (email, password, nickname) VALUES ('ada@example.com', '%s', 'Ada')"

// auth0PG makes a PostgreSQL schema with testdata/js/auth0.sql and ada.
func auth0PG(t *testing.T) string {
	t.Helper()
	uri := testpg.Schema(t, "jsauth0")
	db, err := sql.Open("pgx", uri)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execFixture(t, db, strings.ReplaceAll(auth0Insert, "%s", testpg.Hash()))
	return uri
}

// auth0MySQL makes a MariaDB database with testdata/js/auth0.sql and ada.
func auth0MySQL(t *testing.T) string {
	t.Helper()
	root, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	name := randomName("jsauth0")
	if _, err := root.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("MariaDB (make test starts it): %v", err)
	}
	t.Cleanup(func() {
		if db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/"); err == nil {
			db.Exec("DROP DATABASE " + name)
			db.Close()
		}
	})
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/"+name)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execFixture(t, db, strings.ReplaceAll(auth0Insert, "%s", testpg.Hash()))
	return name
}

func execFixture(t *testing.T, db *sql.DB, insert string) {
	t.Helper()
	ddl, err := os.ReadFile("testdata/js/auth0.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(ddl), insert} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func auth0Mongo(t *testing.T) string {
	t.Helper()
	name := randomName("jsauth0")
	base := strings.TrimSuffix(strings.Split(mongoURI(), "/sluice_vocab")[0], "/")
	client, err := mongo.Connect(options.Client().ApplyURI(base + "/"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Database(name).Drop(t.Context())
		client.Disconnect(t.Context())
	})
	if _, err := client.Database(name).Collection("users").InsertOne(t.Context(), bson.M{
		"email": "ada@example.com", "password": testpg.Hash(), "nickname": "Ada",
	}); err != nil {
		t.Fatalf("FerretDB (make test starts it): %v", err)
	}
	return base + "/" + name
}

// TestAuth0Templates runs Auth0's published PostgreSQL, MySQL and MongoDB
// templates, unchanged (their hard-coded connection strings included:
// the host always reaches the connection's own database), as lazy
// migrations over the HTTP API.
func TestAuth0Templates(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	for _, tc := range []struct {
		name, fixture string
		conn          func(t *testing.T) map[string]any
		fns           int
	}{
		{"postgres", "auth0-postgres.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "postgres", "connection": map[string]any{"uri": auth0PG(t)}, "egressAllowlist": []string{"127.0.0.1:5432"}}
		}, 4},
		{"mysql", "auth0-mysql.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "mysql", "connection": map[string]any{"host": "127.0.0.1", "port": 3306, "username": "root", "database": auth0MySQL(t)},
				"egressAllowlist": []string{"127.0.0.1:3306"}}
		}, 2},
		{"mongodb", "auth0-mongodb.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "mongodb", "connection": map[string]any{"uri": auth0Mongo(t)}, "egressAllowlist": []string{"127.0.0.1:27017"}}
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, err := os.ReadFile("testdata/js/" + tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			body := tc.conn(t)
			body["mode"] = "LAZY_MIGRATION"
			conn := "auth0" + tc.name
			e.req("PUT", "/v1/connections/"+conn, key, body).must(t, 201)
			up := e.uploadJS(key, conn, script, "").must(t, 201).json(t)
			if up["active"] != true || len(up["functions"].([]any)) != tc.fns {
				t.Fatalf("upload %v", up)
			}
			base := "/v1/connections/" + conn
			debug := func(fn string, input map[string]any) map[string]any {
				return e.req("POST", base+"/debug", key, map[string]any{"function": fn, "input": input}).must(t, 200).json(t)
			}
			if d := debug("login", map[string]any{"query": map[string]any{"email": "ada@example.com"}, "password": "wrong"}); d["ok"] != false ||
				d["error"].(map[string]any)["code"] != "wrong_password" {
				t.Fatalf("wrong password: %v", d)
			}
			if d := debug("getUser", map[string]any{"query": map[string]any{"email": "nobody@example.com"}}); d["ok"] != true || d["result"] != nil {
				t.Fatalf("getByEmail of nobody: %v", d)
			}
			login := func(account, pw string) *resp {
				return e.req("POST", base+"/login", key, map[string]any{"account": account, "password": pw})
			}
			login("ada@example.com", "wrong").must(t, 401)
			first := login("ada@example.com", testpg.Password).must(t, 200).json(t)
			if u := first["user"].(map[string]any); first["source"] != "connector" || u["nickname"] != "Ada" || u["id"] == "" {
				t.Fatalf("first login %v", first)
			}
			if r := login("ada@example.com", testpg.Password).must(t, 200).json(t); r["source"] != "local" {
				t.Fatalf("second login %v", r)
			}
			e.req("POST", base+"/register", key, map[string]any{"email": "new@example.com", "password": "longenough"}).must(t, 201)
			if tc.name != "postgres" {
				return
			}
			// create (which answers nothing: getByEmail then finds the
			// new user) and remove.
			d := debug("createUser", map[string]any{"user": map[string]any{"email": "bob@example.com", "password": "longenough"}})
			if d["ok"] != true || d["result"].(map[string]any)["email"] != "bob@example.com" {
				t.Fatalf("create: %v", d)
			}
			id := d["result"].(map[string]any)["id"].(string)
			if d := debug("deleteUser", map[string]any{"id": id}); d["ok"] != true {
				t.Fatalf("remove: %v", d)
			}
			if d := debug("getUser", map[string]any{"query": map[string]any{"email": "bob@example.com"}}); d["ok"] != true || d["result"] != nil {
				t.Fatalf("after remove: %v", d)
			}
		})
	}
}
