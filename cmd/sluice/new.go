package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/sluice-dev/sluice/cmd/sluice/internal/scaffold"
)

// templateHint is what the README and the next steps of a template show:
// how to make its database and how `sluice call` reaches it. A template
// without one (a new examples/NAME) gets generic directions.
type templateHint struct {
	Setup string // a command that creates the legacy table, from the module's directory
	Call  string // the flags of `sluice call` that give it a database
	Login string // a login input
	Edit  string // what to edit first
}

// aliceSQL adds a user to the users table of the postgres and mysql
// templates: her password, "her password", hashed with bcrypt (cost 10).
const aliceSQL = `INSERT INTO users (email, username, nickname, password_hash)
VALUES ('alice@example.com', 'alice', 'Alice', '$2a$10$adJnbBsolXdhIPexNmR6n.3F8JU4IBmZOuLHV74hJtbGKPYp9qbr2');`

var templateHints = map[string]templateHint{
	"static": {
		Login: `{"query":{"email":"alice@example.com"},"password":"wonderland"}`,
		Edit:  "store.go (the user list) and main.go (the handlers)",
	},
	"postgres": {
		Setup: `psql "postgres://postgres@127.0.0.1:5432/test" -f schema.sql
psql "postgres://postgres@127.0.0.1:5432/test" <<'SQL'
` + aliceSQL + `
SQL`,
		Call:  `--env DB_CONNECTION_URI=postgres://postgres@127.0.0.1:5432/test --allow 127.0.0.1:5432 --allow-private`,
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "store.go (the table's columns; USERS_TABLE names the table)",
	},
	"mysql": {
		Setup: `mariadb -h 127.0.0.1 -u root test < schema.sql
mariadb -h 127.0.0.1 -u root test <<'SQL'
` + aliceSQL + `
SQL`,
		Call:  `--db-type mysql --env 'DB_CONNECTION_URI=root@tcp(127.0.0.1:3306)/test' --allow 127.0.0.1:3306 --allow-private`,
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "store.go (the table's columns; USERS_TABLE names the table)",
	},
	"mongodb": {
		Setup: `mongosh "mongodb://127.0.0.1:27017/app" init.js`,
		Call:  `--env DB_CONNECTION_URI=mongodb://127.0.0.1:27017/app --allow 127.0.0.1:27017 --allow-private`,
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "store.go (the documents' fields)",
	},
	"wordpress": {
		Setup: `mariadb -h 127.0.0.1 -u root test < schema.sql`,
		Call:  `--db-type mysql --env 'DB_CONNECTION_URI=root@tcp(127.0.0.1:3306)/test' --allow 127.0.0.1:3306 --allow-private`,
		Login: `{"query":{"username":"admin"},"password":"her password"}`,
		Edit:  "store.go (the table prefix and the user meta you map)",
	},
	"django": {
		Setup: `psql "postgres://postgres@127.0.0.1:5432/test" -f schema.sql`,
		Call:  `--env DB_CONNECTION_URI=postgres://postgres@127.0.0.1:5432/test --allow 127.0.0.1:5432 --allow-private`,
		Login: `{"query":{"username":"ada"},"password":"her password"}`,
		Edit:  "store.go (the auth_user columns you map)",
	},
	"c": {
		Call:  `--env DB_CONNECTION_URI=postgres://postgres@127.0.0.1:5432/test --allow 127.0.0.1:5432 --allow-private`,
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "main.c (the SQL and the columns; the table is the postgres template's, see TEMPLATE.md)",
	},
	"webservice": {
		Call:  `--env DB_CONNECTION_URI=https://users.example.com/api/v1/ --env API_KEY=... --allow users.example.com:443`,
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "client.go (the service's paths and field names)",
	},
}

// hintFor is the template's hint, or a generic one.
func hintFor(name string) templateHint {
	if h, ok := templateHints[name]; ok {
		return h
	}
	return templateHint{
		Login: `{"query":{"email":"alice@example.com"},"password":"her password"}`,
		Edit:  "the sources (TEMPLATE.md says what the template does and which environment it needs)",
	}
}

// templateFile records the template a module was made from, for the
// next steps `sluice build` prints.
const templateFile = ".sluice/template"

