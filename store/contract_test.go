package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/store"
)

// opener opens the same database every time it is called; the store is
// closed when the test ends.
type opener func(t *testing.T, key []byte) store.Store

// backend makes a fresh, empty database for one test.
type backend func(t *testing.T) opener

var testKey = bytes.Repeat([]byte{7}, 32)

// must(f())(t) fails the test when f returns an error.
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}

func wantValidation(t *testing.T, err error, field string) {
	t.Helper()
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v, want *ValidationError", err)
	}
	if field != "" && ve.Field != field {
		t.Fatalf("validation field = %q, want %q (%v)", ve.Field, field, err)
	}
}

func newTenant(t *testing.T, ctx context.Context, s store.Store, name string) store.Tenant {
	t.Helper()
	return must(s.CreateTenant(ctx, name, ""))(t)
}

func pgConn(tenant, name string) store.Connection {
	return store.Connection{
		Tenant: tenant, Name: name, Mode: store.ModeLazyMigration, DBType: store.DBPostgres,
		Connection:      store.ConnParams{Host: "db.example.com", Port: 5432, Username: "app", Password: "pw-" + name, Database: "users"},
		Env:             map[string]string{"API_TOKEN": "token-" + name, "REGION": "eu"},
		EgressAllowlist: []string{"db.example.com:5432", "203.0.113.0/24"},
		Enabled:         true,
	}
}

func wasm(n byte) []byte {
	return append([]byte("\x00asm\x01\x00\x00\x00"), bytes.Repeat([]byte{n}, 64)...)
}

