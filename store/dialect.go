package store

import (
	"errors"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is what differs between SQLite and PostgreSQL. Queries are
// written with '?' placeholders and rebound for PostgreSQL.
type dialect struct {
	name      string
	dollar    bool   // rebind '?' to $1, $2, ...
	forUpdate string // row-lock suffix of a SELECT
	// forNoKeyUpdate is forUpdate for a row only updated, never deleted
	// or re-keyed: it does not block other transactions' foreign-key
	// checks on the row.
	forNoKeyUpdate string
	skipLocked     string // row-lock suffix of a SELECT that skips rows others hold
	migrateSQL     string // run first in every migration transaction
	ddl            *strings.Replacer
	isUnique       func(error) bool
	isFK           func(error) bool
	// isRetry: the transaction lost a deadlock or a serialization
	// conflict and may be run again (nil: never).
	isRetry func(error) bool
}

func (d *dialect) q(query string) string {
	if !d.dollar || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

var sqliteDialect = &dialect{
	name: "sqlite",
	ddl: strings.NewReplacer(
		"{{BLOB}}", "BLOB",
		"{{AUTOID}}", "INTEGER PRIMARY KEY AUTOINCREMENT",
	),
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	isFK: func(err error) bool {
		var e *sqlite.Error
		return errors.As(err, &e) && e.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	},
}

var postgresDialect = &dialect{
	name:           "postgres",
	dollar:         true,
	forUpdate:      " FOR UPDATE",
	forNoKeyUpdate: " FOR NO KEY UPDATE",
	skipLocked:     " FOR UPDATE SKIP LOCKED",
	migrateSQL:     "SELECT pg_advisory_xact_lock(hashtext('sluice.store.migrate:' || coalesce(current_schema(), '')))",
	ddl: strings.NewReplacer(
		"{{BLOB}}", "BYTEA",
		"{{AUTOID}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
	),
	isUnique: func(err error) bool { return pgCode(err) == "23505" },
	isFK:     func(err error) bool { return pgCode(err) == "23503" },
	isRetry: func(err error) bool {
		c := pgCode(err)
		return c == "40P01" || c == "40001"
	},
}

func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
