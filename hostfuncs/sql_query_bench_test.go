package hostfuncs_test

import (
	"context"
	"encoding/json"
	"syscall"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/engine"
)

// BenchmarkSQLQueryProfileRow: the host side of the shipped templates'
// lookup, one sql.query of a profile row (text, boolean, jsonb, timestamp
// columns) by primary key, on PostgreSQL and MariaDB: the request's
// decoding, the query on a pooled connection, the result's encoding.
func BenchmarkSQLQueryProfileRow(b *testing.B) {
	m := hostfuncsManagerForBench(b)
	for _, db := range sqlDBs(b) {
		b.Run(db.name, func(b *testing.B) {
			h, err := m.Host(db.conn)
			if err != nil {
				b.Fatal(err)
			}
			table := sqlName("sluice_profile")
			jsonType, serial, now := "jsonb", "bigserial", "now()"
			if db.name == "mysql" {
				jsonType, serial, now = "json", "bigint auto_increment", "CURRENT_TIMESTAMP"
			}
			exec := func(sql string, args ...any) {
				req, _ := json.Marshal(map[string]any{"sql": sql, "args": args})
				if _, err := h.HostCall(context.Background(), "sql.exec", req, &engine.HostCall{}); err != nil {
					b.Fatalf("%s: %v", sql, err)
				}
			}
			exec("CREATE TABLE " + table + " (id " + serial + " primary key, email text, email_verified boolean not null default false," +
				" username text, phone text, nickname text, name text, given_name text, family_name text, photo text," +
				" blocked boolean not null default false, custom_data " + jsonType + ", password_hash text," +
				" created_at timestamp not null default " + now + ")")
			b.Cleanup(func() { exec("DROP TABLE " + table) })
			exec("INSERT INTO "+table+" (email, username, nickname, name, given_name, family_name, photo, custom_data, password_hash)"+
				" VALUES ("+db.ph(1)+", 'alice', 'Al', 'Alice Liddell', 'Alice', 'Liddell', 'https://example.com/a.png', "+db.ph(2)+", "+db.ph(3)+")",
				"alice@example.com", `{"plan":"pro","tags":["a","b"],"visits":12}`, "$2a$10$abcdefghijklmnopqrstuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuuu")
			req, _ := json.Marshal(map[string]any{"sql": "SELECT id, email, email_verified, username, phone, nickname, name, given_name, family_name," +
				" photo, blocked, custom_data, created_at, coalesce(password_hash, '') FROM " + table + " WHERE id = " + db.ph(1), "args": []any{1}})
			call := func() {
				var tr engine.HostCall
				if _, err := h.HostCall(context.Background(), "sql.query", req, &tr); err != nil {
					b.Fatal(err)
				}
			}
			call()
			b.ReportAllocs()
			cpu0 := processCPU()
			for b.Loop() {
				call()
			}
			b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the process's user and system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
