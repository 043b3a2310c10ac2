package api_test

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	_ "github.com/go-sql-driver/mysql" // the MariaDB fixture's driver
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/sluice-dev/sluice/internal/testpg"
)

func randomName(prefix string) string {
	b := make([]byte, 5)
	rand.Read(b)
	return prefix + "_" + hex.EncodeToString(b)
}

// seedMySQL makes a database of its own on the test MariaDB holding a
// users table with ada, dropped when t ends; it returns the database name.
func seedMySQL(t *testing.T) string {
	t.Helper()
	db, err := sql.Open("mysql", "root@tcp(127.0.0.1:3306)/")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	name := randomName("jsseed")
	for _, q := range []string{
		"CREATE DATABASE " + name,
		"CREATE TABLE " + name + ".users (id int AUTO_INCREMENT PRIMARY KEY, email varchar(200) UNIQUE, username varchar(200) UNIQUE, phone varchar(50) UNIQUE, password varchar(200), nickname varchar(200), photo varchar(500))",
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("MariaDB (make test starts it): %v", err)
		}
	}
	t.Cleanup(func() { db.Exec("DROP DATABASE " + name) })
	if _, err := db.Exec("INSERT INTO "+name+".users (email, username, phone, password, nickname) VALUES ('ada@example.com', 'ada', '+15550001', ?, 'Ada')", testpg.Hash()); err != nil {
		t.Fatal(err)
	}
	return name
}

// seedMongo makes a database of its own on the test FerretDB with a users
// collection holding ada, dropped when t ends; it returns its URI.
func seedMongo(t *testing.T) string {
	t.Helper()
	name := randomName("jsseed")
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
		"email": "ada@example.com", "username": "ada", "phone": "+15550001", "password": testpg.Hash(), "nickname": "Ada",
	}); err != nil {
		t.Fatalf("FerretDB (make test starts it): %v", err)
	}
	return base + "/" + name
}

// userService is the web service of the seed's web-service template: it
// checks an API key and answers login and user lookups for ada.
func userService(t *testing.T) *httptest.Server {
	ada := map[string]any{"id": "u-1", "email": "ada@example.com", "username": "ada", "nickname": "Ada"}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != "k-123" {
			w.WriteHeader(403)
			return
		}
		switch r.URL.Path {
		case "/login":
			var in map[string]string
			json.NewDecoder(r.Body).Decode(&in)
			switch {
			case in["email"] != "ada@example.com" && in["username"] != "ada":
				w.WriteHeader(404)
			case in["password"] != testpg.Password:
				w.WriteHeader(401)
			default:
				json.NewEncoder(w).Encode(ada)
			}
		case "/users":
			q := r.URL.Query()
			if q.Get("email") == "ada@example.com" || q.Get("username") == "ada" {
				json.NewEncoder(w).Encode(ada)
				return
			}
			w.WriteHeader(404)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSeedTemplatesOnOtherDatabases runs the seed product's MySQL,
// MongoDB and web-service templates, unchanged, as lazy migrations over
// the HTTP API against MariaDB, FerretDB and an httptest service.
func TestSeedTemplatesOnOtherDatabases(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.grantLoopback(tenant)
	e.req("PUT", "/v1/admin/tenants/"+tenant+"/quotas", operatorToken,
		map[string]any{"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"}}).must(t, 200)
	web := userService(t)
	for _, tc := range []struct {
		name, fixture string
		conn          func(t *testing.T) map[string]any
		hostCall      string
	}{
		{"mysql", "seed-mysql.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "mysql", "connection": map[string]any{"host": "127.0.0.1", "port": 3306, "username": "root", "database": seedMySQL(t)},
				"egressAllowlist": []string{"127.0.0.1:3306"}}
		}, "sql.query"},
		{"mongodb", "seed-mongodb.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "mongodb", "connection": map[string]any{"uri": seedMongo(t)}, "egressAllowlist": []string{"127.0.0.1:27017"}}
		}, "mongo.findOne"},
		{"webservice", "seed-webservice.js", func(t *testing.T) map[string]any {
			return map[string]any{"dbType": "http", "connection": map[string]any{"uri": web.URL}, "env": map[string]any{"API_KEY": "k-123"},
				"egressAllowlist": []string{strings.TrimPrefix(web.URL, "http://")}}
		}, "http.request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			script, err := os.ReadFile("testdata/js/" + tc.fixture)
			if err != nil {
				t.Fatal(err)
			}
			body := tc.conn(t)
			body["mode"] = "LAZY_MIGRATION"
			e.req("PUT", "/v1/connections/"+tc.name, key, body).must(t, 201)
			up := e.uploadJS(key, tc.name, script, "").must(t, 201).json(t)
			if up["active"] != true {
				t.Fatalf("upload %v", up)
			}
			base := "/v1/connections/" + tc.name
			login := func(account, pw string) *resp {
				return e.req("POST", base+"/login", key, map[string]any{"account": account, "password": pw})
			}
			for pw, want := range map[string]string{"wrong": "wrong_password"} {
				d := e.req("POST", base+"/debug", key, map[string]any{"function": "login",
					"input": map[string]any{"query": map[string]any{"email": "ada@example.com"}, "password": pw}}).must(t, 200).json(t)
				if d["ok"] != false || d["error"].(map[string]any)["code"] != want {
					t.Fatalf("debug login: %v", d)
				}
				if hc := d["hostCalls"].([]any); len(hc) == 0 || hc[0].(map[string]any)["op"] != tc.hostCall {
					t.Fatalf("host calls %v", hc)
				}
			}
			d := e.req("POST", base+"/debug", key, map[string]any{"function": "login",
				"input": map[string]any{"query": map[string]any{"email": "nobody@example.com"}, "password": "x"}}).must(t, 200).json(t)
			if d["ok"] != false || d["error"].(map[string]any)["code"] != "user_not_found" {
				t.Fatalf("debug login of an unknown user: %v", d)
			}
			login("ada@example.com", "wrong").must(t, 401)
			first := login("ada@example.com", testpg.Password).must(t, 200).json(t)
			if u := first["user"].(map[string]any); first["source"] != "connector" || u["nickname"] != "Ada" || u["username"] != "ada" {
				t.Fatalf("first login %v", first)
			}
			if r := login("ada", testpg.Password).must(t, 200).json(t); r["source"] != "local" {
				t.Fatalf("second login %v", r)
			}
			e.req("POST", base+"/register", key, map[string]any{"username": "ada", "password": "longenough"}).must(t, 409)
			e.req("POST", base+"/register", key, map[string]any{"email": "new@example.com", "password": "longenough"}).must(t, 201)
		})
	}
}
