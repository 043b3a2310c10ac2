package main

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/scaffold"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"

	_ "github.com/go-sql-driver/mysql" // the MySQL database/sql driver
	_ "github.com/jackc/pgx/v5/stdlib" // the pgx database/sql driver
)

// offline makes the go command of this test (and of `sluice build`, which
// inherits the environment) unable to download anything: no proxy, an
// empty module cache, no workspace, the local toolchain.
func offline(t *testing.T) {
	t.Helper()
	t.Setenv("GOPROXY", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOMODCACHE", t.TempDir())
	t.Setenv("GOWORK", "off")
	t.Setenv("GOTOOLCHAIN", "local")
	t.Setenv("GONOSUMDB", "")
	t.Setenv("GOSUMDB", "off")
}

// goTest runs go test ./... in dir (-trimpath: the build cache serves
// every temporary directory alike).
func goTest(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command("go", "test", "-trimpath", "-count=1", "./...")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go test ./... in %s: %v\n%s", dir, err, out)
	}
	return string(out)
}

// TestNewBuildsOffline: every template `sluice new` has makes a module,
// outside this repository, that passes its own tests and builds with
// `sluice build` with no module proxy and an empty module cache, and
// whose module serves its functions.
func TestNewBuildsOffline(t *testing.T) {
	offline(t)
	templates := scaffold.Templates()
	for _, want := range []string{"c", "django", "mongodb", "mysql", "postgres", "static", "webservice", "wordpress"} {
		if !strings.Contains(","+strings.Join(templates, ",")+",", ","+want+",") {
			t.Errorf("templates %v lack %s", templates, want)
		}
	}
	for _, tmpl := range templates {
		t.Run(tmpl, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "my-"+tmpl)
			code, stdout, stderr := runCLI(t, "", "new", dir, "--template", tmpl)
			if code != exitOK || !strings.Contains(stdout, "sluice build "+dir) {
				t.Fatalf("new: exit %d\n%s\n%s", code, stdout, stderr)
			}
			for _, f := range []string{"README.md", "TEMPLATE.md", ".gitignore"} {
				if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
					t.Error(err)
				}
			}
			if scaffold.IsGo(tmpl) {
				gomod, _ := os.ReadFile(filepath.Join(dir, "go.mod"))
				if !strings.Contains(string(gomod), "module my-"+tmpl) || !strings.Contains(string(gomod), "=> ./.sluice/guest-sdk") {
					t.Errorf("go.mod:\n%s", gomod)
				}
				goTest(t, dir)
			}
			code, stdout, stderr = runCLI(t, "", "build", dir)
			wasm := filepath.Join(dir, "my-"+tmpl+".wasm")
			if code != exitOK || !strings.Contains(stdout, "built "+wasm) || !strings.Contains(stdout, "LAZY_MIGRATION     satisfied") ||
				!strings.Contains(stdout, "sluice call "+wasm+" login") || !strings.Contains(stdout, "sluice deploy "+wasm+" --server URL") {
				t.Fatalf("build: exit %d\n%s\n%s", code, stdout, stderr)
			}
			readme, _ := os.ReadFile(filepath.Join(dir, "README.md"))
			wantReadme := []string{"sluice build", "sluice call my-" + tmpl + ".wasm login", "sluice deploy my-" + tmpl + ".wasm --connection legacy --activate"}
			if scaffold.IsGo(tmpl) {
				wantReadme = append(wantReadme, "go test ./...")
			}
			for _, want := range wantReadme {
				if !strings.Contains(string(readme), want) {
					t.Errorf("README.md lacks %q:\n%s", want, readme)
				}
			}
			switch tmpl {
			case "postgres":
				readmeRuns(t, dir, string(readme), wasm, "postgres")
			case "mysql":
				readmeRuns(t, dir, string(readme), wasm, "mysql")
			}
			if tmpl == "static" {
				code, stdout, stderr := runCLI(t, "", "call", wasm, "login", "--input", `{"query":{"email":"alice@example.com"},"password":"wonderland"}`)
				if code != exitOK || !strings.Contains(stdout, `"id": "1"`) {
					t.Errorf("call: exit %d\n%s\n%s", code, stdout, stderr)
				}
			}
		})
	}
}

