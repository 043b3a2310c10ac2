package sql

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// CodeDBError is the code of an error the database returned.
const CodeDBError = "db_error"

// ErrNoRows is returned by Row.Scan when the query returned no row.
var ErrNoRows = errors.New("sql: no rows in result set")

// Result is what Exec reports.
type Result struct {
	RowsAffected int64 `json:"rowsAffected"`
	// LastInsertID is the AUTO_INCREMENT value MySQL generated; it is 0 on
	// PostgreSQL (use INSERT ... RETURNING id with Query instead).
	LastInsertID int64 `json:"lastInsertId"`
}

// Statement is one statement of a Batch.
type Statement struct {
	SQL  string
	Args []any
	// Query asks for the statement's rows (a SELECT, or INSERT ...
	// RETURNING): its BatchResult has Rows instead of a Result.
	Query bool
}

// Stmt returns a Statement that is run for its Result.
func Stmt(query string, args ...any) Statement {
	return Statement{SQL: query, Args: args}
}

// QueryStmt returns a Statement that is run for its rows.
func QueryStmt(query string, args ...any) Statement {
	return Statement{SQL: query, Args: args, Query: true}
}

// BatchResult is the outcome of one Statement of a Batch.
type BatchResult struct {
	Result
	// Rows is set for a Statement with Query.
	Rows *Rows
}

type stmtRequest struct {
	SQL   string            `json:"sql"`
	Args  []json.RawMessage `json:"args"`
	Query bool              `json:"query,omitempty"`
}

func newRequest(query string, args []any, isQuery bool) (stmtRequest, error) {
	req := stmtRequest{SQL: query, Args: make([]json.RawMessage, len(args)), Query: isQuery}
	for i, a := range args {
		b, err := encodeArg(a)
		if err != nil {
			return req, fmt.Errorf("sql: argument %d: %w", i+1, err)
		}
		req.Args[i] = b
	}
	return req, nil
}

// Query runs a statement that returns rows.
func Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req, err := newRequest(query, args, false)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if err := sluice.HostCall("sql.query", req, &raw); err != nil {
		return nil, err
	}
	return decodeRows(raw)
}

// Row is the first row of a QueryRow.
type Row struct {
	rows *Rows
	err  error
}

// QueryRow runs a statement expected to return at most one row. Its
// error, or ErrNoRows, is returned by Row.Scan.
func QueryRow(ctx context.Context, query string, args ...any) *Row {
	rows, err := Query(ctx, query, args...)
	return &Row{rows: rows, err: err}
}

// Err is the query's error, without scanning.
func (r *Row) Err() error { return r.err }

// Scan copies the first row's columns into dest (see Rows.Scan), or
// returns ErrNoRows.
func (r *Row) Scan(dest ...any) error {
	if r.err != nil {
		return r.err
	}
	if !r.rows.Next() {
		return ErrNoRows
	}
	return r.rows.Scan(dest...)
}

// Exec runs a statement that returns no rows (INSERT, UPDATE, DELETE,
// DDL).
func Exec(ctx context.Context, query string, args ...any) (Result, error) {
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	req, err := newRequest(query, args, false)
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = sluice.HostCall("sql.exec", req, &res)
	return res, err
}

// Batch runs the statements in one transaction: all of them take effect
// or, when one fails, none does. The error of a failed statement carries
// its index (from 0) in Details["statement"].
func Batch(ctx context.Context, stmts ...Statement) ([]BatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	req := struct {
		Statements []stmtRequest `json:"statements"`
	}{Statements: make([]stmtRequest, len(stmts))}
	for i, st := range stmts {
		r, err := newRequest(st.SQL, st.Args, st.Query)
		if err != nil {
			return nil, fmt.Errorf("sql: statement %d: %w", i, err)
		}
		req.Statements[i] = r
	}
	var resp struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := sluice.HostCall("sql.batch", req, &resp); err != nil {
		return nil, err
	}
	if len(resp.Results) != len(stmts) {
		return nil, fmt.Errorf("sql: batch answered %d results for %d statements", len(resp.Results), len(stmts))
	}
	out := make([]BatchResult, len(stmts))
	for i, raw := range resp.Results {
		if stmts[i].Query {
			rows, err := decodeRows(raw)
			if err != nil {
				return nil, err
			}
			out[i].Rows = rows
			continue
		}
		if err := json.Unmarshal(raw, &out[i].Result); err != nil {
			return nil, fmt.Errorf("sql: decode batch result %d: %w", i, err)
		}
	}
	return out, nil
}

// encodeArg encodes one argument as ABI.md says.
func encodeArg(a any) (json.RawMessage, error) {
	switch v := a.(type) {
	case nil:
		return json.RawMessage("null"), nil
	case []byte:
		if v == nil {
			return json.RawMessage("null"), nil
		}
		return json.Marshal(map[string][]byte{"$bytes": v})
	case time.Time:
		return json.Marshal(map[string]string{"$time": v.Format(time.RFC3339Nano)})
	case json.RawMessage:
		if v == nil {
			return json.RawMessage("null"), nil
		}
		if !json.Valid(v) {
			return nil, errors.New("json.RawMessage is not valid JSON")
		}
		// JSON documents travel as their text, so scalars stay documents.
		return json.Marshal(string(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return json.Marshal(strconv.FormatFloat(v, 'g', -1, 64))
		}
		return json.Marshal(v)
	case float32:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return json.Marshal(strconv.FormatFloat(f, 'g', -1, 32))
		}
		return json.RawMessage(strconv.FormatFloat(f, 'g', -1, 32)), nil
	case bool, string, int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return json.Marshal(v)
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return json.RawMessage("null"), nil
		}
		return encodeArg(rv.Elem().Interface())
	}
	return nil, fmt.Errorf("unsupported type %T", a)
}

// SQLState returns the SQLSTATE of a database error ("23505" for a
// unique violation, "42601" for a syntax error), or "".
func SQLState(err error) string {
	return detail(err, "sqlstate")
}

// MySQLErrno returns the MySQL error number of a database error (1062 for
// a duplicate key, 1064 for a syntax error), or 0.
func MySQLErrno(err error) int {
	n, _ := strconv.Atoi(detail(err, "mysqlErrno"))
	return n
}

// IsUniqueViolation reports whether err is a duplicate key error:
// SQLSTATE 23505 on PostgreSQL, error 1062 on MySQL.
func IsUniqueViolation(err error) bool {
	return SQLState(err) == "23505" || MySQLErrno(err) == 1062
}

func detail(err error, key string) string {
	var se *sluice.Error
	if !errors.As(err, &se) || se.Code != CodeDBError {
		return ""
	}
	switch v := se.Details[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}
