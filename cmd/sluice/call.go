package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/hostfuncs/egress"
	"github.com/sluice-dev/sluice/internal/jsonx"
	"github.com/sluice-dev/sluice/internal/jsrt"
	"github.com/sluice-dev/sluice/internal/userflow"
)

// Exit codes of the commands.
const (
	exitOK        = 0
	exitConnector = 1 // the connector returned an error
	exitFailure   = 1 // new, build or deploy failed
	exitUsage     = 2 // bad usage or a bad module
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// parseInterleaved parses flags that may come before, between or after
// the positional arguments.
// The usage and errors go where parseFlags sends them.
func parseInterleaved(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, error) {
	var positional []string
	for {
		if err := parseFlags(fs, args, stdout, stderr); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

func call(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("call", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: sluice call FILE.wasm|FILE.js FUNCTION --input JSON|@file|- [--context JSON] [--env K=V]... [--db-type TYPE] [--allow ENTRY]... [--allow-private] [--timeout D] [--memory SIZE]\n\nFUNCTION is one of %s.\n\n", strings.Join(engine.Functions(), ", "))
		fs.PrintDefaults()
	}
	input := fs.String("input", "{}", "the function's JSON input, @file to read it from a file, or - for standard input")
	callCtx := fs.String("context", "", `the input's "context" object, JSON (default: {"tenant":"local","connection":"local","requestId":RANDOM}, shaped as the server's; an input with its own "context" keeps it)`)
	var envs, allow multiFlag
	fs.Var(&envs, "env", "an environment variable K=V of the connector (DB_CONNECTION_URI, DB_HOST, ... or your own); repeatable")
	fs.Var(&allow, "allow", "an egress allowlist entry (203.0.113.0/24, db.example.com:5432, ...); repeatable")
	allowPrivate := fs.Bool("allow-private", false, "let allowlisted private and loopback addresses through (a database on this machine or its network)")
	dbType := fs.String("db-type", "", "postgres, mysql, mongodb or http (default: from DB_CONNECTION_URI's scheme; required with DB_HOST, DB_PORT, ... and no URI, or a URI without a scheme)")
	timeout := fs.Duration("timeout", 10*time.Second, "the call's time limit")
	memory := fs.String("memory", "64MiB", "the instance's memory limit")
	positional, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return exitOf(err)
	}
	if len(positional) != 2 {
		fs.Usage()
		return exitUsage
	}
	file, function := positional[0], positional[1]
	if !engine.IsFunction(function) {
		fmt.Fprintf(stderr, "sluice call: unknown function %q (one of %s)\n", function, strings.Join(engine.Functions(), ", "))
		return exitUsage
	}
	in, err := readInput(*input, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "sluice call: --input: %v\n", err)
		return exitUsage
	}
	if in, err = withContext(in, *callCtx); err != nil {
		fmt.Fprintf(stderr, "sluice call: %v\n", err)
		return exitUsage
	}
	memBytes, err := parseSize(*memory)
	if err != nil {
		fmt.Fprintf(stderr, "sluice call: --memory: %v\n", err)
		return exitUsage
	}
	env := map[string]string{}
	for _, kv := range envs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			fmt.Fprintf(stderr, "sluice call: --env %q: want K=V\n", kv)
			return exitUsage
		}
		env[k] = v
	}
	conn, err := connectionFromEnv(env, *dbType, allow)
	if err != nil {
		fmt.Fprintf(stderr, "sluice call: %v\n", err)
		return exitUsage
	}

	eng, m, sc, code := loadModule(ctx, file, *timeout, stderr)
	if eng == nil {
		return code
	}
	defer eng.Close(context.Background())
	// This is the developer's own machine, not a node serving tenants:
	// --allow-private grants every private range, loopback and the
	// machine's own addresses included (a server never opens those
	// unless a tenant's grant names them).
	hosts := hostfuncs.New(hostfuncs.Config{Egress: egress.Config{OwnMachine: true}})
	defer hosts.Close()
	conn.AllowPrivateNetworks = *allowPrivate
	host, err := hosts.Host(conn)
	if err != nil {
		fmt.Fprintf(stderr, "sluice call: %v\n", err)
		return exitUsage
	}
	req := engine.Request{
		Tenant:   "local",
		Pool:     "call",
		Function: function,
		Input:    in,
		Env:      env,
		Limits:   engine.Limits{Timeout: *timeout, MemoryBytes: memBytes},
		Host:     host,
	}
	var res *engine.Result
	if sc != nil {
		res, _ = sc.Prepare(&req)
	}
	if res == nil {
		res, err = eng.Call(ctx, m, req)
	} else {
		err = res.Error
	}
	if res == nil {
		fmt.Fprintf(stderr, "sluice call: %v\n", err)
		return exitUsage
	}
	printReport(stderr, res)
	var ee *engine.Error
	if errors.As(err, &ee) {
		writeJSON(stdout, ee)
		return exitConnector
	}
	// What the user-flow routes would refuse (a user without an "id", a
	// numeric "id", ...) fails here too, with the message the tenant sees
	// in the debug route's terms and the server's log.
	if err := userflow.CheckResult(function, res.Output); err != nil {
		errors.As(err, &ee)
		fmt.Fprintf(stderr, "sluice call: the user-flow routes refuse this result (HTTP 502 %s %q): %s\nthe result was: %s\n",
			ee.Code, userflow.PlainMessage(ee.Code, function), ee.Message, res.Output)
		writeJSON(stdout, ee)
		return exitConnector
	}
	writeJSON(stdout, res.Output)
	return exitOK
}

