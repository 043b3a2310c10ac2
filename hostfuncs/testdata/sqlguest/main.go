// Command sqlguest is the SQL host functions' test connector.
//
// login is a realistic one: it looks the user up by email with the SQL
// host call (table USERS_TABLE, PostgreSQL placeholders) and checks the
// password with password.verify (skipped when LOGIN_VERIFY is "0").
//
// updateUser is a test harness: updates.customData.req is a JSON string
// naming one SQL operation, its arguments as typed values and the Go
// types to scan the result into; the outcome comes back as the string
// customData.out of the returned user (strings keep every digit).
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/fn/updateuser"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

func main() {}

func init() {
	login.Handle(doLogin)
	updateuser.Handle(harness)
}

func doLogin(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
	table := os.Getenv("USERS_TABLE")
	var (
		id              int64
		email, username string
		hash            string
	)
	err := sql.QueryRow(ctx, "SELECT id, email, username, password_hash FROM "+table+" WHERE email = $1",
		strings.ToLower(in.Query.Email)).Scan(&id, &email, &username, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sluice.ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	if os.Getenv("LOGIN_VERIFY") != "0" {
		var v struct {
			Valid bool `json:"valid"`
		}
		if err := sluice.HostCall("password.verify", map[string]string{"hash": hash, "password": in.Password}, &v); err != nil {
			return nil, err
		}
		if !v.Valid {
			return nil, sluice.ErrWrongPassword
		}
	}
	return &sluice.User{ID: strconv.FormatInt(id, 10), Email: email, Username: username}, nil
}

// Harness request and answer.
type harnessReq struct {
	Op    string    `json:"op"` // query, queryrow, exec, batch
	SQL   string    `json:"sql"`
	Args  []typed   `json:"args"`
	Scan  []string  `json:"scan"`
	Batch []stmtReq `json:"batch"`
}

type stmtReq struct {
	SQL   string   `json:"sql"`
	Args  []typed  `json:"args"`
	Query bool     `json:"query"`
	Scan  []string `json:"scan"`
}

// typed is an argument: t names its Go type, v is its text.
type typed struct {
	T string `json:"t"`
	V string `json:"v"`
}

type harnessOut struct {
	Columns []string     `json:"columns,omitempty"`
	Types   []string     `json:"types,omitempty"`
	Rows    [][]string   `json:"rows,omitempty"`
	Result  *sql.Result  `json:"result,omitempty"`
	Batch   []harnessOut `json:"batch,omitempty"`
	Error   *harnessErr  `json:"error,omitempty"`
}

type harnessErr struct {
	Code      string         `json:"code"`
	Message   string         `json:"message"`
	Details   map[string]any `json:"details,omitempty"`
	SQLState  string         `json:"sqlstate,omitempty"`
	Errno     int            `json:"errno,omitempty"`
	Unique    bool           `json:"unique,omitempty"`
	NoRows    bool           `json:"noRows,omitempty"`
	ScanError string         `json:"scanError,omitempty"`
}

func harness(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
	reqText, _ := in.Updates.CustomData["req"].(string)
	var req harnessReq
	if err := json.Unmarshal([]byte(reqText), &req); err != nil {
		return nil, sluice.InvalidInput("harness request: " + err.Error())
	}
	out := run(ctx, req)
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	return &sluice.User{ID: "harness", CustomData: map[string]any{"out": string(b)}}, nil
}

func run(ctx context.Context, req harnessReq) harnessOut {
	args, err := goArgs(req.Args)
	if err != nil {
		return harnessOut{Error: &harnessErr{Code: "harness", Message: err.Error()}}
	}
	switch req.Op {
	case "query":
		rows, err := sql.Query(ctx, req.SQL, args...)
		if err != nil {
			return harnessOut{Error: errOut(err)}
		}
		return scanAll(rows, req.Scan)
	case "queryrow":
		dest := dests(req.Scan)
		if err := sql.QueryRow(ctx, req.SQL, args...).Scan(dest...); err != nil {
			return harnessOut{Error: errOut(err)}
		}
		return harnessOut{Rows: [][]string{show(dest)}}
	case "exec":
		res, err := sql.Exec(ctx, req.SQL, args...)
		if err != nil {
			return harnessOut{Error: errOut(err)}
		}
		return harnessOut{Result: &res}
	case "batch":
		stmts := make([]sql.Statement, len(req.Batch))
		for i, s := range req.Batch {
			a, err := goArgs(s.Args)
			if err != nil {
				return harnessOut{Error: &harnessErr{Code: "harness", Message: err.Error()}}
			}
			stmts[i] = sql.Statement{SQL: s.SQL, Args: a, Query: s.Query}
		}
		results, err := sql.Batch(ctx, stmts...)
		if err != nil {
			return harnessOut{Error: errOut(err)}
		}
		var out harnessOut
		for i, r := range results {
			if r.Rows != nil {
				out.Batch = append(out.Batch, scanAll(r.Rows, req.Batch[i].Scan))
			} else {
				res := r.Result
				out.Batch = append(out.Batch, harnessOut{Result: &res})
			}
		}
		return out
	}
	return harnessOut{Error: &harnessErr{Code: "harness", Message: "unknown op " + req.Op}}
}

func scanAll(rows *sql.Rows, scan []string) harnessOut {
	out := harnessOut{Columns: rows.Columns(), Types: rows.Types(), Rows: [][]string{}}
	for rows.Next() {
		dest := dests(scan)
		if err := rows.Scan(dest...); err != nil {
			return harnessOut{Error: &harnessErr{Code: "scan", ScanError: err.Error()}}
		}
		out.Rows = append(out.Rows, show(dest))
	}
	return out
}

func errOut(err error) *harnessErr {
	e := &harnessErr{Code: "other", Message: err.Error(), SQLState: sql.SQLState(err), Errno: sql.MySQLErrno(err),
		Unique: sql.IsUniqueViolation(err), NoRows: errors.Is(err, sql.ErrNoRows)}
	var se *sluice.Error
	if errors.As(err, &se) {
		e.Code, e.Details = se.Code, se.Details
	} else if strings.HasPrefix(err.Error(), "sql: Scan") {
		e.Code, e.ScanError = "scan", err.Error()
	}
	return e
}

func goArgs(in []typed) ([]any, error) {
	out := make([]any, len(in))
	for i, a := range in {
		var err error
		switch a.T {
		case "null":
			out[i] = nil
		case "nullstring":
			out[i] = (*string)(nil)
		case "bool":
			out[i] = a.V == "true"
		case "int64":
			out[i], err = strconv.ParseInt(a.V, 10, 64)
		case "int32":
			var n int64
			n, err = strconv.ParseInt(a.V, 10, 32)
			out[i] = int32(n)
		case "uint64":
			out[i], err = strconv.ParseUint(a.V, 10, 64)
		case "float64":
			out[i], err = strconv.ParseFloat(a.V, 64)
		case "string":
			out[i] = a.V
		case "bytes":
			out[i], err = base64.StdEncoding.DecodeString(a.V)
		case "time":
			out[i], err = time.Parse(time.RFC3339Nano, a.V)
		case "json":
			out[i] = json.RawMessage(a.V)
		default:
			err = fmt.Errorf("unknown arg type %q", a.T)
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func dests(types []string) []any {
	out := make([]any, len(types))
	for i, t := range types {
		switch t {
		case "string":
			out[i] = new(string)
		case "int64":
			out[i] = new(int64)
		case "uint64":
			out[i] = new(uint64)
		case "float64":
			out[i] = new(float64)
		case "bool":
			out[i] = new(bool)
		case "bytes":
			out[i] = new([]byte)
		case "time":
			out[i] = new(time.Time)
		case "json":
			out[i] = new(json.RawMessage)
		case "any":
			out[i] = new(any)
		case "*string":
			out[i] = new(*string)
		case "*int64":
			out[i] = new(*int64)
		default:
			out[i] = new(any)
		}
	}
	return out
}

// show renders scanned values as text: integers in full, bytes in
// base64, times in UTC RFC 3339, JSON compacted, NULL as "NULL".
func show(dest []any) []string {
	out := make([]string, len(dest))
	for i, d := range dest {
		out[i] = showOne(d)
	}
	return out
}

func showOne(d any) string {
	switch v := d.(type) {
	case *string:
		return *v
	case *int64:
		return strconv.FormatInt(*v, 10)
	case *uint64:
		return strconv.FormatUint(*v, 10)
	case *float64:
		return strconv.FormatFloat(*v, 'g', -1, 64)
	case *bool:
		return strconv.FormatBool(*v)
	case *[]byte:
		return base64.StdEncoding.EncodeToString(*v)
	case *time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	case *json.RawMessage:
		var buf bytes.Buffer
		if err := json.Compact(&buf, *v); err != nil {
			return "invalid json: " + string(*v)
		}
		return buf.String()
	case *any:
		switch x := (*v).(type) {
		case nil:
			return "NULL"
		case []byte:
			return fmt.Sprintf("[]uint8:%s", base64.StdEncoding.EncodeToString(x))
		case json.RawMessage:
			return "json:" + string(x)
		default:
			return fmt.Sprintf("%T:%v", x, x)
		}
	case **string:
		if *v == nil {
			return "NULL"
		}
		return **v
	case **int64:
		if *v == nil {
			return "NULL"
		}
		return strconv.FormatInt(**v, 10)
	}
	return fmt.Sprintf("unknown %T", d)
}
