package hostfuncs_test

import (
	"strings"
	"testing"

	"github.com/sluice-dev/sluice/hostfuncs"
)

func TestSQLExec(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			idCol := "id serial primary key"
			if d.name == "mysql" {
				idCol = "id bigint auto_increment primary key"
			}
			table := sqlTable(t, m, d, idCol+", email varchar(100) not null unique")
			ins := "INSERT INTO " + table + " (email) VALUES (" + d.ph(1) + ")"
			first := sqlMust(t, m, d.conn, sqlReq{Op: "exec", SQL: ins, Args: []sqlArg{{"string", "a@example.com"}}})
			second := sqlMust(t, m, d.conn, sqlReq{Op: "exec", SQL: ins, Args: []sqlArg{{"string", "b@example.com"}}})
			if first.Result.RowsAffected != 1 || second.Result.RowsAffected != 1 {
				t.Fatalf("rowsAffected %d, %d, want 1, 1", first.Result.RowsAffected, second.Result.RowsAffected)
			}
			if d.name == "mysql" && (first.Result.LastInsertID != 1 || second.Result.LastInsertID != 2) {
				t.Fatalf("lastInsertId %d, %d, want 1, 2", first.Result.LastInsertID, second.Result.LastInsertID)
			}
			if d.name == "postgres" && first.Result.LastInsertID != 0 {
				t.Fatalf("lastInsertId %d on postgres, want 0", first.Result.LastInsertID)
			}
			upd := sqlMust(t, m, d.conn, sqlReq{Op: "exec", SQL: "UPDATE " + table + " SET email = CONCAT(email, '.x')"})
			if upd.Result.RowsAffected != 2 {
				t.Fatalf("update rowsAffected %d, want 2", upd.Result.RowsAffected)
			}

			// A duplicate is a db_error the SDK recognises.
			dup, trace := sqlRun(t, m, d.conn, sqlReq{Op: "exec", SQL: ins, Args: []sqlArg{{"string", "a@example.com.x"}}})
			sqlWantCode(t, dup, "db_error", "")
			if !dup.Error.Unique {
				t.Errorf("duplicate: IsUniqueViolation false for %+v", *dup.Error)
			}
			if tr := trace[0]; tr.Kind != "sql" || tr.Statement != ins || tr.Target == "" || tr.Error == "" {
				t.Errorf("trace %+v", tr)
			}
			if strings.Contains(trace[0].Statement, "a@example.com") {
				t.Errorf("trace statement %q holds an argument", trace[0].Statement)
			}

			// QueryRow on nothing is ErrNoRows.
			none, _ := sqlRun(t, m, d.conn, sqlReq{Op: "queryrow", SQL: "SELECT id FROM " + table + " WHERE email = " + d.ph(1),
				Args: []sqlArg{{"string", "nobody"}}, Scan: []string{"int64"}})
			if none.Error == nil || !none.Error.NoRows {
				t.Fatalf("queryrow on no row: %+v", none.Error)
			}
		})
	}
}

func TestSQLBatch(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			idCol, lastID := "id serial primary key", "SELECT lastval()"
			if d.name == "mysql" {
				idCol, lastID = "id bigint auto_increment primary key", "SELECT LAST_INSERT_ID()"
			}
			users := sqlTable(t, m, d, idCol+", email varchar(100) not null unique")
			profiles := sqlTable(t, m, d, "user_id bigint not null, nickname varchar(100)")
			insUser := "INSERT INTO " + users + " (email) VALUES (" + d.ph(1) + ")"
			insProfile := "INSERT INTO " + profiles + " (user_id, nickname) VALUES (" + d.ph(1) + ", " + d.ph(2) + ")"
			count := func() string {
				out := sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT (SELECT COUNT(*) FROM " + users + ") + (SELECT COUNT(*) FROM " + profiles + ")", Scan: []string{"int64"}})
				return out.Rows[0][0]
			}

			t.Run("commits", func(t *testing.T) {
				out := sqlMust(t, m, d.conn, sqlReq{Op: "batch", Batch: []sqlStmt{
					{SQL: insUser, Args: []sqlArg{{"string", "a@example.com"}}},
					{SQL: lastID, Query: true, Scan: []string{"int64"}},
					{SQL: insProfile, Args: []sqlArg{{"int64", "1"}, {"string", "alice"}}},
				}})
				if len(out.Batch) != 3 || out.Batch[0].Result.RowsAffected != 1 || out.Batch[1].Rows[0][0] != "1" || out.Batch[2].Result.RowsAffected != 1 {
					t.Fatalf("batch results %+v", out.Batch)
				}
				if got := count(); got != "2" {
					t.Fatalf("rows after commit: %s, want 2", got)
				}
			})
			t.Run("all or nothing", func(t *testing.T) {
				out, _ := sqlRun(t, m, d.conn, sqlReq{Op: "batch", Batch: []sqlStmt{
					{SQL: insUser, Args: []sqlArg{{"string", "b@example.com"}}},
					{SQL: insProfile, Args: []sqlArg{{"int64", "2"}, {"string", "bob"}}},
					{SQL: insUser, Args: []sqlArg{{"string", "a@example.com"}}}, // duplicate
				}})
				sqlWantCode(t, out, "db_error", "statement 2")
				if !out.Error.Unique || out.Error.Details["statement"] != "2" {
					t.Fatalf("error %+v, want a unique violation of statement 2", *out.Error)
				}
				if got := count(); got != "2" {
					t.Fatalf("rows after a failed batch: %s, want 2 (rolled back)", got)
				}
			})
		})
	}
}

func TestSQLMaxRows(t *testing.T) {
	cfg := sqlConfig
	cfg.MaxRows = 5
	m := sqlManager(t, cfg)
	series := func(n string) string {
		return "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < " + n + ") SELECT n FROM s"
	}
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			ok := sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: series("5"), Scan: []string{"int64"}})
			if len(ok.Rows) != 5 || ok.Rows[4][0] != "5" {
				t.Fatalf("5 rows: %v", ok.Rows)
			}
			over, trace := sqlRun(t, m, d.conn, sqlReq{Op: "query", SQL: series("10"), Scan: []string{"int64"}})
			sqlWantCode(t, over, "resource_exhausted", "more than 5 rows")
			if trace[0].Error == "" {
				t.Errorf("trace %+v has no error", trace[0])
			}
			// The pool still works.
			sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: series("3"), Scan: []string{"int64"}})
		})
	}
}

func TestSQLWrongDBType(t *testing.T) {
	m := sqlManager(t, sqlConfig)
	conn := hostfuncs.Connection{Tenant: sqlName("t"), Name: "mongo", ConfigVersion: 1, DBType: "mongodb",
		URI: "mongodb://127.0.0.1:27017/", Allowlist: []string{"127.0.0.1"}}
	out, _ := sqlRun(t, m, conn, sqlReq{Op: "query", SQL: "SELECT 1", Scan: []string{"int64"}})
	sqlWantCode(t, out, "invalid_input", "need postgres or mysql")
}