// withContext adds "context" to the input object in, as the server does:
// ctxJSON when given, else a local one shaped as the server's. An input
// with its own "context" keeps it.
func withContext(in []byte, ctxJSON string) ([]byte, error) {
	in = bytes.TrimSpace(in)
	if len(in) == 0 || in[0] != '{' {
		return nil, errors.New("--input: must be a JSON object")
	}
	if jsonx.HasKey(in, "context") {
		return in, nil
	}
	if ctxJSON == "" {
		id := make([]byte, 12)
		rand.Read(id)
		return userflow.CallContext{Tenant: "local", Connection: "local", RequestID: hex.EncodeToString(id)}.WithContext(in), nil
	}
	c := bytes.TrimSpace([]byte(ctxJSON))
	if !json.Valid(c) || c[0] != '{' {
		return nil, errors.New("--context: must be a JSON object")
	}
	out := jsonx.Extend(make([]byte, 0, len(in)+len(c)+16), in)
	out = append(out, `"context":`...)
	out = append(out, c...)
	return append(out, '}'), nil
}

// loadModule reads, validates and compiles a module, with a compilation
// cache in the user's cache directory so repeated calls start fast. A
// JavaScript file is inspected and runs in the runtime module m: sc is
// then the script (nil for a module).
// startTimeout (0: the engine's default) bounds the module's start code
// when it is first probed.
func loadModule(ctx context.Context, file string, startTimeout time.Duration, stderr io.Writer) (*engine.Engine, *engine.Module, *jsrt.Script, int) {
	wasm, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return nil, nil, nil, exitUsage
	}
	cfg := engine.Config{StartTimeout: startTimeout}
	if dir, err := os.UserCacheDir(); err == nil {
		cfg.CacheDir = filepath.Join(dir, "sluice", "compile")
	}
	// The limits and compile bounds of sluice serve, so what passes here
	// passes an upload.
	if cfg.ModuleLimits, err = engine.ParseModuleLimits(os.Getenv("SLUICE_MODULE_LIMITS"), engine.ModuleLimits{}); err != nil {
		fmt.Fprintf(stderr, "sluice: SLUICE_MODULE_LIMITS: %v\n", err)
		return nil, nil, nil, exitUsage
	}
	if cfg.CompileWorker, err = compileWorkerCommand(); err != nil {
		fmt.Fprintf(stderr, "sluice: compile worker: %v\n", err)
		return nil, nil, nil, exitUsage
	}
	eng, err := engine.New(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "sluice: %v\n", err)
		return nil, nil, nil, exitUsage
	}
	var sc *jsrt.Script
	src := wasm
	// A script is a file that is not WebAssembly, unless it is named
	// .wasm (a broken module gets the module's error).
	script := jsrt.IsScript(src) && !strings.HasSuffix(strings.ToLower(file), ".wasm")
	if script {
		// A JavaScript connector runs in the runtime module, as on the
		// server.
		if wasm, err = jsrt.Module(); err != nil {
			eng.Close(context.Background())
			fmt.Fprintf(stderr, "sluice: %v\n", err)
			return nil, nil, nil, exitUsage
		}
	}
	m, err := eng.Load(ctx, wasm)
	if err == nil && script {
		sc, err = jsrt.Inspect(ctx, eng, m, "local", src, engine.Limits{Timeout: startTimeout})
	}
	if err != nil {
		eng.Close(context.Background())
		fmt.Fprintf(stderr, "sluice: %s: %v\n", file, err)
		return nil, nil, nil, exitUsage
	}
	return eng, m, sc, exitOK
}

