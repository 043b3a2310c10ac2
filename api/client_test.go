package api_test

import (
	"bytes"
	"context"
	"net/http"
	"testing"

	"github.com/sluice-dev/sluice/internal/apiclient"
)

// TestLazyMigrationThroughTheGeneratedClient: the Go client oapi-codegen
// generates from the OpenAPI document (internal/apiclient) runs a whole
// lazy migration against the real server: the operator makes a tenant,
// the tenant configures a connection and uploads its connector, a legacy
// user's first login is migrated, the next one is local, and the
// migration's progress counts the user.
func TestLazyMigrationThroughTheGeneratedClient(t *testing.T) {
	wasm := staticWasm(t)
	e := newEnv(t, sqliteSpec(t))
	ctx := context.Background()
	bearer := func(token string) apiclient.ClientOption {
		return apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
			r.Header.Set("Authorization", "Bearer "+token)
			return nil
		})
	}
	op, err := apiclient.NewClientWithResponses(e.ts.URL, bearer(operatorToken))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := op.CreateTenantWithResponse(ctx, apiclient.TenantCreate{Name: "acme"})
	if err != nil || tr.JSON201 == nil || tr.JSON201.ApiKey == nil {
		t.Fatalf("create tenant: %v %s", err, tr.Body)
	}
	c, err := apiclient.NewClientWithResponses(e.ts.URL, bearer(*tr.JSON201.ApiKey))
	if err != nil {
		t.Fatal(err)
	}
	host, port, user, db := "db.example.com", 5432, "app", "users"
	pr, err := c.PutConnectionWithResponse(ctx, "legacy", nil, apiclient.ConnectionInput{
		Mode: "LAZY_MIGRATION", DbType: "postgres",
		Connection: apiclient.ConnParams{Host: &host, Port: &port, Username: &user, Database: &db},
	})
	if err != nil || pr.StatusCode() != http.StatusCreated {
		t.Fatalf("put connection: %v %d %s", err, pr.StatusCode(), pr.Body)
	}
	ur, err := c.UploadVersionWithBodyWithResponse(ctx, "legacy", nil, "application/wasm", bytes.NewReader(wasm))
	if err != nil || ur.JSON201 == nil || !ur.JSON201.Active {
		t.Fatalf("upload: %v %s", err, ur.Body)
	}
	email := "alice@example.com"
	for _, want := range []apiclient.LoginResultSource{"connector", "local"} {
		lr, err := c.LoginWithResponse(ctx, "legacy", apiclient.LoginRequest{Email: &email, Password: "wonderland"})
		if err != nil || lr.JSON200 == nil || lr.JSON200.Source != want || lr.JSON200.User.ExternalId == nil {
			t.Fatalf("login, want source %s: %v %s", want, err, lr.Body)
		}
	}
	wrong, err := c.LoginWithResponse(ctx, "legacy", apiclient.LoginRequest{Email: &email, Password: "not-her-password"})
	if err != nil || wrong.JSON401 == nil || wrong.JSON401.Error.Code != "wrong_password" {
		t.Fatalf("wrong password: %v %d %s", err, wrong.StatusCode(), wrong.Body)
	}
	mr, err := c.GetMigrationWithResponse(ctx, "legacy")
	if err != nil || mr.JSON200 == nil || mr.JSON200.MigratedUsers != 1 {
		t.Fatalf("migration: %v %s", err, mr.Body)
	}
}
