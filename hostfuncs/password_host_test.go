package hostfuncs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/hostfuncs"
	"github.com/sluice-dev/sluice/internal/hostile"
)

// passwordConn is a connection for password tests: the password ops need
// no database or service.
func passwordConn(t *testing.T) hostfuncs.Connection {
	return hostfuncs.Connection{Tenant: "t-" + t.Name(), Name: "pw", ConfigVersion: 1, DBType: "postgres", URI: "postgres://db.example.com/x"}
}

// TestPasswordVerifyGuest verifies published hashes through the guest
// SDK's password.Verify (validatePassword of the probe guest checks
// password.Verify(id, password)).
func TestPasswordVerifyGuest(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := passwordConn(t)
	// Published vectors, as in hostfuncs/password/vectors_test.go.
	tests := []struct{ name, password, hash string }{
		{"bcrypt", "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
		{"bcrypt 2y", "Vapor3", "$2y$11$kHM/VXmCVsGXDGIVu9mD8eY/uEYI.Nva9sHgrLYuLzr0il28DDOGO"},
		{"argon2id", "password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
		{"phpass", "test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"},
		{"phpass phpBB", "test1", "$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00"},
		{"sha512-crypt", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
		{"django pbkdf2_sha256", "lètmein", "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, pw := range []string{tc.password, tc.password + "!"} {
				want := pw == tc.password
				res, err := httpGuestCall(t, m, conn, "probe", "validatePassword", map[string]any{"id": tc.hash, "password": pw, "context": map[string]any{}})
				if err != nil {
					t.Fatalf("validatePassword(%q): %v", pw, err)
				}
				if got := string(res.Output); got != map[bool]string{true: "true", false: "false"}[want] {
					t.Errorf("validatePassword(%q) = %s, want %v", pw, got, want)
				}
				if len(res.Trace) != 1 || res.Trace[0].Op != "password.verify" || res.Trace[0].Kind != "password" {
					t.Errorf("trace %+v", res.Trace)
				}
			}
		})
	}
}

// TestPasswordVerifyMalformed answers invalid_input for hashes Verify
// cannot use.
func TestPasswordVerifyMalformed(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := passwordConn(t)
	for _, hash := range []string{"$2a$05$tooshort", "$argon2id$v=19$m=256,t=2,p=1$!!!$x", "not a hash at all"} {
		t.Run(hash, func(t *testing.T) {
			res, err := httpGuestCall(t, m, conn, "probe", "validatePassword", map[string]any{"id": hash, "password": "x", "context": map[string]any{}})
			if err == nil || err.Code != engine.CodeInvalidInput {
				t.Fatalf("error %v, want invalid_input", err)
			}
			if len(res.Trace) != 1 || res.Trace[0].Error == "" {
				t.Errorf("trace %+v", res.Trace)
			}
		})
	}
}

// TestPasswordHashGuest hashes with password.Hash and verifies the new
// hash with password.Verify, all from the guest.
func TestPasswordHashGuest(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := passwordConn(t)
	tests := []struct{ algorithm, prefix string }{
		{"argon2id", "$argon2id$v=19$m=65536,t=3,p=4$"},
		{"bcrypt", "$2a$10$"},
		{"sha512-crypt", "$6$rounds=656000$"},
		{"pbkdf2_sha256", "pbkdf2_sha256$600000$"},
	}
	for _, tc := range tests {
		t.Run(tc.algorithm, func(t *testing.T) {
			out, res := httpProbe(t, m, conn, map[string]any{"hash": map[string]any{"algorithm": tc.algorithm, "password": "c0rrect horse"}})
			if code := httpProbeErr(out); code != "" {
				t.Fatalf("got %v", out)
			}
			if h, _ := out["hash"].(string); !strings.HasPrefix(h, tc.prefix) {
				t.Errorf("hash %q, want prefix %q", h, tc.prefix)
			}
			if out["valid"] != true || out["wrongValid"] != false {
				t.Errorf("verify of the new hash: right %v, wrong %v", out["valid"], out["wrongValid"])
			}
			if res.Trace[0].Op != "password.hash" || res.Trace[0].Statement != tc.algorithm {
				t.Errorf("trace %+v", res.Trace[0])
			}
		})
	}
	t.Run("unknown algorithm", func(t *testing.T) {
		out, _ := httpProbe(t, m, conn, map[string]any{"hash": map[string]any{"algorithm": "rot13", "password": "x"}})
		if code := httpProbeErr(out); code != "invalid_input" {
			t.Fatalf("got %v, want invalid_input", out)
		}
	})
}

// TestPasswordVerifyDigestGuest checks plain digests described by a spec.
func TestPasswordVerifyDigestGuest(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := passwordConn(t)
	tests := []struct {
		name      string
		spec      map[string]any
		hash, pw  string
		want      any
		wantError string
	}{
		{"md5 hex", map[string]any{"algorithm": "md5"}, "5f4dcc3b5aa765d61d8327deb882cf99", "password", true, ""},
		{"md5 hex wrong", map[string]any{"algorithm": "md5"}, "5f4dcc3b5aa765d61d8327deb882cf99", "Password", false, ""},
		{"sha1 hex", map[string]any{"algorithm": "sha1"}, "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "password", true, ""},
		{"bad spec", map[string]any{"algorithm": "crc32"}, "00", "password", nil, "invalid_input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, _ := httpProbe(t, m, conn, map[string]any{"digest": map[string]any{"spec": tc.spec, "hash": tc.hash, "password": tc.pw}})
			if code := httpProbeErr(out); code != tc.wantError {
				t.Fatalf("got %v, want error %q", out, tc.wantError)
			}
			if tc.wantError == "" && out["valid"] != tc.want {
				t.Errorf("valid = %v, want %v", out["valid"], tc.want)
			}
		})
	}
}

// TestPasswordHostDeadline: password.verify and password.hash end with
// timeout at the call's deadline, long before the hash would; a hash over
// the host's caps is invalid_input naming the parameter and the cap.
func TestPasswordHostDeadline(t *testing.T) {
	m := newHTTPManager(t, hostfuncs.Config{})
	h, err := m.Host(passwordConn(t))
	if err != nil {
		t.Fatal(err)
	}
	call := func(within time.Duration, op, req string) (*engine.Error, time.Duration) {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		var tr engine.HostCall
		start := time.Now()
		_, err := h.HostCall(ctx, op, []byte(req), &tr)
		late := time.Since(start) - within
		var ee *engine.Error
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %T %v", op, err, err)
		}
		return ee, late
	}
	for _, tc := range []struct {
		name, op, req string
		within        time.Duration
	}{
		{"verify bcrypt 14", "password.verify", `{"hash":"$2a$14$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW","password":"x"}`, 200 * time.Millisecond},
		{"hash argon2id", "password.hash", `{"algorithm":"argon2id","password":"x"}`, 50 * time.Millisecond},
	} {
		ee, late := call(tc.within, tc.op, tc.req)
		if ee == nil || ee.Code != engine.CodeTimeout {
			t.Errorf("%s: %v, want timeout", tc.name, ee)
		}
		// The deadline plus scheduling: the hash's own threads keep the
		// (shared, 2-core) machine's cores busy meanwhile.
		if late > 100*time.Millisecond {
			t.Errorf("%s: returned %v after the deadline", tc.name, late)
		}
		t.Logf("%s: timeout %v after the deadline", tc.name, late.Round(time.Millisecond))
	}
	for _, tc := range []struct{ req, msg string }{
		{`{"hash":"$2a$15$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW","password":"x"}`, "bcrypt cost 15 is over the host's cap of 14"},
		{`{"hash":"$pbkdf2-sha256$5000000$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ","password":"x"}`, "pbkdf2 iterations 5000000 is over the host's cap of 2000000"},
		{`{"hash":"$1$saltsalt$qjXMvbEw8oaL.CzflDugX/","password":"` + strings.Repeat("p", 2000) + `"}`, "the password is 2000 bytes, over the host's cap of 1024"},
	} {
		ee, _ := call(5*time.Second, "password.verify", tc.req)
		if ee == nil || ee.Code != engine.CodeInvalidInput || !strings.Contains(ee.Message, tc.msg) {
			t.Errorf("verify over the caps: %v, want invalid_input with %q", ee, tc.msg)
		}
	}
}

