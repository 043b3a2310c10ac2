package main

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/internal/testpg"
)

// TestCallScript: sluice call runs a JavaScript connector in the runtime
// module, with the same egress gate and trace as a .wasm one.
func TestCallScript(t *testing.T) {
	uri := testpg.LegacyUsers(t, 3)
	file := filepath.Join(t.TempDir(), "login.js")
	src := `const bcrypt = require('bcryptjs');
async function login(query, password, context) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString: env.DB_CONNECTION_URI });
  const res = await pool.query('SELECT id, nickname, password_hash FROM users WHERE username = $1', [query.username]);
  if (res.rowCount === 0) throw new Error('User not exists!');
  if (!(await bcrypt.compare(password, res.rows[0].password_hash))) throw new Error('Password is not valid!');
  return { id: res.rows[0].id, nickname: res.rows[0].nickname };
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, user, pw string
		allow          []string
		code           int
		want           string
	}{
		{"ok", "user2", testpg.Password, []string{"--allow", "127.0.0.1:5432", "--allow-private"}, exitOK, `"nickname": "User 2"`},
		{"wrong password", "user2", "nope", []string{"--allow", "127.0.0.1:5432", "--allow-private"}, exitConnector, `"wrong_password"`},
		{"no such user", "user9", "nope", []string{"--allow", "127.0.0.1:5432", "--allow-private"}, exitConnector, `"user_not_found"`},
		{"not on the allowlist", "user2", testpg.Password, []string{"--allow", "127.0.0.1:5433", "--allow-private"}, exitConnector, `egress_denied`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"query":{"username":"` + tt.user + `"},"password":"` + tt.pw + `"}`
			args := append([]string{"call", file, "login", "--input", in, "--env", "DB_CONNECTION_URI=" + uri}, tt.allow...)
			code, stdout, stderr := runCLI(t, "", args...)
			if code != tt.code || !strings.Contains(stdout, tt.want) {
				t.Fatalf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout, stderr)
			}
			if !strings.Contains(stderr, "host call sql.query 127.0.0.1:5432") {
				t.Errorf("the trace does not show the query:\n%s", stderr)
			}
		})
	}
	// A function the script lacks answers as a module without the export.
	if code, stdout, _ := runCLI(t, "", "call", file, "getUser", "--input", `{"query":{"id":"1"}}`); code != exitConnector || !strings.Contains(stdout, "not_implemented") {
		t.Fatalf("getUser: exit %d %s", code, stdout)
	}
}

func TestInspectScript(t *testing.T) {
	code, stdout, stderr := runCLI(t, "", "inspect", "../../api/testdata/js/seed-postgres.js")
	if code != exitOK || !strings.Contains(stdout, "dialect    seed") || !strings.Contains(stdout, "requires   pg, bcrypt") ||
		!strings.Contains(stdout, "CUSTOM_USER_STORE  satisfied") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	bad := filepath.Join(t.TempDir(), "bad.js")
	os.WriteFile(bad, []byte("async function login() {\n  return require('net');\n}\n"), 0o644)
	code, _, stderr = runCLI(t, "", "inspect", bad)
	if code != exitUsage || !strings.Contains(stderr, "requires 'net'") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
}

// TestScriptCrypto: require('crypto') and Buffer give Node's answers
// (the expected digests are Go's, computed here).
func TestScriptCrypto(t *testing.T) {
	file := filepath.Join(t.TempDir(), "crypto.js")
	src := `const crypto = require('crypto');
function login(query, password, context) {
  const sha = crypto.createHash('sha256').update(password).digest('hex');
  const hmac = crypto.createHmac('sha1', 'key').update(password, 'utf8').digest('base64');
  const pb = crypto.pbkdf2Sync(password, 'salt', 1000, 32, 'sha256').toString('hex');
  const same = crypto.timingSafeEqual(Buffer.from(sha, 'hex'), crypto.createHash('sha256').update(password).digest());
  const rnd = crypto.randomBytes(16).toString('hex').length;
  return { id: 'x', customData: { sha, hmac, pb, same, rnd, b64: Buffer.from(password).toString('base64') } };
}
`
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "", "call", file, "login", "--input", `{"query":{"email":"a@b.c"},"password":"pässword"}`)
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	var out struct {
		CustomData map[string]any `json:"customData"`
	}
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatal(err)
	}
	pw := []byte("pässword")
	sha := sha256.Sum256(pw)
	mac := hmac.New(sha1.New, []byte("key"))
	mac.Write(pw)
	pb, _ := pbkdf2.Key(sha256.New, string(pw), []byte("salt"), 1000, 32)
	want := map[string]any{
		"sha": hex.EncodeToString(sha[:]), "hmac": base64.StdEncoding.EncodeToString(mac.Sum(nil)),
		"pb": hex.EncodeToString(pb), "same": true, "rnd": float64(32), "b64": base64.StdEncoding.EncodeToString(pw),
	}
	for k, v := range want {
		if out.CustomData[k] != v {
			t.Errorf("%s = %v, want %v", k, out.CustomData[k], v)
		}
	}
}
