package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluice-dev/sluice/internal/apiclient"
	"github.com/sluice-dev/sluice/internal/jsrt"
)

func deploy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: sluice deploy FILE.wasm|FILE.js --server URL --key KEY --connection NAME [--activate] [--force]\n\n"+
			"uploads a module as a new version of a connection (POST /v1/connections/NAME/versions), prints\n"+
			"its version, sha256, functions and the functions the connection's mode misses, and with\n"+
			"--activate makes it the active version. Progress goes to stderr.\n\n")
		fs.PrintDefaults()
	}
	server := fs.String("server", os.Getenv("SLUICE_SERVER"), "the server's base URL, e.g. http://127.0.0.1:8080 (SLUICE_SERVER)")
	key := fs.String("key", os.Getenv("SLUICE_KEY"), "the tenant's API key (SLUICE_KEY)")
	conn := fs.String("connection", "", "the connection's name (it must exist: PUT /v1/connections/NAME)")
	activate := fs.Bool("activate", false, "make the uploaded version the connection's active one")
	force := fs.Bool("force", false, "with --activate: activate a version that cannot serve the connection's mode (its missing functions answer not_implemented)")
	timeout := fs.Duration("timeout", 5*time.Minute, "the time limit of the whole deploy")
	positional, err := parseInterleaved(fs, args, stdout, stderr)
	if err != nil {
		return exitOf(err)
	}
	if len(positional) != 1 {
		fmt.Fprintln(stderr, "sluice deploy: want one FILE.wasm")
		fs.Usage()
		return exitUsage
	}
	for _, req := range []struct{ name, value, why string }{
		{"server", *server, "the server's URL (or set SLUICE_SERVER)"},
		{"key", *key, "the tenant's API key (or set SLUICE_KEY)"},
		{"connection", *conn, "the connection's name"},
	} {
		if req.value == "" {
			fmt.Fprintf(stderr, "sluice deploy: pass --%s, %s\n", req.name, req.why)
			return exitUsage
		}
	}
	if u, err := url.Parse(*server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintf(stderr, "sluice deploy: --server %q: want a URL like http://127.0.0.1:8080\n", *server)
		return exitUsage
	}
	if *force && !*activate {
		fmt.Fprintln(stderr, "sluice deploy: --force only applies with --activate")
		return exitUsage
	}
	file := positional[0]
	wasm, err := os.ReadFile(file)
	if err != nil {
		fmt.Fprintf(stderr, "sluice deploy: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	base := strings.TrimRight(*server, "/")
	client, err := apiclient.NewClientWithResponses(base+"/", apiclient.WithRequestEditorFn(func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+*key)
		return nil
	}))
	if err != nil {
		fmt.Fprintf(stderr, "sluice deploy: --server: %v\n", err)
		return exitUsage
	}

	prog := &uploadProgress{r: bytes.NewReader(wasm), total: len(wasm), w: stderr, tty: isTerminal(stderr), file: file, done: make(chan struct{})}
	defer prog.stop()
	// A file that is not WebAssembly (and not named .wasm) is a
	// JavaScript connector, as for sluice call.
	contentType := "application/wasm"
	if jsrt.IsScript(wasm) && !strings.HasSuffix(strings.ToLower(file), ".wasm") {
		contentType = "application/javascript"
	}
	res, err := client.UploadVersionWithBodyWithResponse(ctx, *conn, &apiclient.UploadVersionParams{}, contentType, prog,
		func(_ context.Context, r *http.Request) error { r.ContentLength = int64(len(wasm)); return nil })
	prog.stop()
	if err != nil {
		fmt.Fprintf(stderr, "sluice deploy: upload to %s: %v\n", base, err)
		return exitFailure
	}
	v := res.JSON201
	if v == nil {
		v = res.JSON200
	}
	if v == nil {
		fmt.Fprintf(stderr, "sluice deploy: upload refused: %s\n", serverError(res.HTTPResponse, res.Body))
		return exitFailure
	}
	how := "a new version"
	if res.StatusCode() == http.StatusOK {
		how = "already uploaded: the connection has a version of these bytes"
	}
	fmt.Fprintf(stdout, "version    %d (%s)\n", v.Version, how)
	fmt.Fprintf(stdout, "sha256     %s (%d bytes)\n", v.Sha256, v.Size)
	fmt.Fprintf(stdout, "functions  %s\n", joinFunctions(v.Functions))
	if len(v.MissingForMode) == 0 {
		fmt.Fprintln(stdout, "missing    none: it serves the connection's mode")
	} else {
		fmt.Fprintf(stdout, "missing    %s (the connection's mode needs them)\n", joinFunctions(v.MissingForMode))
	}

	keyRef := "KEY"
	if os.Getenv("SLUICE_KEY") != "" {
		keyRef = "$SLUICE_KEY"
	}
	loginHint := fmt.Sprintf("curl -s -X POST %s/v1/connections/%s/login -H \"Authorization: Bearer %s\" -d '{\"account\":\"...\",\"password\":\"...\"}'", base, url.PathEscape(*conn), keyRef)
	if v.Active {
		fmt.Fprintf(stdout, "active     yes\n\nnext: the connection's user flows run it, e.g. a login:\n  %s\n", loginHint)
		return exitOK
	}
	if !*activate {
		why := "another version is active"
		if v.NotActivated != nil {
			why = *v.NotActivated
		}
		fmt.Fprintf(stdout, "active     no: %s\n\nnext: activate it:\n  sluice deploy %s --server %s --key KEY --connection %s --activate\n", why, shellQuote(file), base, shellQuote(*conn))
		return exitOK
	}
	if len(v.MissingForMode) > 0 && !*force {
		fmt.Fprintf(stdout, "active     no\n")
		fmt.Fprintf(stderr, "sluice deploy: not activating version %d: it lacks %s, which the connection's mode needs; implement them, or pass --force to activate it anyway (they answer not_implemented)\n",
			v.Version, joinFunctions(v.MissingForMode))
		return exitFailure
	}
	fmt.Fprintf(stderr, "sluice deploy: activating version %d\n", v.Version)
	act, err := client.ActivateVersionWithResponse(ctx, *conn, strconv.Itoa(v.Version), &apiclient.ActivateVersionParams{Force: force})
	if err != nil {
		fmt.Fprintf(stderr, "sluice deploy: activate version %d: %v\n", v.Version, err)
		return exitFailure
	}
	if act.JSON200 == nil {
		fmt.Fprintf(stdout, "active     no\n")
		fmt.Fprintf(stderr, "sluice deploy: activating version %d refused: %s\n", v.Version, serverError(act.HTTPResponse, act.Body))
		return exitFailure
	}
	fmt.Fprintf(stdout, "active     yes (activated)\n")
	if act.JSON200.ActiveVersion != v.Version {
		fmt.Fprintf(stderr, "sluice deploy: the server activated version %d, not %d\n", act.JSON200.ActiveVersion, v.Version)
		return exitFailure
	}
	fmt.Fprintf(stdout, "\nnext: the connection's user flows run it, e.g. a login:\n  %s\n", loginHint)
	return exitOK
}

