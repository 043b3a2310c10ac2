package console_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/sluice-dev/sluice/api"
	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/calllog"
	"github.com/sluice-dev/sluice/internal/console"
	"github.com/sluice-dev/sluice/internal/invoke"
	"github.com/sluice-dev/sluice/internal/testpg"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
	"github.com/sluice-dev/sluice/store"
)

const operatorToken = "op-token-for-the-browser-test"

// chromiumPath finds Debian's chromium (make test installs it through
// scripts/tools.sh). Without it the test fails under CI=true and is
// skipped elsewhere.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (scripts/tools.sh installs it; make test runs it)")
	}
	t.Skip("chromium is not installed: run scripts/tools.sh (make test does)")
	return ""
}

// server is a real API server on the embedded SQLite store, as sluice
// serve wires it, behind httptest.
func server(t *testing.T) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	key := make([]byte, store.MasterKeySize)
	rand.Read(key)
	st, err := store.Open(ctx, store.Config{DataDir: t.TempDir(), MasterKey: key})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(ctx, engine.Config{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	hosts := hostfuncs.New(hostfuncs.Config{})
	calls := calllog.New(calllog.Config{Store: st})
	runner, err := invoke.New(invoke.Config{Engine: eng, Store: st, Hosts: hosts, CallLog: calls})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := api.New(api.Config{
		Runner: runner, Store: st, OperatorToken: operatorToken, CallLog: calls,
		PublicIPs: []string{"203.0.113.7", "2001:db8::7"},
		Logger:    slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Shutdown(ctx)
		calls.Close(ctx)
		hosts.Close()
		eng.Close(ctx)
		st.Close()
	})
	return ts
}

// TestConsoleServing: / and /console lead to /console/, which answers
// the page with the strict CSP; the page has no inline script or style.
func TestConsoleServing(t *testing.T) {
	ts := server(t)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/", "/console"} {
		t.Run(path, func(t *testing.T) {
			res, err := noRedirect.Get(ts.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
				t.Errorf("%s: %d to %q, want 302 to /console/", path, res.StatusCode, res.Header.Get("Location"))
			}
		})
	}
	for _, tc := range []struct{ path, ctype string }{
		{"/console/", "text/html"}, {"/console/js/app.js", "javascript"}, {"/console/console.css", "text/css"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			res, err := http.Get(ts.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Type"), tc.ctype) {
				t.Fatalf("%d %s, want 200 %s", res.StatusCode, res.Header.Get("Content-Type"), tc.ctype)
			}
			if got := res.Header.Get("Content-Security-Policy"); got != console.CSP {
				t.Errorf("CSP %q, want %q", got, console.CSP)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			if tc.ctype == "text/html" {
				page := string(body)
				for _, bad := range []string{"<script>", "style=", " onclick=", "<style", "http://", "https://"} {
					if strings.Contains(page, bad) {
						t.Errorf("the page contains %q", bad)
					}
				}
			}
		})
	}
	res, err := http.Get(ts.URL + "/console/nope.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a missing file: %d, want 404", res.StatusCode)
	}
}

// page drives one browser tab over the console.
type page struct {
	t   *testing.T
	ctx context.Context
	dir string // screenshots
	n   int
}