// TestPasswordHashesSpendTheCPUBudget: the hashes a guest asks the host
// for run outside its CPU slot, but their CPU time is the tenant's: a
// loop of real argon2id hashes ends as quota_exceeded once the tenant's
// CPU budget is spent, long before the call's deadline.
func TestPasswordHashesSpendTheCPUBudget(t *testing.T) {
	var loop hostile.Case
	for _, c := range hostile.Corpus() {
		if c.Name == "hostloop_password" {
			loop = c
		}
	}
	e, _ := httpGuest(t, "probe") // the shared engine
	mod, err := e.Load(context.Background(), hostile.Wasm(t, loop))
	if err != nil {
		t.Fatal(err)
	}
	m := newHTTPManager(t, hostfuncs.Config{})
	conn := passwordConn(t)
	h, err := m.Host(conn)
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Call(context.Background(), mod, engine.Request{
		Tenant: conn.Tenant, Pool: "hostloop", Function: "login", Input: []byte(`{}`), Host: h,
		Limits: engine.Limits{Timeout: 60 * time.Second, CPUPerMinute: 200 * time.Millisecond},
	})
	var ee *engine.Error
	if !errors.As(err, &ee) || ee.Code != engine.CodeQuotaExceeded || !strings.Contains(ee.Message, "CPU budget") {
		t.Fatalf("a loop of hashes under a 200ms CPU budget = %v, want quota_exceeded (CPU budget)", err)
	}
}