// serverError is an error answer as the server gave it: the status, the
// code and message, and the details.
func serverError(res *http.Response, body []byte) string {
	status := "no answer"
	if res != nil {
		status = res.Status
	}
	var e apiclient.Error
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		s := strings.TrimSpace(string(body))
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return fmt.Sprintf("HTTP %s: %s", status, s)
	}
	msg := fmt.Sprintf("HTTP %s %s: %s", status, e.Error.Code, e.Error.Message)
	if e.Error.Details != nil && len(*e.Error.Details) > 0 {
		keys := make([]string, 0, len(*e.Error.Details))
		for k := range *e.Error.Details {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+(*e.Error.Details)[k])
		}
		msg += " (" + strings.Join(parts, ", ") + ")"
	}
	if res != nil && res.StatusCode == http.StatusUnauthorized {
		msg += "; check --key"
	}
	if res != nil && res.StatusCode == http.StatusNotFound && e.Error.Code == "not_found" {
		msg += "; check --connection (create the connection first: PUT /v1/connections/NAME)"
	}
	return msg
}

func joinFunctions(fns []apiclient.Function) string {
	s := make([]string, len(fns))
	for i, f := range fns {
		s[i] = string(f)
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// uploadProgress reports an upload on w: the bytes sent, then, once the
// body is all sent, the wait while the server compiles and probes it.
type uploadProgress struct {
	r        io.Reader
	total    int
	sent     int
	reported int
	w        io.Writer
	file     string
	tty      bool   // w is a terminal
	cr       string // "\r" once a line is to be rewritten
	done     chan struct{}
	once     sync.Once
	stopOnce sync.Once
	wg       sync.WaitGroup
}

func (p *uploadProgress) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.sent += n
	if p.sent*10/max(p.total, 1) > p.reported*10/max(p.total, 1) || p.reported == 0 && p.sent > 0 {
		// On a terminal the line is rewritten in place; elsewhere (a CI
		// log) each tenth is a line of its own.
		end := "\n"
		if p.tty && p.sent < p.total {
			end = ""
		}
		fmt.Fprintf(p.w, "%ssluice deploy: uploading %s: %d of %d bytes (%d%%)%s", p.cr, p.file, p.sent, p.total, p.sent*100/max(p.total, 1), end)
		if p.tty {
			p.cr = "\r"
		}
		p.reported = p.sent
	}
	if errors.Is(err, io.EOF) || p.sent >= p.total {
		p.once.Do(p.waiting)
	}
	return n, err
}

// waiting reports the server's compile until stop.
func (p *uploadProgress) waiting() {
	fmt.Fprintln(p.w, "sluice deploy: uploaded; the server compiles and probes the module")
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		start := time.Now()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				fmt.Fprintf(p.w, "sluice deploy: the server is still compiling (%s)\n", time.Since(start).Round(time.Second))
			}
		}
	}()
}

func (p *uploadProgress) stop() {
	p.stopOnce.Do(func() { close(p.done) })
	p.wg.Wait()
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
