package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/calllog"
)

// secretForms are the encodings of s a connector may log (those the
// calllog guest prints): none may reach the call log.
func secretForms(s string) []string {
	html, _ := json.Marshal(s)
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	var up, low strings.Builder
	for i := range len(s) {
		fmt.Fprintf(&up, "%%%02X", s[i])
		fmt.Fprintf(&low, "%%%02x", s[i])
	}
	q := strconv.Quote(s)
	return []string{s, q[1 : len(q)-1], string(html[1 : len(html)-1]), strings.Trim(strings.TrimSpace(raw.String()), `"`),
		url.QueryEscape(s), url.PathEscape(s), up.String(), low.String()}
}

// TestCallLogRedactsEncodings: the secrets are redacted however the
// connector writes them: the SDK's log quoting, %q, JSON (with and
// without HTML escapes), query, path and percent escapes; a password in
// the URI's query and its text as written in the URI; a short input
// password where it stands as a value.
func TestCallLogRedactsEncodings(t *testing.T) {
	const (
		inputPw  = `Tr0ub"ador &3<x>/é`
		envTok   = "tok=en\"<9>&é x"
		userPw   = "us er@pw/9&é"
		queryPw  = "qs@cret/9<é>"
		shortPw  = "Zq7"
		shortEnv = "k9!"
	)
	eachStore(t, func(t *testing.T, spec storeSpec) {
		e := newEnv(t, spec)
		tenant, key := e.newTenant("acme")
		e.grantLoopback(tenant)
		u, err := url.Parse(pgDSN())
		if err != nil {
			t.Fatal(err)
		}
		u.User = url.UserPassword(u.User.Username(), userPw)
		qv := u.Query()
		qv.Set("password", queryPw)
		u.RawQuery = qv.Encode()
		for name, tok := range map[string]string{"users": envTok, "short": shortEnv} {
			e.req("PUT", "/v1/connections/"+name, key, map[string]any{
				"mode": "CUSTOM_USER_STORE", "dbType": "postgres", "connection": map[string]any{"uri": u.String()},
				"env": map[string]any{"API_TOKEN": tok}, "egressAllowlist": []string{"127.0.0.1:5432"},
			}).must(t, 201)
			e.upload(key, name, calllogWasm(t), "?force=true").must(t, 201)
		}
		e.req("POST", "/v1/connections/users/login", key, map[string]any{"email": "a@example.com", "password": inputPw}).must(t, 401)
		e.req("POST", "/v1/connections/short/login", key, map[string]any{"email": "a@example.com", "password": shortPw}).must(t, 401)
		calls := e.waitCalls(t, key, "users", 1)
		short := e.waitCalls(t, key, "short", 1)

		var secrets []string
		for _, s := range []string{inputPw, envTok, userPw, queryPw} {
			secrets = append(secrets, secretForms(s)...)
		}
		// The URI's text as written holds the passwords escaped.
		secrets = append(secrets, u.User.String(), qv.Encode())
		text := func(cs []callRecord) string {
			var b strings.Builder
			for _, c := range cs {
				b.WriteString(c.Message + "\n")
				for _, l := range c.Logs {
					b.WriteString(l.Message + "\n")
				}
				for _, h := range c.HostCalls {
					b.WriteString(h.Op + " " + h.Statement + "\n")
				}
			}
			return b.String()
		}
		got := text(calls)
		for _, s := range secrets {
			if strings.Contains(got, s) {
				t.Errorf("the call log holds the secret form %q:\n%s", s, got)
			}
		}
		raw := rawCallRows(t, spec)
		for _, s := range secrets {
			if strings.Contains(raw, s) {
				t.Errorf("the call log's rows hold the secret form %q", s)
			}
		}
		if !strings.Contains(got, "password.q=\""+calllog.Redacted) || !strings.Contains(got, "password.pct="+calllog.Redacted) {
			t.Errorf("the encodings are not replaced by %s:\n%s", calllog.Redacted, got)
		}

		// A short password is redacted where it stands as a value.
		gotShort := text(short)
		for _, s := range []string{"password=" + shortPw, "password.json=\"" + shortPw, "apiToken=" + shortEnv} {
			if strings.Contains(gotShort, s) {
				t.Errorf("the call log holds %q:\n%s", s, gotShort)
			}
		}
		if !strings.Contains(gotShort, "password="+calllog.Redacted) {
			t.Errorf("the short password is not redacted:\n%s", gotShort)
		}
	})
}

// TestCallLogRedactsCutSecret: a panic's text the engine cut inside a
// secret does not show the secret's start in the record.
func TestCallLogRedactsCutSecret(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.callLogConn(tenant, key, "users")
	e.req("POST", "/v1/connections/users/login", key, map[string]any{"email": "a@example.com", "password": "longpanic"}).must(t, 502)
	c := e.waitCalls(t, key, "users", 1)[0]
	if !strings.Contains(c.Message, "xxxx") {
		t.Fatalf("message %q: not the panic's text", c.Message)
	}
	if prefix := envSecret[:6]; strings.Contains(c.Message, prefix) {
		t.Fatalf("message %q holds the start of the secret %q", c.Message, prefix)
	}
}

// TestCallLogRedactsOpName: a host call the connector named after a
// secret shows neither in its op nor in its kind.
func TestCallLogRedactsOpName(t *testing.T) {
	e := newEnv(t, sqliteSpec(t))
	tenant, key := e.newTenant("acme")
	e.callLogConn(tenant, key, "users")
	e.req("POST", "/v1/connections/users/login", key, map[string]any{"email": "a@example.com", "password": "opname"}).must(t, 401)
	c := e.waitCalls(t, key, "users", 1)[0]
	if len(c.HostCalls) != 3 {
		t.Fatalf("host calls %+v, want the query and the two named ones", c.HostCalls)
	}
	for _, h := range c.HostCalls {
		if strings.Contains(h.Op, envSecret) || strings.Contains(h.Kind, envSecret) {
			t.Fatalf("host call %+v holds the secret", h)
		}
	}
	if !strings.Contains(c.HostCalls[1].Op, calllog.Redacted) || !strings.Contains(c.HostCalls[2].Op, calllog.Redacted) {
		t.Fatalf("host calls %+v: the ops are not redacted", c.HostCalls)
	}
}