func readInput(s string, stdin io.Reader) ([]byte, error) {
	var b []byte
	var err error
	switch {
	case s == "-":
		b, err = io.ReadAll(stdin)
	case strings.HasPrefix(s, "@"):
		b, err = os.ReadFile(s[1:])
	default:
		b = []byte(s)
	}
	if err != nil {
		return nil, err
	}
	if !json.Valid(b) {
		return nil, errors.New("not valid JSON")
	}
	return b, nil
}

// parseSize reads 64MiB, 64MB, 64M, 1GiB or a number of bytes.
func parseSize(s string) (uint64, error) {
	units := []struct {
		suffix string
		mult   uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"GB", 1 << 30}, {"MB", 1 << 20}, {"KB", 1 << 10}, {"G", 1 << 30}, {"M", 1 << 20}, {"K", 1 << 10}, {"B", 1}}
	mult := uint64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a size like 64MiB", s)
	}
	return n * mult, nil
}

// connectionFromEnv builds the connection host calls may reach from the
// same DB_* variables the connector sees.
func connectionFromEnv(env map[string]string, dbType string, allow []string) (hostfuncs.Connection, error) {
	c := hostfuncs.Connection{
		Tenant: "local", Name: "call", DBType: dbType, Allowlist: allow,
		URI: env["DB_CONNECTION_URI"], Host: env["DB_HOST"], Username: env["DB_USERNAME"],
		Password: env["DB_PASSWORD"], Database: env["DB_DATABASE"],
	}
	for _, e := range allow {
		if err := egress.ValidateEntry(e); err != nil {
			return c, fmt.Errorf("--allow: %w", err)
		}
	}
	if p := env["DB_PORT"]; p != "" {
		port, err := strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return c, fmt.Errorf("DB_PORT %q is not a port", p)
		}
		c.Port = port
	}
	if c.DBType == "" && c.URI != "" {
		u, err := url.Parse(c.URI)
		if err != nil {
			return c, fmt.Errorf("DB_CONNECTION_URI: %v", err)
		}
		switch u.Scheme {
		case "postgres", "postgresql":
			c.DBType = "postgres"
		case "mysql":
			c.DBType = "mysql"
		case "mongodb", "mongodb+srv":
			c.DBType = "mongodb"
		case "http", "https":
			c.DBType = "http"
		default:
			return c, fmt.Errorf("DB_CONNECTION_URI %q: its scheme names no database type; pass --db-type postgres, mysql, mongodb or http", redactURI(c.URI))
		}
	}
	if c.DBType == "" {
		var set []string
		for _, k := range []string{"DB_HOST", "DB_PORT", "DB_USERNAME", "DB_PASSWORD", "DB_DATABASE"} {
			if env[k] != "" {
				set = append(set, k)
			}
		}
		if len(set) > 0 {
			return c, fmt.Errorf("%s given without DB_CONNECTION_URI: pass --db-type postgres, mysql, mongodb or http to say which database they name", strings.Join(set, ", "))
		}
	}
	switch c.DBType {
	case "", "postgres", "mysql", "mongodb", "http":
	default:
		return c, fmt.Errorf("--db-type %q: want postgres, mysql, mongodb or http", c.DBType)
	}
	return c, nil
}

// redactURI is uri without the password of its user information, for an
// error message.
func redactURI(uri string) string {
	if u, err := url.Parse(uri); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			return u.Redacted()
		}
		return uri
	}
	// A DSN url cannot parse (user:pass@tcp(host)/db): drop what comes
	// before the last "@".
	if i := strings.LastIndex(uri, "@"); i >= 0 {
		return "…" + uri[i:]
	}
	return uri
}

// printReport writes the call's logs and host-call trace for a person.
func printReport(w io.Writer, res *engine.Result) {
	for _, l := range res.Logs {
		fmt.Fprintf(w, "[%s %s] %s\n", l.Stream, l.Level, l.Message)
	}
	for _, h := range res.Trace {
		line := fmt.Sprintf("host call %s", h.Op)
		if h.Target != "" {
			line += " " + h.Target
		}
		if h.Statement != "" {
			line += " " + strconv.Quote(h.Statement)
		}
		line += fmt.Sprintf(" %.3fms in=%dB out=%dB", h.DurationMs, h.BytesIn, h.BytesOut)
		if h.Rows > 0 {
			line += fmt.Sprintf(" rows=%d", h.Rows)
		}
		if h.Denied {
			line += " DENIED"
		}
		if h.Error != "" {
			line += " error: " + h.Error
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintf(w, "duration %s, memory %d KiB\n", res.Duration.Round(time.Microsecond), res.MemoryBytes>>10)
}

func writeJSON(w io.Writer, v any) {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
