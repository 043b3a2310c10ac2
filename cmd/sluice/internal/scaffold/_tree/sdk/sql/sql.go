package sql

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
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

// appendRequest appends a statement's request, {"sql","args","query"?},
// byte for byte as json.Marshal would encode it.
func appendRequest(dst []byte, query string, args []any, isQuery bool) ([]byte, error) {
	dst = append(dst, `{"sql":`...)
	dst = appendQuery(dst, query)
	dst = append(dst, `,"args":[`...)
	for i, a := range args {
		if i > 0 {
			dst = append(dst, ',')
		}
		var err error
		if dst, err = appendArg(dst, a); err != nil {
			return nil, fmt.Errorf("sql: argument %d: %w", i+1, err)
		}
	}
	dst = append(dst, ']')
	if isQuery {
		dst = append(dst, `,"query":true`...)
	}
	return append(dst, '}'), nil
}

// quoted holds the JSON text of the statements sent last: a connector
// sends the same few statements again and again, and quoting a long
// statement costs more in wasm than finding it here. An instance runs
// one call at a time.
var quoted struct {
	texts [8]string
	json  [8][]byte
	next  int
}

// reqBuf is reused for every request: the host copies it during the
// host call and nothing keeps it.
var reqBuf []byte

// appendQuery appends query as a JSON string.
func appendQuery(dst []byte, query string) []byte {
	for i, t := range quoted.texts {
		if len(t) == len(query) && t == query {
			return append(dst, quoted.json[i]...)
		}
	}
	q := jsonx.AppendString(nil, query, true)
	n := quoted.next
	quoted.texts[n], quoted.json[n] = query, q
	quoted.next = (n + 1) % len(quoted.texts)
	return append(dst, q...)
}

// Query runs a statement that returns rows.
func Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body, err := appendRequest(reqBuf[:0], query, args, false)
	reqBuf = body[:0]
	if err != nil {
		return nil, err
	}
	// raw is the Rows' own copy of the result: its cells point into it.
	var raw json.RawMessage
	if err := sluice.HostCall("sql.query", json.RawMessage(body), &raw); err != nil {
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
	body, err := appendRequest(reqBuf[:0], query, args, false)
	reqBuf = body[:0]
	if err != nil {
		return Result{}, err
	}
	var res Result
	err = sluice.HostCall("sql.exec", json.RawMessage(body), &res)
	return res, err
}

// Batch runs the statements in one transaction: all of them take effect
// or, when one fails, none does. The error of a failed statement carries
// its index (from 0) in Details["statement"].
func Batch(ctx context.Context, stmts ...Statement) ([]BatchResult, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	body := append(make([]byte, 0, 256), `{"statements":[`...)
	for i, st := range stmts {
		if i > 0 {
			body = append(body, ',')
		}
		var err error
		if body, err = appendRequest(body, st.SQL, st.Args, st.Query); err != nil {
			return nil, fmt.Errorf("sql: statement %d: %w", i, err)
		}
	}
	body = append(body, "]}"...)
	var resp struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := sluice.HostCall("sql.batch", json.RawMessage(body), &resp); err != nil {
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

// appendArg appends one argument as ABI.md says, byte for byte as
// json.Marshal encodes it.
func appendArg(dst []byte, a any) ([]byte, error) {
	switch v := a.(type) {
	case nil:
		return append(dst, "null"...), nil
	case string:
		return jsonx.AppendString(dst, v, true), nil
	case int64:
		return strconv.AppendInt(dst, v, 10), nil
	case int:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int16:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case int8:
		return strconv.AppendInt(dst, int64(v), 10), nil
	case uint64:
		return strconv.AppendUint(dst, v, 10), nil
	case uint:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint32:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint16:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case uint8:
		return strconv.AppendUint(dst, uint64(v), 10), nil
	case bool:
		return strconv.AppendBool(dst, v), nil
	case []byte:
		if v == nil {
			return append(dst, "null"...), nil
		}
		dst = append(dst, `{"$bytes":"`...)
		dst = base64.StdEncoding.AppendEncode(dst, v)
		return append(dst, `"}`...), nil
	case time.Time:
		dst = append(dst, `{"$time":"`...)
		dst = v.AppendFormat(dst, time.RFC3339Nano)
		return append(dst, `"}`...), nil
	case json.RawMessage:
		if v == nil {
			return append(dst, "null"...), nil
		}
		if !json.Valid(v) {
			return nil, errors.New("json.RawMessage is not valid JSON")
		}
		// JSON documents travel as their text, so scalars stay documents.
		return jsonx.AppendStringBytes(dst, v, true), nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return jsonx.AppendString(dst, strconv.FormatFloat(v, 'g', -1, 64), true), nil
		}
		b, err := json.Marshal(v)
		return append(dst, b...), err
	case float32:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return jsonx.AppendString(dst, strconv.FormatFloat(f, 'g', -1, 32), true), nil
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 32), nil
	}
	rv := reflect.ValueOf(a)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return append(dst, "null"...), nil
		}
		return appendArg(dst, rv.Elem().Interface())
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
