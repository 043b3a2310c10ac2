package main

import (
	"os"
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
)

// fakeDB answers the seed template's getUser query with one row.
func fakeDB(op string, req []byte) ([]byte, error) {
	if op == "sql.query" {
		return []byte(`{"columns":["id","email","username","phone","password","nickname","photo","token","created_at"],` +
			`"types":["int4","text","text","text","text","text","text","text","timestamptz"],` +
			`"rows":[[1,"ada@example.com","ada","+15550001","$2a$10$x","Ada",null,null,"2024-02-29T12:34:56.123456Z"]]}`), nil
	}
	return nil, &sluice.Error{Code: "not_implemented", Message: op}
}

func withScript(tb testing.TB, path string) *sluicetest.Host {
	src, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Setenv(envSource, string(src))
	rt = nil
	tb.Cleanup(func() { rt = nil })
	h := sluicetest.New(tb)
	h.HostCall = fakeDB
	return h
}

// TestSeedGetUser runs the seed template's getUser natively against a
// fake database (the api tests run it in wasm against PostgreSQL).
func TestSeedGetUser(t *testing.T) {
	h := withScript(t, "../../../api/testdata/js/seed-postgres.js")
	out, status := h.Call("getUser", `{"query":{"id":"1"},"context":{"tenant":"t","connection":"c","requestId":"r"}}`)
	if status != 0 || !strings.Contains(out, `"id":"1"`) || !strings.Contains(out, `"email":"ada@example.com"`) {
		t.Fatalf("status %d: %s", status, out)
	}
}

func BenchmarkSeedGetUser(b *testing.B) {
	h := withScript(b, "../../../api/testdata/js/seed-postgres.js")
	in := `{"query":{"id":"1"},"context":{"tenant":"t","connection":"c","requestId":"r"}}`
	for b.Loop() {
		if _, status := h.Call("getUser", in); status != 0 {
			b.Fatal("getUser failed")
		}
	}
}

// TestPgResult: pg's query result as the runtime builds it: rows as
// objects of the columns in order (a column named __proto__ an own
// property), int8 as exact strings, timestamps as Dates, NULL as null,
// command and rowCount, fields made when read and writable.
func TestPgResult(t *testing.T) {
	script := `async function getUser(query, context) {
  const { Client } = require('pg');
  const c = new Client();
  const r = await c.query('SELECT * FROM t WHERE id = $1', [query.id]);
  const row = r.rows[0];
  const checks = {
    command: r.command === 'SELECT', rowCount: r.rowCount === 1 && r.rows.length === 1,
    int8: row.id === '1', exact: row.big === '9007199254740993', date: row.at instanceof Date && row.at.toISOString() === '2024-02-29T12:34:56.123Z',
    int4: row.n === 5, nul: row.nothing === null, proto: row.__proto__ === 'p' && Object.getPrototypeOf(row) === Object.prototype,
    order: Object.keys(row).join() === 'id,big,at,n,__proto__,nothing',
    fields: r.fields.length === 6 && r.fields[0].name === 'id' && r.fields[2].dataTypeName === 'timestamptz' && r.fields === r.fields,
    json: JSON.stringify(await c.query('SELECT 1')).indexOf('"fields":[{"name":"id"') > 0,
  };
  r.fields = 'x';
  checks.writable = r.fields === 'x';
  const failed = Object.keys(checks).filter(function (k) { return !checks[k]; });
  if (failed.length) throw new Error('failed: ' + failed.join(', '));
  return { id: row.id, email: 'a@example.com' };
}`
	path := t.TempDir() + "/pg.js"
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	h := withScript(t, path)
	h.HostCall = func(op string, req []byte) ([]byte, error) {
		return []byte(`{"columns":["id","big","at","n","__proto__","nothing"],"types":["int8","int8","timestamptz","int4","text","text"],` +
			`"rows":[[1,9007199254740993,"2024-02-29T12:34:56.123Z",5,"p",null]]}`), nil
	}
	out, status := h.Call("getUser", `{"query":{"id":"1"},"context":{"tenant":"t","connection":"c","requestId":"r"}}`)
	if status != 0 || !strings.Contains(out, `"id":"1"`) {
		t.Fatalf("status %d: %s", status, out)
	}
}