func newModule(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("new", flag.ContinueOnError)
	templates := scaffold.Templates()
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice new DIR --template %s [--module PATH]\n\n"+
			"writes a connector module into DIR (which must not exist or be empty) that builds and tests\n"+
			"offline: the guest SDK comes with sluice, in DIR/%s. Then: sluice build DIR.\n\n", strings.Join(templates, "|"), scaffold.SDKDir)
		fs.PrintDefaults()
	}
	tmpl := fs.String("template", "", "the template: "+strings.Join(templates, ", ")+" (the repository's examples/NAME)")
	modPath := fs.String("module", "", "the Go module path (default: DIR's name)")
	positional, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return exitOf(err)
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "sluice new: want one DIR")
		fs.Usage()
		return exitUsage
	}
	dir := positional[0]
	if *tmpl == "" {
		fmt.Fprintf(stderr, "sluice new: pass --template, one of %s\n", strings.Join(templates, ", "))
		return exitUsage
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		fmt.Fprintf(stderr, "sluice new: %v\n", err)
		return exitFailure
	}
	name := filepath.Base(abs)
	if *modPath == "" {
		*modPath = defaultModulePath(name)
	}
	readme, err := renderReadme(*tmpl, name, dir)
	if err != nil {
		fmt.Fprintf(stderr, "sluice new: %v\n", err)
		return exitFailure
	}
	files, err := scaffold.Write(dir, scaffold.Options{Template: *tmpl, Module: *modPath, README: readme})
	switch {
	case errors.Is(err, scaffold.ErrUnknownTemplate):
		fmt.Fprintf(stderr, "sluice new: --template: %v\n", err)
		return exitUsage
	case errors.Is(err, scaffold.ErrNotEmpty):
		fmt.Fprintf(stderr, "sluice new: %v: choose a new DIR\n", err)
		return exitFailure
	case errors.Is(err, scaffold.ErrModulePath):
		fmt.Fprintf(stderr, "sluice new: --module %q: %v\n", *modPath, err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "sluice new: %v\n", err)
		return exitFailure
	}
	if err := os.MkdirAll(filepath.Join(dir, ".sluice"), 0o755); err == nil {
		err = os.WriteFile(filepath.Join(dir, filepath.FromSlash(templateFile)), []byte(*tmpl+"\n"), 0o644)
	}
	if err != nil {
		fmt.Fprintf(stderr, "sluice new: %v\n", err)
		return exitFailure
	}
	own := 0
	for _, f := range files {
		if !strings.HasPrefix(f, ".sluice/") {
			own++
		}
	}
	h := hintFor(*tmpl)
	fmt.Fprintf(stdout, "created %s from the template %s: %d files", dir, *tmpl, own)
	if scaffold.IsGo(*tmpl) {
		fmt.Fprintf(stdout, ", module %s, the guest SDK in %s", *modPath, filepath.Join(dir, filepath.FromSlash(scaffold.SDKDir)))
	}
	fmt.Fprintf(stdout, "\n\nnext:\n  edit %s in %s\n", h.Edit, dir)
	if scaffold.IsGo(*tmpl) {
		fmt.Fprintf(stdout, "  (cd %s && go test ./...)   # its own tests, no network needed\n", shellQuote(dir))
	}
	fmt.Fprintf(stdout, "  sluice build %s\n\n%s says how to run it locally and deploy it.\n", shellQuote(dir), filepath.Join(dir, "README.md"))
	return exitOK
}

// defaultModulePath makes a module path of a directory's name.
func defaultModulePath(name string) string {
	p := regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(strings.ToLower(name), "-")
	p = strings.Trim(p, "-.")
	if p == "" {
		p = "connector"
	}
	return p
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`).MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

var readmeTemplate = template.Must(template.New("README.md").Parse(`# {{.Name}} — a Sluice connector

Made by ` + "`sluice new {{.Dir}} --template {{.Template}}`" + `. What the template does, its
table and its environment: [TEMPLATE.md](TEMPLATE.md) (the README of the
template, examples/{{.Template}} in the Sluice repository).
{{- if .Go}} The guest SDK is in
` + "`{{.SDK}}`" + `, a copy that came with sluice (and the third-party packages the
template uses, if any, in ` + "`.sluice/deps`" + `): ` + "`go.mod`" + ` points at them with
` + "`replace`" + `, so building and testing need no module proxy. Keep ` + "`.sluice/`" + ` with the
sources.{{end}}

## Edit

Start with {{.Hint.Edit}}.

{{- if .Go}}

## Test

The tests run the handlers on the normal toolchain through the SDK's
` + "`sluicetest`" + ` package, without wasm and without a database:

` + "```sh" + `
go test ./...
` + "```" + `
{{- end}}

## Build

` + "```sh" + `
sluice build
` + "```" + `

builds ` + "`{{.Wasm}}`" + `{{if .Go}} (` + "`GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath`" + `){{else}} (with ` + "`build.sh`" + `: clang, lld,
wasi-libc and compiler-rt for wasm32; ` + "`apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32`" + `){{end}}
and prints the functions it exports and the modes it satisfies
(` + "`LAZY_MIGRATION`" + `: login and getUser; ` + "`CUSTOM_USER_STORE`" + `: all eight).

## Run it locally
{{if .Hint.Setup}}
Make the legacy table, and a user in it, first:

` + "```sh" + `
{{.Hint.Setup}}
` + "```" + `
{{end}}
` + "```sh" + `
sluice call {{.Wasm}} login {{if .Hint.Call}}{{.Hint.Call}} {{end}}\
  --input '{{.Hint.Login}}'
` + "```" + `

The result is on stdout, the connector's logs and host calls on stderr.
{{- if .Hint.Call}} ` + "`--allow`" + ` is the egress allowlist, ` + "`--allow-private`" + ` lets it reach a
private or loopback address (a database on this machine).{{end}}

## Deploy

On a Sluice server (` + "`sluice serve`" + `), with a tenant's API key and a connection
saved (` + "`PUT /v1/connections/NAME`" + `, see the Sluice README):

` + "```sh" + `
export SLUICE_SERVER=http://127.0.0.1:8080 SLUICE_KEY=sk_...
sluice deploy {{.Wasm}} --connection legacy --activate
curl -s -X POST "$SLUICE_SERVER/v1/connections/legacy/login" -H "Authorization: Bearer $SLUICE_KEY" \
  -d '{"account":"alice@example.com","password":"her password"}'
` + "```" + `

` + "`sluice deploy`" + ` uploads the module, prints its version, sha256, functions and
the functions the connection's mode still misses, and with ` + "`--activate`" + ` makes it
the connection's active version (refused while functions are missing,
unless ` + "`--force`" + `). ` + "`--server`" + ` and ` + "`--key`" + ` default to ` + "`SLUICE_SERVER`" + ` and ` + "`SLUICE_KEY`" + `.
`))

// renderReadme is the README.md of a new module.
func renderReadme(tmpl, name, dir string) ([]byte, error) {
	var b bytes.Buffer
	err := readmeTemplate.Execute(&b, map[string]any{
		"Name": name, "Dir": dir, "Template": tmpl, "Go": scaffold.IsGo(tmpl), "SDK": scaffold.SDKDir,
		"Hint": hintFor(tmpl), "Wasm": name + ".wasm",
	})
	return b.Bytes(), err
}