// do runs actions; a failure saves a screenshot and ends the test.
func (p *page) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, actions...); err != nil {
		p.shot("failed")
		p.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression into T.
func eval[T any](p *page, expr string, opts ...chromedp.EvaluateOption) T {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		p.shot("failed")
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// wait polls a JavaScript expression until it is true.
func (p *page) wait(what, expr string) {
	p.t.Helper()
	for try := 0; ; try++ {
		_, err := chromedp.Run(p.ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
		if err != nil && try < 50 && navigating(err) {
			time.Sleep(100 * time.Millisecond)
			continue // a navigation (sign out reloads the page) replaced the document
		}
		if err != nil {
			p.shot("failed")
			p.t.Fatalf("wait for %s: %v\npage: %s", what, err, strings.Join(strings.Fields(p.text("#main")), " "))
		}
		return
	}
}

// navigating reports whether err says the page was being replaced.
func navigating(err error) bool {
	for _, s := range []string{"Cannot find context", "navigated or closed", "Not attached to an active page", "Execution context was destroyed"} {
		if strings.Contains(err.Error(), s) {
			return true
		}
	}
	return false
}

// text is the textContent of the first element sel matches.
func (p *page) text(sel string) string {
	p.t.Helper()
	v, _ := chromedp.Run(p.ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||''`, sel)))
	return v
}

// waitText waits until sel is shown and its text contains want.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	p.wait(fmt.Sprintf("%s to show %q", sel, want),
		fmt.Sprintf(`(()=>{const e=document.querySelector(%q);return !!e && e.getClientRects().length>0 && e.textContent.includes(%q)})()`, sel, want))
}

func (p *page) set(sel, value string) {
	p.t.Helper()
	if value == "" { // chromedp's SetValue takes an empty answer for a failure
		eval[bool](p, fmt.Sprintf(`(()=>{const e=document.querySelector(%q);e.value='';e.dispatchEvent(new Event('input'));return true})()`, sel))
		return
	}
	p.do("set "+sel, chromedp.SetValue(chromedp.CSS(sel), value))
}

// choose sets a select's value and fires its change event.
func (p *page) choose(sel, value string) {
	p.t.Helper()
	eval[bool](p, fmt.Sprintf(`(()=>{const e=document.querySelector(%q);e.value=%q;e.dispatchEvent(new Event('change'));return true})()`, sel, value))
}

func (p *page) click(sel string) {
	p.t.Helper()
	p.do("click "+sel, chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

func (p *page) shot(name string) {
	buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p.n++
	path := filepath.Join(p.dir, fmt.Sprintf("%02d-%s.png", p.n, name))
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot: %s", path)
	// Nothing sticks out sideways (at 1280 px and at 360 px alike).
	wide, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('body *')].filter(e => {
		const r = e.getBoundingClientRect();
		if (!r.width) return false;
		for (let a = e.parentElement; a; a = a.parentElement) if (getComputedStyle(a).overflowX !== 'visible') return false;
		const spills = !['INPUT', 'TEXTAREA', 'SELECT'].includes(e.tagName) && getComputedStyle(e).overflowX === 'visible' && e.scrollWidth > e.clientWidth + 1;
		return r.right > document.documentElement.clientWidth + 1 || spills;
	}).slice(0, 5).map(e => e.tagName + '.' + e.className + '#' + e.id + ' ' + (e.textContent || '').slice(0, 40))`))
	if err != nil {
		p.t.Logf("measure %s: %v", name, err)
	} else if len(wide) > 0 && !strings.HasPrefix(name, "failed") {
		p.t.Errorf("%s: wider than the window: %q", name, wide)
	}
}

func (p *page) tab(name string) {
	p.t.Helper()
	p.click("#tab-" + name)
	p.wait("the "+name+" panel", fmt.Sprintf(`document.querySelector('#panels').dataset.panel===%q && !document.querySelector('#panels > p.muted')`, name))
}

// TestConsoleInBrowser goes, in headless Chromium, from an empty server
// to a working lazy-migration connection, as a person with only the
// console would: operator, tenant, connections in both forms, versions,
// debug, test, egress denial, rollback, finish migration, logs, usage.
func TestConsoleInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	legacyURI := testpg.LegacyUsers(t, 30)
	lu, err := url.Parse(legacyURI)
	if err != nil {
		t.Fatal(err)
	}
	schema := lu.Query().Get("search_path")
	pgWasm := wasmbuild.TestPath(t, "../../examples/postgres")
	loginOnly := wasmbuild.TestPath(t, "../../api/testdata/loginonly")
	ts := server(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	// The screenshots go to the test's temporary directory, or, to keep
	// them after the test, to SLUICE_TEST_SCREENSHOTS.
	p := &page{t: t, ctx: ctx, dir: t.TempDir()}
	if dir := os.Getenv("SLUICE_TEST_SCREENSHOTS"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		p.dir = dir
	}
	t.Logf("screenshots in %s", p.dir)

	// Page errors (a CSP violation, an uncaught exception) fail the test.
	// Failed requests the test provokes (401, 400) are answers the page
	// shows; the browser logs them from the network source.
	var mu sync.Mutex
	var pageErrors []string
	mctx, stopConsole := context.WithCancel(ctx)
	messages := chromedp.Console(mctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				mu.Lock()
				pageErrors = append(pageErrors, m.String())
				mu.Unlock()
			}
		}
	}()
	defer func() {
		stopConsole()
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("browser: %s", e)
		}
	}()

	// / leads to the console; sign in as the operator.
	for _, perm := range []string{"clipboard-read", "clipboard-write"} {
		if _, err := chromedp.CallBrowser(ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: perm}, Setting: browser.PermissionSettingGranted, Origin: ts.URL,
		}); err != nil {
			t.Fatalf("grant %s: %v", perm, err)
		}
	}
	p.do("open /", chromedp.Navigate(ts.URL+"/"))
	at := eval[string](p, "location.href")
	if at != ts.URL+"/console/" {
		t.Fatalf("/ led to %s, want /console/", at)
	}
	p.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	p.shot("signin")
	p.click(`input[name=role][value=operator]`)
	p.set("#signin-token", "not-the-token")
	p.click(`#signin-form button[type=submit]`)
	p.waitText(`#signin [data-field=token] .error`, "unauthorized")
	p.set("#signin-token", operatorToken)
	p.click(`#signin-form button[type=submit]`)
	p.wait("the operator view", `!document.querySelector('#operator').hidden`)
	stored := eval[string](p, `JSON.stringify(localStorage)+location.href`)
	if strings.Contains(stored, operatorToken) {
		t.Errorf("the token is in local storage or the URL: %s", stored)
	}

	// Create a tenant; its key is shown once, with a copy button.
	p.set("#tenant-name", "Acme Pool")
	p.click(`#tenant-create button[type=submit]`)
	p.wait("the new key", `document.querySelector('#tenant-key-value').value.startsWith('`+store.APIKeyPrefix+`')`)
	apiKey := eval[string](p, `document.querySelector('#tenant-key-value').value`)
	p.click("#tenant-key-copy")
	p.waitText("#tenant-key-status", "Copied")
	copied := eval[string](p, `navigator.clipboard.readText()`, chromedp.EvalAwaitPromise)
	if copied != apiKey {
		t.Errorf("the clipboard holds %q, want the key", copied)
	}
	p.waitText("#tenant-list", "Acme Pool")
	p.wait("the quota form", `!!document.querySelector('#quota-form [name=memoryMB]')`)

	// A quota the server refuses shows its error beside the field; then
	// the grant to reach the test database on loopback.
	p.click(`#quota-form [name=allowPrivateNetworks]`)
	p.set(`#quota-form [name=privateNetworks]`, "db.example.com")
	p.click(`#quota-form button[type=submit]`)
	p.waitText(`#quota-form [data-field=privateNetworks] .error`, "invalid_input")
	p.set(`#quota-form [name=privateNetworks]`, lu.Hostname()+"/32")
	p.set(`#quota-form [name=memoryMB]`, "99999")
	p.click(`#quota-form button[type=submit]`)
	p.waitText(`#quota-form [data-field=memoryMB] .error`, "1 to 4096")
	p.set(`#quota-form [name=memoryMB]`, "128")
	p.click(`#quota-form button[type=submit]`)
	p.waitText(`#quota-form .ok`, "Quotas saved")
	p.shot("operator")

	// Sign out, and in with the tenant's key (keyboard: Enter submits).
	p.click("#signout")
	p.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	p.do("type the key", chromedp.SendKeys(chromedp.CSS("#signin-token"), apiKey+"\r"))
	p.wait("the tenant view", `!document.querySelector('#tenant').hidden`)
	tokenIn := eval[string](p, `sessionStorage.getItem('sluice.session')+'|'+JSON.stringify(localStorage)`)
	if !strings.Contains(tokenIn, apiKey) || strings.Contains(tokenIn, "|{\"") {
		t.Errorf("the key should be in session storage only: %s", tokenIn)
	}

	// A connection by URI: LAZY_MIGRATION on the legacy table.
	dbAllow := lu.Host
	p.click("#conn-new")
	p.wait("the settings form", `!!document.querySelector('#panels form [name=uri]')`)
	p.waitText("#public-ips", "203.0.113.7")
	p.waitText("#enable-warning", "take effect immediately")
	p.set(`#panels [name=name]`, "legacy")
	p.set(`#panels [name=uri]`, "mysql://nope")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels [data-field="connection.uri"] .error`, "must start with postgres://")
	p.set(`#panels [name=uri]`, legacyURI)
	p.set(`#panels [name=egressAllowlist]`, dbAllow)
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .ok`, "Connection created")
	p.waitText("#conn-list", "legacy")
	p.shot("settings-uri")

	// Upload examples/postgres with the file picker.
	p.tab("versions")
	p.do("pick the module", chromedp.SetUploadFiles(chromedp.CSS("#wasm-file"), []string{pgWasm}))
	p.waitText("#upload-functions", "getUser")
	p.waitText("#upload-missing", "nothing")
	p.waitText("#upload-status", "Version 1 stored and active")
	p.waitText("#versions", "active")
	p.shot("versions")

	// Debug getUser: its SQL in the trace.
	p.tab("debug")
	p.choose(`#panels [name=function]`, "getUser")
	if in := eval[string](p, `document.querySelector('#panels [name=input]').value`); !strings.Contains(in, "user0@legacy.example.com") {
		t.Errorf("getUser's input is not pre-filled with an example: %q", in)
	}
	p.set(`#panels [name=input]`, `{"query": `)
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels [data-field=input] .error`, "not valid JSON")
	p.set(`#panels [name=input]`, `{"query":{"email":"user3@legacy.example.com"}}`)
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .trace`, "SELECT")
	p.waitText(`#panels .result`, "user3")
	p.waitText(`#panels .totals`, "memory")
	p.shot("debug")

	// Test: a right login and a wrong one. The keyboard reaches the
	// panel: the arrow key moves from the Debug tab to the Test tab.
	p.do("arrow to the Test tab", chromedp.Focus(chromedp.CSS("#tab-debug")), chromedp.KeyEvent(kb.ArrowRight))
	p.wait("the test panel by keyboard", `document.querySelector('#panels').dataset.panel==='test' && document.activeElement.id==='tab-test' && !!document.querySelector('#panels [name=account]')`)
	p.set(`#panels [name=account]`, "user1@legacy.example.com")
	p.set(`#panels [name=password]`, testpg.Password)
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .success`, "Test succeeded")
	p.shot("test-ok")
	p.set(`#panels [name=password]`, "not the password")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .result-error`, "wrong_password")
	p.shot("test-wrong")

	// A connection by the five fields whose allowlist misses the
	// database: the trace shows the denial. Then allow it, leaving the
	// password blank ("unchanged").
	p.click("#conn-new")
	p.wait("the settings form", `!!document.querySelector('#panels form [name=uri]')`)
	p.set(`#panels [name=name]`, "fields")
	p.click(`#panels input[name=connForm][value=fields]`)
	p.set(`#panels [name=host]`, lu.Hostname())
	p.set(`#panels [name=port]`, lu.Port())
	p.set(`#panels [name=username]`, lu.User.Username())
	p.set(`#panels [name=password]`, "trust-ignores-it")
	p.set(`#panels [name=database]`, strings.TrimPrefix(lu.Path, "/"))
	p.click(`#panels [data-field=env] button.small`)
	p.set(`#panels .envrow [name=envName]`, "USERS_TABLE")
	p.set(`#panels .envrow [name=envValue]`, schema+".users")
	p.click(`#panels .envrow [name=envSecret]`)
	p.set(`#panels [name=egressAllowlist]`, "203.0.113.0/24")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .ok`, "Connection created")
	p.wait("the password masked", `document.querySelector('#panels [name=password]').value==='' && document.querySelector('#panels [name=password]').placeholder==='unchanged'`)
	if v := eval[string](p, `document.querySelector('#panels').innerHTML+[...document.querySelectorAll('#panels input')].map(i=>i.value).join()`); strings.Contains(v, "trust-ignores-it") {
		t.Error("the password is echoed back")
	}
	p.shot("settings-fields")
	p.tab("versions")
	p.do("pick the module", chromedp.SetUploadFiles(chromedp.CSS("#wasm-file"), []string{pgWasm}))
	p.waitText("#upload-status", "Version 1 stored and active")
	p.tab("debug")
	p.choose(`#panels [name=function]`, "getUser")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .trace`, "denied")
	p.waitText(`#panels .result-error`, "egress_denied")
	p.shot("debug-egress-denied")
	p.tab("settings")
	p.set(`#panels [name=egressAllowlist]`, dbAllow)
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .ok`, "Saved")
	p.tab("debug")
	p.choose(`#panels [name=function]`, "getUser")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .result`, "user0")
	p.waitText(`#panels .trace`, schema+".users")

	// A second version that cannot serve the mode: stored inactive; its
	// activation warns; then roll back to the first.
	p.click(`#conn-list button[data-conn=legacy]`)
	p.tab("versions")
	p.do("pick the second module", chromedp.SetUploadFiles(chromedp.CSS("#wasm-file"), []string{loginOnly}))
	p.waitText("#upload-missing", "getUser")
	p.waitText("#upload-status", "Version 2 stored.")
	// A JavaScript connector with a syntax error: refused, with where.
	broken := filepath.Join(t.TempDir(), "broken.js")
	if err := os.WriteFile(broken, []byte("async function login(query, password, context) {\n  return {id: '1' +};\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.do("pick a broken script", chromedp.SetUploadFiles(chromedp.CSS("#wasm-file"), []string{broken}))
	p.waitText(`#panels [data-field=_form] .error`, "invalid_module")
	p.waitText(`#panels [data-field=_form] .error`, "line: 2")
	p.shot("versions-script-error")
	p.click(`#versions button[data-version="2"]`)
	p.waitText(`#versions .confirm`, "cannot serve LAZY_MIGRATION")
	p.shot("versions-warning")
	p.click(`#versions .confirm button.danger`)
	p.waitText("#activate-status", "v2 is now active")
	// A mode v2 cannot serve is refused beside Save, with the force offer.
	p.tab("settings")
	p.choose(`#panels [name=mode]`, "CUSTOM_USER_STORE")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels [data-field=_form] .error`, "mode_not_satisfied")
	p.waitText(`#panels .confirm`, "cannot serve CUSTOM_USER_STORE")
	p.tab("versions")
	p.waitText(`#versions button[data-version="1"]`, "Roll back to v1")
	p.click(`#versions button[data-version="1"]`)
	p.waitText("#activate-status", "v1 is now active")
	p.shot("versions-rolled-back")

	// Finish the migration: the job runs to done with its progress.
	p.tab("migration")
	p.waitText("#mig-total", "30")
	p.click(`#panels button`)
	p.wait("the job done", `(document.querySelector('#job-status')||{dataset:{}}).dataset.status==='done'`)
	p.waitText("#job-status", "Imported 30 of 30")
	p.waitText("#mig-migrated", "30")
	p.shot("migration")

	// Logs: the production call log, with the live tail.
	{
		p.tab("logs")
		p.wait("the calls", `document.querySelectorAll('#panels tr.call').length>0`)
		p.choose(`#panels [name=outcome]`, "error")
		p.set(`#panels [name=code]`, "wrong_password")
		p.click(`#panels form button[type=submit]`)
		p.wait("the filtered calls", `[...document.querySelectorAll('#panels tr.call')].length>0 && [...document.querySelectorAll('#panels tr.call')].every(r=>r.dataset.outcome==='error')`)
		p.set(`#panels [name=code]`, "")
		p.choose(`#panels [name=outcome]`, "")
		p.click(`#panels form button[type=submit]`)
		p.wait("all calls", `document.querySelectorAll('#panels tr.call').length>0`)
		before := eval[int](p, `document.querySelectorAll('#panels tr.call').length`)
		p.click(`#panels button[aria-pressed]`)
		p.waitText(`#panels [role=status]`, "Live")
		eval[int](p, fmt.Sprintf(`fetch('/v1/connections/legacy/test',{method:'POST',headers:{'Authorization':'Bearer %s','Content-Type':'application/json'},body:JSON.stringify({account:'user5',password:'x'})}).then(r=>r.status)`, apiKey), chromedp.EvalAwaitPromise)
		p.wait("the live call", fmt.Sprintf(`document.querySelectorAll('#panels tr.call').length>%d`, before))
		p.shot("logs")
	}

	// At 360 px wide: no sideways scrolling, panels still usable.
	p.do("narrow", chromedp.EmulateViewport(360, 800))
	p.tab("settings")
	p.shot("narrow-settings")
	p.tab("debug")
	p.click(`#panels button[type=submit]`)
	p.waitText(`#panels .trace`, "SELECT")
	p.waitText(`#panels pre.json`, "user0@legacy.example.com")
	if eval[bool](p, `document.documentElement.scrollWidth > window.innerWidth`) {
		t.Error("the page scrolls sideways at 360 px")
	}
	p.shot("narrow-debug")
	p.do("wide", chromedp.EmulateViewport(1280, 900))

	// Back as the operator: the tenant's usage over the last hour.
	p.click("#signout")
	p.wait("the sign-in form", `!document.querySelector('#signin').hidden`)
	p.click(`input[name=role][value=operator]`)
	p.set("#signin-token", operatorToken)
	p.click(`#signin-form button[type=submit]`)
	p.wait("the tenant list", `!!document.querySelector('#tenant-list button')`)
	p.click(`#tenant-list button`)
	p.wait("the usage", `Number((document.querySelector('#usage-calls')||{}).textContent)>5`)
	p.waitText("#usage", "wrong_password")
	p.waitText("#usage", "egress_denied")
	p.shot("operator-usage")
}