func shaHex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// runContract runs the Store contract against a backend.
func runContract(t *testing.T, fresh backend) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(t *testing.T, open opener)
	}{
		{"Tenants", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			if a.ID == "" || a.Name != "acme" || a.CreatedAt.IsZero() {
				t.Fatalf("tenant = %+v", a)
			}
			if !a.Quotas.Equal(store.DefaultQuotas()) || a.Quotas.PrivateNetworks == nil {
				t.Fatalf("quotas = %+v, want defaults", a.Quotas)
			}
			_, err := s.CreateTenant(ctx, "acme", "")
			wantErr(t, err, store.ErrConflict)
			_, err = s.CreateTenant(ctx, "  ", "")
			wantValidation(t, err, "name")
			b := newTenant(t, ctx, s, "globex")
			if got := must(s.GetTenant(ctx, a.ID))(t); !reflect.DeepEqual(got, a) {
				t.Fatalf("get = %+v, want %+v", got, a)
			}
			_, err = s.GetTenant(ctx, "tn_nope")
			wantErr(t, err, store.ErrNotFound)
			list := must(s.ListTenants(ctx))(t)
			if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
				t.Fatalf("list = %+v", list)
			}
			q := store.Quotas{MemoryMB: 128, TimeoutMs: 1000, MaxConcurrency: 2, CallsPerMinute: 60, MaxModuleBytes: 1 << 20, MaxHostCalls: 50,
				CPUMsPerMinute: 1500, AllowPrivateNetworks: true, PrivateNetworks: []string{"10.0.0.0/8", "127.0.0.1:5432"}}
			if got := must(s.UpdateQuotas(ctx, a.ID, q))(t); !got.Quotas.Equal(q) {
				t.Fatalf("updated quotas = %+v", got.Quotas)
			}
			if got := must(s.GetTenant(ctx, a.ID))(t); !got.Quotas.Equal(q) {
				t.Fatalf("stored quotas = %+v", got.Quotas)
			}
			if got := must(s.GetTenant(ctx, b.ID))(t); !got.Quotas.Equal(store.DefaultQuotas()) {
				t.Fatalf("other tenant's quotas changed: %+v", got.Quotas)
			}
			// No networks is the empty list, never null.
			q.PrivateNetworks = nil
			if got := must(s.UpdateQuotas(ctx, a.ID, q))(t); got.Quotas.PrivateNetworks == nil || len(got.Quotas.PrivateNetworks) != 0 {
				t.Fatalf("privateNetworks after nil = %#v", got.Quotas.PrivateNetworks)
			}
			bad := q
			bad.TimeoutMs = 0
			_, err = s.UpdateQuotas(ctx, a.ID, bad)
			wantValidation(t, err, "timeoutMs")
			bad = q
			bad.CPUMsPerMinute = -1
			_, err = s.UpdateQuotas(ctx, a.ID, bad)
			wantValidation(t, err, "cpuMsPerMinute")
			_, err = s.UpdateQuotas(ctx, "tn_nope", q)
			wantErr(t, err, store.ErrNotFound)
		}},
		{"APIKeys", func(t *testing.T, open opener) {
			s := open(t, testKey)
			key1, hash1 := must2(t)(store.NewAPIKey())
			a := must(s.CreateTenant(ctx, "acme", hash1))(t)
			b := newTenant(t, ctx, s, "globex")
			if got := must(s.TenantByAPIKeyHash(ctx, store.HashAPIKey(key1)))(t); got.ID != a.ID {
				t.Fatalf("tenant by key = %+v", got)
			}
			_, hash2 := must2(t)(store.NewAPIKey())
			if err := s.AddAPIKey(ctx, a.ID, hash2); err != nil {
				t.Fatal(err)
			}
			wantErr(t, s.AddAPIKey(ctx, b.ID, hash2), store.ErrConflict)
			wantErr(t, s.AddAPIKey(ctx, "tn_nope", "feed"), store.ErrNotFound)
			_, err := s.CreateTenant(ctx, "initech", hash1)
			wantErr(t, err, store.ErrConflict)
			if _, err := s.GetTenant(ctx, "initech"); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("half-created tenant: %v", err)
			}
			keys := must(s.ListAPIKeys(ctx, a.ID))(t)
			if len(keys) != 2 {
				t.Fatalf("keys = %+v", keys)
			}
			if keys := must(s.ListAPIKeys(ctx, b.ID))(t); len(keys) != 0 {
				t.Fatalf("other tenant's keys = %+v", keys)
			}
			wantErr(t, s.DeleteAPIKey(ctx, b.ID, hash1), store.ErrNotFound)
			if err := s.DeleteAPIKey(ctx, a.ID, hash1); err != nil {
				t.Fatal(err)
			}
			_, err = s.TenantByAPIKeyHash(ctx, hash1)
			wantErr(t, err, store.ErrNotFound)
			if got := must(s.TenantByAPIKeyHash(ctx, hash2))(t); got.ID != a.ID {
				t.Fatalf("second key: %+v", got)
			}
		}},
		{"Connections", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			in := pgConn(a.ID, "legacy-db")
			c := must(s.PutConnection(ctx, in))(t)
			if c.ConfigVersion != 1 || c.ActiveVersion != 0 || c.CreatedAt.IsZero() || c.UpdatedAt.IsZero() {
				t.Fatalf("created = %+v", c)
			}
			got := must(s.GetConnection(ctx, a.ID, "legacy-db"))(t)
			if !equalJSON(t, got, c) {
				t.Fatalf("get = %+v\nwant %+v", got, c)
			}
			if got.Connection.Password != "pw-legacy-db" || got.Env["API_TOKEN"] != "token-legacy-db" {
				t.Fatalf("secrets not round-tripped: %+v", got)
			}
			in.Mode, in.DBType = store.ModeCustomUserStore, store.DBMySQL
			in.Connection = store.ConnParams{URI: "mysql://root:s3cret@db:3306/app"}
			in.Env = nil
			in.Enabled = false
			c2 := must(s.PutConnection(ctx, in))(t)
			if c2.ConfigVersion != 2 || !c2.CreatedAt.Equal(c.CreatedAt) {
				t.Fatalf("updated = %+v", c2)
			}
			got = must(s.GetConnection(ctx, a.ID, "legacy-db"))(t)
			if got.Connection.URI != in.Connection.URI || got.Connection.Password != "" || got.Connection.Host != "" ||
				len(got.Env) != 0 || got.Enabled || got.Mode != store.ModeCustomUserStore || got.DBType != store.DBMySQL {
				t.Fatalf("after update = %+v", got)
			}
			must(s.PutConnection(ctx, pgConn(a.ID, "another")))(t)
			list := must(s.ListConnections(ctx, a.ID))(t)
			if len(list) != 2 || list[0].Name != "another" || list[1].Name != "legacy-db" {
				t.Fatalf("list = %+v", list)
			}
			_, err := s.PutConnection(ctx, pgConn("tn_nope", "x"))
			wantErr(t, err, store.ErrNotFound)
			for _, tc := range []struct {
				field string
				edit  func(*store.Connection)
			}{
				{"name", func(c *store.Connection) { c.Name = "has space" }},
				{"name", func(c *store.Connection) { c.Name = "" }},
				{"mode", func(c *store.Connection) { c.Mode = "EAGER" }},
				{"dbType", func(c *store.Connection) { c.DBType = "oracle" }},
				{"connection.port", func(c *store.Connection) { c.Connection.Port = 70000 }},
				{"env", func(c *store.Connection) { c.Env = map[string]string{"A=B": "x"} }},
				{"egressAllowlist", func(c *store.Connection) { c.EgressAllowlist = []string{" "} }},
			} {
				c := pgConn(a.ID, "valid")
				tc.edit(&c)
				_, err := s.PutConnection(ctx, c)
				wantValidation(t, err, tc.field)
			}
			if err := s.DeleteConnection(ctx, a.ID, "another"); err != nil {
				t.Fatal(err)
			}
			_, err = s.GetConnection(ctx, a.ID, "another")
			wantErr(t, err, store.ErrNotFound)
			wantErr(t, s.DeleteConnection(ctx, a.ID, "another"), store.ErrNotFound)
		}},
		{"TenantIsolation", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			b := newTenant(t, ctx, s, "globex")
			must(s.PutConnection(ctx, pgConn(a.ID, "shared-name")))(t)
			must(s.AddVersion(ctx, a.ID, "shared-name", store.NewVersion{Functions: []string{"login"}, ABIVersion: 1}, wasm(1)))(t)
			u := must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "shared-name", Email: "x@example.com"}))(t)
			must(s.PutMigrationJob(ctx, store.MigrationJob{Tenant: a.ID, Connection: "shared-name", Status: store.JobRunning}))(t)

			_, err := s.GetConnection(ctx, b.ID, "shared-name")
			wantErr(t, err, store.ErrNotFound)
			if l := must(s.ListConnections(ctx, b.ID))(t); len(l) != 0 {
				t.Fatalf("b sees %+v", l)
			}
			_, err = s.ListVersions(ctx, b.ID, "shared-name")
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetVersion(ctx, b.ID, "shared-name", 1)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.ActivateVersion(ctx, b.ID, "shared-name", 1)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.AddVersion(ctx, b.ID, "shared-name", store.NewVersion{}, wasm(2))
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetUserByID(ctx, b.ID, "shared-name", u.ID)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.GetUserByLogin(ctx, b.ID, "shared-name", store.LoginEmail, "x@example.com")
			wantErr(t, err, store.ErrNotFound)
			_, _, err = s.ListUsers(ctx, b.ID, "shared-name", 1, 10)
			wantErr(t, err, store.ErrNotFound)
			u.Tenant = b.ID
			_, err = s.UpdateUser(ctx, u)
			wantErr(t, err, store.ErrNotFound)
			_, err = s.CreateUser(ctx, u)
			wantErr(t, err, store.ErrNotFound)
			wantErr(t, s.DeleteUser(ctx, b.ID, "shared-name", u.ID), store.ErrNotFound)
			_, err = s.GetMigrationJob(ctx, b.ID, "shared-name")
			wantErr(t, err, store.ErrNotFound)
			_, err = s.PutMigrationJob(ctx, store.MigrationJob{Tenant: b.ID, Connection: "shared-name", Status: store.JobRunning})
			wantErr(t, err, store.ErrNotFound)
			wantErr(t, s.DeleteConnection(ctx, b.ID, "shared-name"), store.ErrNotFound)

			// The same name in tenant b is its own connection.
			cb := must(s.PutConnection(ctx, pgConn(b.ID, "shared-name")))(t)
			if cb.ConfigVersion != 1 || cb.ActiveVersion != 0 {
				t.Fatalf("b's connection = %+v", cb)
			}
			if _, err := s.GetUserByID(ctx, a.ID, "shared-name", u.ID); err != nil {
				t.Fatalf("a's user after b's put: %v", err)
			}
		}},
		{"Versions", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			c := must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			_, err := s.AddVersion(ctx, a.ID, "missing", store.NewVersion{}, wasm(1))
			wantErr(t, err, store.ErrNotFound)
			_, err = s.AddVersion(ctx, a.ID, "db", store.NewVersion{}, nil)
			wantValidation(t, err, "module")
			_, err = s.AddVersion(ctx, a.ID, "db", store.NewVersion{SHA256: shaHex(wasm(9))}, wasm(1))
			wantValidation(t, err, "sha256")

			v1 := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{SHA256: shaHex(wasm(1)), Functions: []string{"login", "getUser"}, ABIVersion: 1}, wasm(1)))(t)
			if v1.Version != 1 || v1.SHA256 != shaHex(wasm(1)) || v1.Size != int64(len(wasm(1))) || v1.CreatedAt.IsZero() {
				t.Fatalf("v1 = %+v", v1)
			}
			v2 := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Functions: []string{"login"}, ABIVersion: 1}, wasm(2)))(t)
			if v2.Version != 2 || v1.Existing || v2.Existing {
				t.Fatalf("v1 = %+v, v2 = %+v", v1, v2)
			}
			// The same bytes again are the version that has them.
			again := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Functions: []string{"login", "getUser"}, ABIVersion: 1}, wasm(1)))(t)
			if !again.Existing || again.Version != 1 || !again.CreatedAt.Equal(v1.CreatedAt) || !equalJSON(t, again, v1) {
				t.Fatalf("same bytes again = %+v, want v1 %+v", again, v1)
			}
			if got := must(s.GetConnection(ctx, a.ID, "db"))(t); got.ActiveVersion != 0 || got.ConfigVersion != c.ConfigVersion {
				t.Fatalf("upload without activate changed the connection: %+v", got)
			}
			list := must(s.ListVersions(ctx, a.ID, "db"))(t)
			if len(list) != 2 || !equalJSON(t, list[0], v1) || !equalJSON(t, list[1], v2) {
				t.Fatalf("list = %+v", list)
			}
			if got := must(s.GetVersion(ctx, a.ID, "db", 2))(t); !equalJSON(t, got, v2) {
				t.Fatalf("get = %+v", got)
			}
			_, err = s.GetVersion(ctx, a.ID, "db", 4)
			wantErr(t, err, store.ErrNotFound)
			if b := must(s.ModuleBytes(ctx, v2.SHA256))(t); !bytes.Equal(b, wasm(2)) {
				t.Fatalf("module bytes differ")
			}
			_, err = s.ModuleBytes(ctx, shaHex([]byte("nothing")))
			wantErr(t, err, store.ErrNotFound)

			act := must(s.ActivateVersion(ctx, a.ID, "db", 2))(t)
			if act.ActiveVersion != 2 || act.ConfigVersion != c.ConfigVersion+1 {
				t.Fatalf("activate = %+v", act)
			}
			back := must(s.ActivateVersion(ctx, a.ID, "db", 1))(t) // rollback
			if back.ActiveVersion != 1 || back.ConfigVersion != act.ConfigVersion+1 {
				t.Fatalf("rollback = %+v", back)
			}
			_, err = s.ActivateVersion(ctx, a.ID, "db", 9)
			wantErr(t, err, store.ErrNotFound)
			if got := must(s.GetConnection(ctx, a.ID, "db"))(t); got.ActiveVersion != 1 {
				t.Fatalf("failed activate changed the active version: %+v", got)
			}
			v4 := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true, ABIVersion: 1}, wasm(4)))(t)
			if got := must(s.GetConnection(ctx, a.ID, "db"))(t); got.ActiveVersion != v4.Version || got.ConfigVersion != back.ConfigVersion+1 {
				t.Fatalf("upload with activate: %+v", got)
			}
			// A put keeps the active version.
			if got := must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t); got.ActiveVersion != v4.Version {
				t.Fatalf("put lost the active version: %+v", got)
			}
		}},
		{"KnownModuleActivates", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			must(s.PutConnection(ctx, pgConn(a.ID, "other")))(t)
			v1 := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true}, wasm(1)))(t)
			must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true}, wasm(2)))(t)
			before := must(s.GetConnection(ctx, a.ID, "db"))(t)
			got := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true}, wasm(1)))(t)
			after := must(s.GetConnection(ctx, a.ID, "db"))(t)
			if !got.Existing || got.Version != v1.Version || after.ActiveVersion != v1.Version || after.ConfigVersion != before.ConfigVersion+1 {
				t.Fatalf("known module with activate: %+v, connection %+v", got, after)
			}
			// Activating the active one again changes nothing.
			must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true}, wasm(1)))(t)
			if again := must(s.GetConnection(ctx, a.ID, "db"))(t); again.ConfigVersion != after.ConfigVersion {
				t.Fatalf("re-activating the active version: %+v", again)
			}
			// Another connection's upload of the same bytes is its own version.
			o := must(s.AddVersion(ctx, a.ID, "other", store.NewVersion{}, wasm(1)))(t)
			if o.Existing || o.Version != 1 || o.Connection != "other" {
				t.Fatalf("other connection = %+v", o)
			}
			if l := must(s.ListVersions(ctx, a.ID, "db"))(t); len(l) != 2 {
				t.Fatalf("versions = %+v", l)
			}
		}},
		{"VersionCap", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			must(s.PutConnection(ctx, pgConn(a.ID, "other")))(t)
			add := func(conn string, n byte, activate bool) store.Version {
				t.Helper()
				return must(s.AddVersion(ctx, a.ID, conn, store.NewVersion{Activate: activate, MaxVersions: 3}, wasm(n)))(t)
			}
			versions := func() []int {
				t.Helper()
				var out []int
				for _, v := range must(s.ListVersions(ctx, a.ID, "db"))(t) {
					out = append(out, v.Version)
				}
				return out
			}
			_, err := s.AddVersion(ctx, a.ID, "db", store.NewVersion{MaxVersions: 1}, wasm(1))
			wantValidation(t, err, "maxVersions")

			add("db", 1, true) // v1, active
			add("db", 2, false)
			add("other", 3, false) // another connection uses module 3
			add("db", 3, false)
			if v := add("db", 4, false); v.Version != 4 || fmt.Sprint(v.Pruned) != "[2]" {
				t.Fatalf("v4 = %+v, want version 2 pruned", v)
			}
			if got := versions(); fmt.Sprint(got) != "[1 3 4]" {
				t.Fatalf("versions = %v, want the active v1 kept and v2 pruned", got)
			}
			_, err = s.ModuleBytes(ctx, shaHex(wasm(2)))
			wantErr(t, err, store.ErrNotFound) // no version uses module 2 any more
			if v := add("db", 5, false); fmt.Sprint(v.Pruned) != "[3]" {
				t.Fatalf("v5 = %+v", v)
			}
			if b := must(s.ModuleBytes(ctx, shaHex(wasm(3))))(t); !bytes.Equal(b, wasm(3)) {
				t.Fatal("module 3 is still used by another connection and was deleted")
			}
			// Activating the new one makes the old active version prunable.
			if v := add("db", 6, true); fmt.Sprint(v.Pruned) != "[1]" {
				t.Fatalf("v6 = %+v", v)
			}
			if got := versions(); fmt.Sprint(got) != "[4 5 6]" {
				t.Fatalf("versions = %v", got)
			}
			if c := must(s.GetConnection(ctx, a.ID, "db"))(t); c.ActiveVersion != 6 {
				t.Fatalf("active = %d", c.ActiveVersion)
			}
			// Known bytes add nothing and prune nothing.
			if v := add("db", 4, false); !v.Existing || len(v.Pruned) != 0 || fmt.Sprint(versions()) != "[4 5 6]" {
				t.Fatalf("known module = %+v, versions %v", v, versions())
			}
			// Pruned bytes uploaded again are a new version.
			if v := add("db", 1, false); v.Existing || v.Version != 7 || fmt.Sprint(v.Pruned) != "[4]" {
				t.Fatalf("re-upload of pruned bytes = %+v", v)
			}
			if b := must(s.ModuleBytes(ctx, shaHex(wasm(1))))(t); !bytes.Equal(b, wasm(1)) {
				t.Fatal("module 1 lost")
			}
			// Without a cap nothing is pruned.
			for n := byte(10); n < 14; n++ {
				if v := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{}, wasm(n)))(t); len(v.Pruned) != 0 {
					t.Fatalf("uncapped upload pruned %v", v.Pruned)
				}
			}
			if got := versions(); len(got) != 7 {
				t.Fatalf("versions = %v", got)
			}
		}},
		{"ConcurrentUploads", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "same")))(t)
			must(s.PutConnection(ctx, pgConn(a.ID, "pruned")))(t)
			must(s.PutConnection(ctx, pgConn(a.ID, "kept")))(t)
			// The same bytes at once make one version.
			var wg sync.WaitGroup
			errs := make(chan error, 16)
			for range 8 {
				wg.Go(func() {
					_, err := s.AddVersion(ctx, a.ID, "same", store.NewVersion{}, wasm(1))
					errs <- err
				})
			}
			// One connection prunes modules another keeps uploading.
			for i := range 8 {
				wg.Go(func() {
					n := byte(20 + i%4)
					_, err := s.AddVersion(ctx, a.ID, "pruned", store.NewVersion{MaxVersions: 2}, wasm(n))
					if err == nil {
						_, err = s.AddVersion(ctx, a.ID, "kept", store.NewVersion{}, wasm(n))
					}
					errs <- err
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatalf("concurrent upload: %v", err)
				}
			}
			if l := must(s.ListVersions(ctx, a.ID, "same"))(t); len(l) != 1 {
				t.Fatalf("%d versions of one module", len(l))
			}
			for _, v := range must(s.ListVersions(ctx, a.ID, "kept"))(t) {
				if _, err := s.ModuleBytes(ctx, v.SHA256); err != nil {
					t.Fatalf("module of kept version %d: %v", v.Version, err)
				}
			}
		}},
		{"PlainEnv", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			in := pgConn(a.ID, "db")
			in.PlainEnv = []string{"REGION", "REGION"}
			c := must(s.PutConnection(ctx, in))(t)
			if fmt.Sprint(c.PlainEnv) != "[REGION]" {
				t.Fatalf("put = %v", c.PlainEnv)
			}
			got := must(s.GetConnection(ctx, a.ID, "db"))(t)
			if fmt.Sprint(got.PlainEnv) != "[REGION]" || got.Env["REGION"] != "eu" || got.Env["API_TOKEN"] != "token-db" {
				t.Fatalf("get = %+v", got)
			}
			if l := must(s.ListConnections(ctx, a.ID))(t); fmt.Sprint(l[0].PlainEnv) != "[REGION]" {
				t.Fatalf("list = %+v", l)
			}
			in.PlainEnv = nil
			must(s.PutConnection(ctx, in))(t)
			if got := must(s.GetConnection(ctx, a.ID, "db"))(t); got.PlainEnv == nil || len(got.PlainEnv) != 0 {
				t.Fatalf("after clearing = %#v", got.PlainEnv)
			}
			in.PlainEnv = []string{"NOT_SET"}
			_, err := s.PutConnection(ctx, in)
			wantValidation(t, err, "plainEnv")
		}},
		{"VersionAtomicity", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{ABIVersion: 1}, wasm(1)))(t)
			before := must(s.GetConnection(ctx, a.ID, "db"))(t)

			// The module row is written first; the conflicting version row must undo it.
			_, err := s.AddVersion(ctx, a.ID, "db", store.NewVersion{Version: 1, Activate: true}, wasm(2))
			wantErr(t, err, store.ErrConflict)
			_, err = s.ModuleBytes(ctx, shaHex(wasm(2)))
			wantErr(t, err, store.ErrNotFound)

			canceled, cancel := context.WithCancel(ctx)
			cancel()
			_, err = s.AddVersion(canceled, a.ID, "db", store.NewVersion{Activate: true}, wasm(3))
			if err == nil {
				t.Fatal("AddVersion with a canceled context succeeded")
			}
			_, err = s.ModuleBytes(ctx, shaHex(wasm(3)))
			wantErr(t, err, store.ErrNotFound)
			if l := must(s.ListVersions(ctx, a.ID, "db"))(t); len(l) != 1 {
				t.Fatalf("versions = %+v", l)
			}
			if after := must(s.GetConnection(ctx, a.ID, "db"))(t); after.ConfigVersion != before.ConfigVersion || after.ActiveVersion != before.ActiveVersion {
				t.Fatalf("connection changed: %+v -> %+v", before, after)
			}
			// Numbering continues after the failures.
			if v := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{}, wasm(2)))(t); v.Version != 2 {
				t.Fatalf("next version = %d", v.Version)
			}
		}},
		{"DeleteConnectionCascades", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			v := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true}, wasm(1)))(t)
			must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Email: "a@example.com"}))(t)
			must(s.PutMigrationJob(ctx, store.MigrationJob{Tenant: a.ID, Connection: "db", Status: store.JobDone}))(t)
			if err := s.DeleteConnection(ctx, a.ID, "db"); err != nil {
				t.Fatal(err)
			}
			c := must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			if c.ActiveVersion != 0 || c.ConfigVersion != 1 {
				t.Fatalf("recreated = %+v", c)
			}
			if l := must(s.ListVersions(ctx, a.ID, "db"))(t); len(l) != 0 {
				t.Fatalf("versions survived: %+v", l)
			}
			if st := must(s.UserStats(ctx, a.ID, "db"))(t); st.Count != 0 {
				t.Fatalf("users survived: %+v", st)
			}
			_, err := s.GetMigrationJob(ctx, a.ID, "db")
			wantErr(t, err, store.ErrNotFound)
			if b := must(s.ModuleBytes(ctx, v.SHA256))(t); !bytes.Equal(b, wasm(1)) {
				t.Fatal("module blob lost")
			}
		}},
		{"Users", func(t *testing.T, open opener) { testUsers(t, ctx, open(t, testKey)) }},
		{"ConcurrentFirstLogin", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			const n = 20
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					_, errs[i] = s.CreateUser(ctx, store.User{
						Tenant: a.ID, Connection: "db", ExternalID: fmt.Sprint("ext-", i),
						Email: []string{"Same@Example.com", "same@example.COM"}[i%2], Source: store.SourceConnector,
					})
				})
			}
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case errors.Is(err, store.ErrUserExists) && errors.Is(err, store.ErrConflict):
				default:
					t.Fatalf("unexpected error: %v", err)
				}
			}
			if ok != 1 {
				t.Fatalf("%d inserts succeeded, want 1", ok)
			}
			if st := must(s.UserStats(ctx, a.ID, "db"))(t); st.Count != 1 {
				t.Fatalf("stats = %+v", st)
			}
		}},
		{"Audit", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			b := newTenant(t, ctx, s, "globex")
			old := time.Now().Add(-48 * time.Hour).UTC().Truncate(time.Microsecond)
			entries := []store.AuditEntry{
				{Time: old, Tenant: a.ID, Connection: "db", RequestID: "r1", Action: "login", Subject: "u1", Code: "wrong_password", Detail: "user_not_found: no row for u1 (SQLSTATE 02000)", DurationMs: 12},
				{Tenant: a.ID, Connection: "db", RequestID: "r2", Action: "login", Subject: "u1", DurationMs: 3},
				{Tenant: a.ID, Connection: "other", RequestID: "r3", Action: "debug", DurationMs: 5},
				{Tenant: b.ID, Connection: "db", RequestID: "r4", Action: "login"},
			}
			for _, e := range entries {
				if err := s.AppendAudit(ctx, e); err != nil {
					t.Fatal(err)
				}
			}
			wantValidation(t, s.AppendAudit(ctx, store.AuditEntry{Tenant: a.ID}), "action")
			got := must(s.ListAudit(ctx, a.ID, store.AuditQuery{}))(t)
			if len(got) != 3 || got[0].RequestID != "r3" || got[2].RequestID != "r1" {
				t.Fatalf("list = %+v", got)
			}
			first := got[2]
			if !first.Time.Equal(old) || first.Code != "wrong_password" || first.Detail != "user_not_found: no row for u1 (SQLSTATE 02000)" || first.DurationMs != 12 || first.Subject != "u1" || first.ID == 0 {
				t.Fatalf("entry = %+v", first)
			}
			if got := must(s.ListAudit(ctx, a.ID, store.AuditQuery{Connection: "db", Limit: 1}))(t); len(got) != 1 || got[0].RequestID != "r2" {
				t.Fatalf("filtered = %+v", got)
			}
			if n := must(s.PruneAudit(ctx, time.Now().Add(-time.Hour)))(t); n != 1 {
				t.Fatalf("pruned %d, want 1", n)
			}
			if got := must(s.ListAudit(ctx, a.ID, store.AuditQuery{}))(t); len(got) != 2 {
				t.Fatalf("after prune = %+v", got)
			}
			if got := must(s.ListAudit(ctx, b.ID, store.AuditQuery{}))(t); len(got) != 1 || got[0].RequestID != "r4" {
				t.Fatalf("b = %+v", got)
			}
		}},
		{"MigrationJobs", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			_, err := s.GetMigrationJob(ctx, a.ID, "db")
			wantErr(t, err, store.ErrNotFound)
			_, err = s.PutMigrationJob(ctx, store.MigrationJob{Tenant: a.ID, Connection: "db"})
			wantValidation(t, err, "status")
			_, err = s.PutMigrationJob(ctx, store.MigrationJob{Tenant: a.ID, Connection: "nope", Status: store.JobRunning})
			wantErr(t, err, store.ErrNotFound)
			started := time.Now().UTC().Truncate(time.Microsecond)
			j := must(s.PutMigrationJob(ctx, store.MigrationJob{Tenant: a.ID, Connection: "db", Status: store.JobRunning, NextPage: 2, Imported: 100, LegacyTotal: 1000, StartedAt: started}))(t)
			if got := must(s.GetMigrationJob(ctx, a.ID, "db"))(t); !equalJSON(t, got, j) || !got.StartedAt.Equal(started) {
				t.Fatalf("get = %+v, want %+v", got, j)
			}
			j.Status, j.Error, j.NextPage = store.JobFailed, "connector_error: boom", 3
			j = must(s.PutMigrationJob(ctx, j))(t)
			if got := must(s.GetMigrationJob(ctx, a.ID, "db"))(t); got.Status != store.JobFailed || got.Error != j.Error || got.NextPage != 3 || got.Imported != 100 {
				t.Fatalf("updated = %+v", got)
			}
		}},
		{"ReopenKeepsData", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			c := must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			v := must(s.AddVersion(ctx, a.ID, "db", store.NewVersion{Activate: true, Functions: []string{"login"}}, wasm(1)))(t)
			u := must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Email: "a@example.com", PasswordHash: "$argon2id$x"}))(t)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for range 2 { // migrations are idempotent
				s = open(t, testKey)
				if err := s.Ping(ctx); err != nil {
					t.Fatal(err)
				}
				got := must(s.GetConnection(ctx, a.ID, "db"))(t)
				if got.Connection.Password != c.Connection.Password || got.Env["API_TOKEN"] != c.Env["API_TOKEN"] || got.ActiveVersion != v.Version {
					t.Fatalf("reopened connection = %+v", got)
				}
				if gu := must(s.GetUserByID(ctx, a.ID, "db", u.ID))(t); gu.PasswordHash != u.PasswordHash {
					t.Fatalf("reopened user = %+v", gu)
				}
				if b := must(s.ModuleBytes(ctx, v.SHA256))(t); !bytes.Equal(b, wasm(1)) {
					t.Fatal("module lost")
				}
				s.Close()
			}
			// Nodes starting together.
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					s := open(t, testKey)
					if _, err := s.GetTenant(ctx, a.ID); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}},
		{"ConcurrentFirstOpen", func(t *testing.T, open opener) {
			// Nodes starting together on an empty database: every step is
			// applied once (a second apply would fail on existing tables).
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					s := open(t, testKey)
					if _, err := s.ListTenants(ctx); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}},
		{"Calls", func(t *testing.T, open opener) {
			testCalls(t, ctx, open(t, testKey))
		}},
		{"WrongMasterKey", func(t *testing.T, open opener) {
			s := open(t, testKey)
			a := newTenant(t, ctx, s, "acme")
			must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
			s.Close()
			other := open(t, bytes.Repeat([]byte{8}, 32))
			_, err := other.GetConnection(ctx, a.ID, "db")
			wantErr(t, err, store.ErrSecret)
			if got := must(other.GetTenant(ctx, a.ID))(t); got.Name != "acme" {
				t.Fatalf("tenant = %+v", got)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.run(t, fresh(t))
		})
	}
}