// readmeRuns runs what the postgres or mysql template's README says to
// run locally, as written there (its schema.sql, its SQL, its call's
// input): the login succeeds. Only where it lives differs: a schema of
// its own on PostgreSQL; on MariaDB, a table of its own (USERS_TABLE), the
// SQL's "users" renamed to it.
func readmeRuns(t *testing.T, dir, readme, wasm, dbType string) {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "<<'SQL'\n")
	insert, _, ok2 := strings.Cut(rest, "\nSQL\n")
	_, rest, ok3 := strings.Cut(readme, "--input '")
	input, _, ok4 := strings.Cut(rest, "'")
	if !ok || !ok2 || !ok3 || !ok4 {
		t.Fatalf("README.md has no SQL heredoc or no --input:\n%s", readme)
	}
	b, err := os.ReadFile(filepath.Join(dir, "schema.sql"))
	if err != nil {
		t.Fatal(err)
	}
	ddl := string(b)
	var driver, dsn string
	args := []string{"call", wasm, "login", "--allow-private", "--input", input}
	switch dbType {
	case "postgres":
		dsn = testpg.Schema(t, "readme")
		driver = "pgx"
		args = append(args, "--env", "DB_CONNECTION_URI="+dsn, "--allow", "127.0.0.1:5432")
	case "mysql":
		dsn = os.Getenv("SLUICE_TEST_MYSQL_DSN")
		if dsn == "" {
			dsn = "root@tcp(127.0.0.1:3306)/test"
		}
		suffix := make([]byte, 6)
		rand.Read(suffix)
		table := "readme_" + hex.EncodeToString(suffix)
		ddl = strings.ReplaceAll(ddl, "users", table)
		insert = strings.ReplaceAll(insert, "INSERT INTO users", "INSERT INTO "+table)
		driver = "mysql"
		args = append(args, "--db-type", "mysql", "--env", "DB_CONNECTION_URI="+dsn, "--env", "USERS_TABLE="+table, "--allow", "127.0.0.1:3306")
		t.Cleanup(func() {
			if db, err := sql.Open("mysql", dsn); err == nil {
				db.Exec("DROP TABLE IF EXISTS " + table)
				db.Close()
			}
		})
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "multiStatements=true"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{ddl, insert} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%v\n%s", err, stmt)
		}
	}
	code, stdout, stderr := runCLI(t, "", args...)
	if code != exitOK || !strings.Contains(stdout, `"email": "alice@example.com"`) {
		t.Fatalf("the README's call: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestNewAndBuildErrors(t *testing.T) {
	full := filepath.Join(t.TempDir(), "full")
	os.MkdirAll(full, 0o755)
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	empty := t.TempDir()
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"new without --template", []string{"new", filepath.Join(t.TempDir(), "a")}, exitUsage, "pass --template, one of"},
		{"new unknown template", []string{"new", filepath.Join(t.TempDir(), "a"), "--template", "cobol"}, exitUsage, `--template: unknown template "cobol"`},
		{"new without DIR", []string{"new", "--template", "static"}, exitUsage, "want one DIR"},
		{"new into a full DIR", []string{"new", full, "--template", "static"}, exitFailure, "not empty"},
		{"new bad --module", []string{"new", filepath.Join(t.TempDir(), "a"), "--template", "static", "--module", "a b"}, exitUsage, `--module "a b"`},
		{"build two DIRs", []string{"build", "a", "b"}, exitUsage, "want at most one DIR"},
		{"build no sources", []string{"build", empty}, exitFailure, "holds no connector sources"},
		{"build not a dir", []string{"build", filepath.Join(full, "x")}, exitUsage, "is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
}

// server starts `sluice serve`, makes a tenant whose connections may
// reach the local PostgreSQL, and saves a LAZY_MIGRATION connection
// "legacy" on uri; it returns the base URL and the tenant's key.
func server(t *testing.T, uri string) (string, string) {
	t.Helper()
	t.Setenv("SLUICE_OPERATOR_TOKEN", "op")
	base, _, _ := startServe(t, "--addr", "127.0.0.1:0", "--data-dir", t.TempDir())
	var tenant struct{ ID, APIKey string }
	httpCall(t, "POST", base+"/v1/admin/tenants", "op", "application/json", []byte(`{"name":"scaffold"}`), 201, &tenant)
	q, _ := json.Marshal(map[string]any{"allowPrivateNetworks": true, "privateNetworks": []string{"127.0.0.1/32"}})
	httpCall(t, "PUT", base+"/v1/admin/tenants/"+tenant.ID+"/quotas", "op", "application/json", q, 200, nil)
	c, _ := json.Marshal(map[string]any{"mode": "LAZY_MIGRATION", "dbType": "postgres", "connection": map[string]string{"uri": uri},
		"egressAllowlist": []string{"127.0.0.1:5432"}})
	httpCall(t, "PUT", base+"/v1/connections/legacy", tenant.APIKey, "application/json", c, 201, nil)
	return base, tenant.APIKey
}

// TestNewToLazyMigration is the path, offline, for the Go and
// the C template: sluice new -> edit -> sluice build -> sluice call
// against a local PostgreSQL -> sluice deploy -> a lazy-migration login
// through the server, five commands of sluice and one request, each
// step's output naming the next.
func TestNewToLazyMigration(t *testing.T) {
	offline(t)
	for _, tc := range []struct {
		template, file, from, to string
	}{
		// The edit an author makes first, here a mark on the nickname
		// that shows the edited code is the code the server runs.
		{"postgres", "main.go", "return s.login(ctx, in.Query, in.Password)",
			"u, err := s.login(ctx, in.Query, in.Password)\n\t\tif u != nil {\n\t\t\tu.Nickname = \"edited \" + u.Nickname\n\t\t}\n\t\treturn u, err"},
		{"c", "main.c", `{ "nickname", "nickname" }`, `{ "'edited ' || nickname", "nickname" }`},
	} {
		t.Run(tc.template, func(t *testing.T) { newToLazyMigration(t, tc.template, tc.file, tc.from, tc.to) })
	}
}

func newToLazyMigration(t *testing.T, template, file, from, to string) {
	uri := testpg.LegacyUsers(t, 3) // a schema of its own, users user0..user2
	base, key := server(t, uri)
	dir := filepath.Join(t.TempDir(), "acme-users")

	// 1. sluice new
	code, stdout, stderr := runCLI(t, "", "new", dir, "--template", template)
	if code != exitOK || !strings.Contains(stdout, "sluice build "+dir) {
		t.Fatalf("new: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// 2. edit
	path := filepath.Join(dir, file)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(src), from) {
		t.Fatalf("the %s template's %s no longer has %q: update this test's edit", template, file, from)
	}
	os.WriteFile(path, []byte(strings.Replace(string(src), from, to, 1)), 0o644)

	// 3. sluice build
	code, stdout, stderr = runCLI(t, "", "build", dir)
	wasm := filepath.Join(dir, "acme-users.wasm")
	if code != exitOK || !strings.Contains(stdout, "sluice call "+wasm+" login --env DB_CONNECTION_URI=") || !strings.Contains(stdout, "sluice deploy "+wasm) {
		t.Fatalf("build: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// 4. sluice call, against the local PostgreSQL
	login := `{"query":{"username":"user1"},"password":"` + testpg.Password + `"}`
	code, stdout, stderr = runCLI(t, "", "call", wasm, "login", "--env", "DB_CONNECTION_URI="+uri, "--allow", "127.0.0.1:5432", "--allow-private", "--input", login)
	if code != exitOK || !strings.Contains(stdout, `"nickname": "edited User 1"`) {
		t.Fatalf("call: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// 5. sluice deploy
	code, stdout, stderr = runCLI(t, "", "deploy", wasm, "--server", base, "--key", key, "--connection", "legacy", "--activate")
	if code != exitOK || !strings.Contains(stdout, "version    1 (a new version)") || !strings.Contains(stdout, "active     yes") ||
		!strings.Contains(stdout, "functions  login, getUser") || !strings.Contains(stdout, "missing    none") ||
		!strings.Contains(stdout, "curl -s -X POST "+base+"/v1/connections/legacy/login -H \"Authorization: Bearer KEY\"") {
		t.Fatalf("deploy: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "uploading "+wasm) || !strings.Contains(stderr, "the server compiles") {
		t.Errorf("deploy's progress: %s", stderr)
	}
	// 6. a lazy-migration login through the server: from the connector,
	// then from the local store.
	for _, source := range []string{"connector", "local"} {
		var res struct {
			User   struct{ Nickname, ExternalID string }
			Source string
		}
		httpCall(t, "POST", base+"/v1/connections/legacy/login", key, "application/json",
			[]byte(`{"account":"user1","password":"`+testpg.Password+`"}`), 200, &res)
		if res.Source != source || res.User.Nickname != "edited User 1" || res.User.ExternalID == "" {
			t.Fatalf("login %d: %+v, want source %s", len(source), res, source)
		}
	}
}

// TestDeploy: the answers of deploy that are not a clean first upload:
// the same bytes again, a later version left inactive, the mode refusal
// and --force, and the server's errors with its code and message.
func TestDeploy(t *testing.T) {
	base, key := server(t, "postgres://app@db.example.com:5432/users")
	static := wasmbuild.TestPath(t, "../../examples/static")
	nologin := wasmbuild.TestPath(t, "../../api/testdata/nologin")
	script := filepath.Join(t.TempDir(), "connector.js")
	if err := os.WriteFile(script, []byte("async function login(q, p, c) { throw new Error('User not exists!'); }\nasync function getUser(q, c) { return null; }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deployArgs := func(file string, extra ...string) []string {
		return append([]string{"deploy", file, "--server", base, "--key", key, "--connection", "legacy"}, extra...)
	}
	steps := []struct {
		name   string
		args   []string
		code   int
		stdout []string
		stderr string
	}{
		{"first upload", deployArgs(static), exitOK, []string{"version    1 (a new version)", "active     yes"}, "uploaded"},
		{"same bytes", deployArgs(static), exitOK, []string{"version    1 (already uploaded", "active     yes"}, ""},
		{"a later version stays inactive", deployArgs(nologin), exitOK, []string{"version    2", "missing    login", "active     no", "--activate"}, ""},
		{"activate refused", deployArgs(nologin, "--activate"), exitFailure, []string{"active     no"}, "pass --force"},
		{"--force", deployArgs(nologin, "--activate", "--force"), exitOK, []string{"active     yes (activated)"}, "activating version 2"},
		{"a script", deployArgs(script), exitOK, []string{"version    3 (a new version)", "active     no"}, ""},
		{"wrong key", []string{"deploy", static, "--server", base, "--key", "sk_nope", "--connection", "legacy"}, exitFailure, nil, "401 Unauthorized unauthorized"},
		{"unknown connection", []string{"deploy", static, "--server", base, "--key", key, "--connection", "nope"}, exitFailure, nil, "not_found"},
		{"not a module", deployArgs("scaffold_test.go"), exitFailure, nil, "invalid_module"},
		{"no --server", []string{"deploy", static, "--key", key, "--connection", "legacy"}, exitUsage, nil, "pass --server"},
		{"no --key", []string{"deploy", static, "--server", base, "--connection", "legacy"}, exitUsage, nil, "pass --key"},
		{"no --connection", []string{"deploy", static, "--server", base, "--key", key}, exitUsage, nil, "pass --connection"},
		{"bad --server", deployArgs(static, "--server", "localhost:8080"), exitUsage, nil, `--server "localhost:8080"`},
		{"--force alone", deployArgs(static, "--force"), exitUsage, nil, "--force only applies with --activate"},
		{"no file", []string{"deploy", "--server", base}, exitUsage, nil, "want one FILE.wasm"},
	}
	t.Setenv("SLUICE_SERVER", "")
	t.Setenv("SLUICE_KEY", "")
	for _, tt := range steps {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runCLI(t, "", tt.args...)
			ok := code == tt.code && strings.Contains(stderr, tt.stderr)
			for _, s := range tt.stdout {
				ok = ok && strings.Contains(stdout, s)
			}
			if !ok {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
		})
	}
	// SLUICE_SERVER and SLUICE_KEY stand in for --server and --key.
	t.Setenv("SLUICE_SERVER", base)
	t.Setenv("SLUICE_KEY", key)
	if code, stdout, stderr := runCLI(t, "", "deploy", static, "--connection", "legacy"); code != exitOK || !strings.Contains(stdout, "version    1") {
		t.Errorf("with SLUICE_SERVER and SLUICE_KEY: exit %d\n%s\n%s", code, stdout, stderr)
	}
}