func must2(t *testing.T) func(a, b string, err error) (string, string) {
	return func(a, b string, err error) (string, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

func equalJSON(t *testing.T, a, b any) bool {
	t.Helper()
	ja := must(json.Marshal(a))(t)
	jb := must(json.Marshal(b))(t)
	return bytes.Equal(ja, jb)
}

func testUsers(t *testing.T, ctx context.Context, s store.Store) {
	a := newTenant(t, ctx, s, "acme")
	must(s.PutConnection(ctx, pgConn(a.ID, "db")))(t)
	must(s.PutConnection(ctx, pgConn(a.ID, "db2")))(t)
	_, err := s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "missing", Email: "a@example.com"})
	wantErr(t, err, store.ErrNotFound)
	_, err = s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Profile: json.RawMessage(`[1]`)})
	wantValidation(t, err, "profile")
	_, err = s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Source: "magic"})
	wantValidation(t, err, "source")

	alice := must(s.CreateUser(ctx, store.User{
		Tenant: a.ID, Connection: "db", ExternalID: "legacy-1", Email: "Alice@Example.com", Username: "alice", Phone: "+15550001",
		Profile:      json.RawMessage(`{"id":"legacy-1","email":"Alice@Example.com","nickname":"Wonder","customData":{"plan":"gold"}}`),
		PasswordHash: "$argon2id$alice", Source: store.SourceConnector, PasswordSet: true,
	}))(t)
	if len(alice.ID) != 36 || alice.MigratedAt.IsZero() || alice.CreatedAt.IsZero() {
		t.Fatalf("alice = %+v", alice)
	}
	bob := must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", ID: "bob-id", Email: "bob@example.com", Source: store.SourceRegister}))(t)
	carol := must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Username: "carol", Profile: json.RawMessage(`{"name":"Carol 100% Smith"}`), Source: store.SourceImport}))(t)
	// The same identifiers in another connection are another user.
	must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db2", ID: "bob-id", Email: "bob@example.com"}))(t)

	for _, tc := range []struct {
		name string
		u    store.User
	}{
		{"email case-insensitive", store.User{Email: "ALICE@example.COM"}},
		{"username", store.User{Username: "alice"}},
		{"phone", store.User{Phone: "+15550001"}},
		{"external id", store.User{ExternalID: "legacy-1"}},
		{"id", store.User{ID: "bob-id"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.u
			u.Tenant, u.Connection = a.ID, "db"
			_, err := s.CreateUser(ctx, u)
			wantErr(t, err, store.ErrUserExists)
			wantErr(t, err, store.ErrConflict)
		})
	}

	for _, tc := range []struct {
		name string
		get  func() (store.User, error)
		want string
	}{
		{"by id", func() (store.User, error) { return s.GetUserByID(ctx, a.ID, "db", alice.ID) }, alice.ID},
		{"by external id", func() (store.User, error) { return s.GetUserByExternalID(ctx, a.ID, "db", "legacy-1") }, alice.ID},
		{"by email", func() (store.User, error) {
			return s.GetUserByLogin(ctx, a.ID, "db", store.LoginEmail, "alice@EXAMPLE.com")
		}, alice.ID},
		{"by username", func() (store.User, error) { return s.GetUserByLogin(ctx, a.ID, "db", store.LoginUsername, "carol") }, carol.ID},
		{"by phone", func() (store.User, error) { return s.GetUserByLogin(ctx, a.ID, "db", store.LoginPhone, "+15550001") }, alice.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := must(tc.get())(t)
			if u.ID != tc.want {
				t.Fatalf("got %s, want %s", u.ID, tc.want)
			}
		})
	}
	got := must(s.GetUserByID(ctx, a.ID, "db", alice.ID))(t)
	if !equalJSON(t, got, alice) || got.PasswordHash != alice.PasswordHash || !got.MigratedAt.Equal(alice.MigratedAt) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, alice)
	}
	_, err = s.GetUserByLogin(ctx, a.ID, "db", store.LoginUsername, "ALICE")
	wantErr(t, err, store.ErrNotFound)
	_, err = s.GetUserByLogin(ctx, a.ID, "db", "nickname", "x")
	wantValidation(t, err, "field")
	_, err = s.GetUserByID(ctx, a.ID, "db", "nobody")
	wantErr(t, err, store.ErrNotFound)

	// Update.
	bob.Email, bob.Phone, bob.PasswordHash, bob.PasswordSet = "Robert@example.com", "+15550002", "$argon2id$bob", true
	upd := must(s.UpdateUser(ctx, bob))(t)
	if !upd.CreatedAt.Equal(bob.CreatedAt) || upd.UpdatedAt.Before(bob.UpdatedAt) {
		t.Fatalf("updated = %+v", upd)
	}
	if u := must(s.GetUserByLogin(ctx, a.ID, "db", store.LoginEmail, "robert@example.com"))(t); u.ID != bob.ID || u.PasswordHash != "$argon2id$bob" || !u.PasswordSet {
		t.Fatalf("after update = %+v", u)
	}
	_, err = s.GetUserByLogin(ctx, a.ID, "db", store.LoginEmail, "bob@example.com")
	wantErr(t, err, store.ErrNotFound)
	bob.Username = "alice"
	_, err = s.UpdateUser(ctx, bob)
	wantErr(t, err, store.ErrUserExists)
	ghost := bob
	ghost.ID, ghost.Username = "ghost", ""
	_, err = s.UpdateUser(ctx, ghost)
	wantErr(t, err, store.ErrNotFound)

	// List, search, stats.
	list, total := must3(t)(s.ListUsers(ctx, a.ID, "db", 1, 2))
	if total != 3 || len(list) != 2 || list[0].ID != alice.ID || list[1].ID != bob.ID {
		t.Fatalf("page 1 = %d %+v", total, list)
	}
	list, total = must3(t)(s.ListUsers(ctx, a.ID, "db", 2, 2))
	if total != 3 || len(list) != 1 || list[0].ID != carol.ID {
		t.Fatalf("page 2 = %d %+v", total, list)
	}
	for _, tc := range []struct {
		keyword string
		want    []string
	}{
		{"EXAMPLE.com", []string{alice.ID, bob.ID}},
		{"wonder", []string{alice.ID}},
		{"100%", []string{carol.ID}},
		{"smith", []string{carol.ID}},
		{"5550002", []string{bob.ID}},
		{"%", []string{carol.ID}},
		{"_", nil},
		{"nobody", nil},
		{"", []string{alice.ID, bob.ID, carol.ID}},
	} {
		t.Run("search "+tc.keyword, func(t *testing.T) {
			list, total := must3(t)(s.SearchUsers(ctx, a.ID, "db", tc.keyword, 1, 10))
			if total != len(tc.want) || len(list) != len(tc.want) {
				t.Fatalf("search %q = %d %+v, want %v", tc.keyword, total, list, tc.want)
			}
			for i, id := range tc.want {
				if list[i].ID != id {
					t.Fatalf("search %q [%d] = %s, want %s", tc.keyword, i, list[i].ID, id)
				}
			}
		})
	}
	st := must(s.UserStats(ctx, a.ID, "db"))(t)
	if st.Count != 3 || !st.LastMigratedAt.Equal(alice.MigratedAt) {
		t.Fatalf("stats = %+v", st)
	}

	// Delete.
	if err := s.DeleteUser(ctx, a.ID, "db", bob.ID); err != nil {
		t.Fatal(err)
	}
	wantErr(t, s.DeleteUser(ctx, a.ID, "db", bob.ID), store.ErrNotFound)
	if _, err := s.GetUserByID(ctx, a.ID, "db2", "bob-id"); err != nil {
		t.Fatalf("db2's bob: %v", err)
	}
	// The freed email can be used again.
	must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", Email: "robert@example.com"}))(t)

	// Tombstones: bob came from nowhere and left none; alice, from the
	// connector, leaves one keyed by her legacy id and identifiers.
	_, err = s.FindTombstone(ctx, a.ID, "db", store.Tombstone{Email: "bob@example.com"})
	wantErr(t, err, store.ErrNotFound)
	if err := s.DeleteUser(ctx, a.ID, "db", alice.ID); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		q    store.Tombstone
	}{
		{"by external id", store.Tombstone{ExternalID: "legacy-1"}},
		{"by email, case-insensitive", store.Tombstone{Email: "ALICE@example.com"}},
		{"by username", store.Tombstone{Username: "alice"}},
		{"by phone", store.Tombstone{Phone: "+15550001"}},
		{"by any of several", store.Tombstone{ExternalID: "other", Username: "alice"}},
	} {
		t.Run("tombstone "+tc.name, func(t *testing.T) {
			ts := must(s.FindTombstone(ctx, a.ID, "db", tc.q))(t)
			if ts.ExternalID != "legacy-1" || ts.Email != "alice@example.com" || ts.Username != "alice" || ts.Phone != "+15550001" || ts.DeletedAt.IsZero() {
				t.Fatalf("tombstone = %+v", ts)
			}
		})
	}
	for _, tc := range []struct {
		name, tenant, conn string
		q                  store.Tombstone
	}{
		{"no match", a.ID, "db", store.Tombstone{ExternalID: "legacy-2", Username: "ALICE"}},
		{"another connection", a.ID, "db2", store.Tombstone{ExternalID: "legacy-1"}},
		{"another tenant", "other-tenant", "db", store.Tombstone{ExternalID: "legacy-1"}},
	} {
		t.Run("no tombstone "+tc.name, func(t *testing.T) {
			_, err := s.FindTombstone(ctx, tc.tenant, tc.conn, tc.q)
			wantErr(t, err, store.ErrNotFound)
		})
	}
	_, err = s.FindTombstone(ctx, a.ID, "db", store.Tombstone{})
	wantValidation(t, err, "tombstone")
	// Deleting the same legacy user again (imported anew) keeps one
	// tombstone with its latest identifiers.
	must(s.CreateUser(ctx, store.User{Tenant: a.ID, Connection: "db", ExternalID: "legacy-1", Username: "alice2", Source: store.SourceImport}))(t)
	again := must(s.GetUserByExternalID(ctx, a.ID, "db", "legacy-1"))(t)
	if err := s.DeleteUser(ctx, a.ID, "db", again.ID); err != nil {
		t.Fatal(err)
	}
	if ts := must(s.FindTombstone(ctx, a.ID, "db", store.Tombstone{ExternalID: "legacy-1"}))(t); ts.Username != "alice2" || ts.Email != "" {
		t.Fatalf("tombstone after a second delete = %+v", ts)
	}
}

func must3(t *testing.T) func(l []store.User, n int, err error) ([]store.User, int) {
	return func(l []store.User, n int, err error) ([]store.User, int) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return l, n
	}
}
