//go:build !wasip1

package sql_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sluicetest"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

// run runs body inside a connector call whose host answers with fake.
func run(t *testing.T, fake func(op string, req []byte) ([]byte, error), body func(ctx context.Context) error) *sluicetest.Host {
	t.Helper()
	h := sluicetest.New(t)
	h.HostCall = fake
	var bodyErr error
	login.Handle(func(ctx context.Context, _ sluice.LoginInput) (*sluice.User, error) {
		bodyErr = body(ctx)
		return &sluice.User{ID: "1"}, nil
	})
	t.Cleanup(func() { login.Handle(nil) })
	if _, st := h.Call("login", `{}`); st != 0 {
		t.Fatalf("status %d", st)
	}
	if bodyErr != nil {
		t.Fatal(bodyErr)
	}
	return h
}

func TestArgsEncoding(t *testing.T) {
	var got []byte
	run(t, func(op string, req []byte) ([]byte, error) {
		got = req
		return []byte(`{"rowsAffected":1,"lastInsertId":9223372036854775807}`), nil
	}, func(ctx context.Context) error {
		res, err := sql.Exec(ctx, "INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)",
			nil, true, int64(math.MaxInt64), uint64(math.MaxUint64), 0.1, "a'b", []byte{0, 255},
			time.Date(2024, 2, 29, 12, 0, 0, 5000, time.UTC), json.RawMessage(`{"a":1}`), (*string)(nil))
		if err != nil {
			return err
		}
		if res.RowsAffected != 1 || res.LastInsertID != math.MaxInt64 {
			t.Errorf("result %+v", res)
		}
		return nil
	})
	want := `{"sql":"INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)","args":[null,true,9223372036854775807,18446744073709551615,0.1,"a'b",{"$bytes":"AP8="},{"$time":"2024-02-29T12:00:00.000005Z"},"{\"a\":1}",null]}`
	if string(got) != want {
		t.Fatalf("request\n%s\nwant\n%s", got, want)
	}
}

func TestScan(t *testing.T) {
	result := `{"columns":["id","big","f","s","b","t","d","j","n","nul","flag"],
		"types":["int8","int8","float8","numeric","bytea","timestamptz","date","jsonb","text","text","bool"],
		"rows":[[1,9007199254740993,0.1,"12.50",{"$bytes":"AP8="},"2024-02-29T12:00:00Z","2024-02-29",{"a":9007199254740993},"x",null,true]]}`
	run(t, func(op string, req []byte) ([]byte, error) {
		if op != "sql.query" {
			t.Errorf("op %s", op)
		}
		return []byte(result), nil
	}, func(ctx context.Context) error {
		rows, err := sql.Query(ctx, "SELECT ...")
		if err != nil {
			return err
		}
		if !rows.Next() {
			t.Fatal("no row")
		}
		var (
			id, big int64
			f       float64
			dec     string
			b       []byte
			ts, d   time.Time
			j       json.RawMessage
			n       *string
			nul     *string
			flag    bool
		)
		if err := rows.Scan(&id, &big, &f, &dec, &b, &ts, &d, &j, &n, &nul, &flag); err != nil {
			return err
		}
		if id != 1 || big != 9007199254740993 || f != 0.1 || dec != "12.50" || string(b) != "\x00\xff" ||
			!ts.Equal(time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)) || d.Day() != 29 ||
			string(j) != `{"a":9007199254740993}` || n == nil || *n != "x" || nul != nil || !flag {
			t.Errorf("scanned %v %v %v %v %v %v %v %s %v %v %v", id, big, f, dec, b, ts, d, j, n, nul, flag)
		}
		var anyBig any
		var s string
		dest := []any{&anyBig, &s, new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any)}
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		if anyBig != int64(1) || s != "9007199254740993" {
			t.Errorf("any %T %v, string %q", anyBig, anyBig, s)
		}
		var notNull string
		rows2 := []any{new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), new(any), &notNull, new(any)}
		if err := rows.Scan(rows2...); err == nil {
			t.Error("NULL scanned into a string")
		}
		if rows.Next() {
			t.Error("a second row")
		}
		return nil
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name     string
		answer   error
		sqlstate string
		errno    int
		unique   bool
	}{
		{"postgres unique", &sluice.Error{Code: "db_error", Message: "dup", Details: map[string]any{"sqlstate": "23505"}}, "23505", 0, true},
		{"mysql duplicate", &sluice.Error{Code: "db_error", Message: "dup", Details: map[string]any{"mysqlErrno": "1062", "sqlstate": "23000"}}, "23000", 1062, true},
		{"mysql syntax", &sluice.Error{Code: "db_error", Message: "syntax", Details: map[string]any{"mysqlErrno": "1064", "sqlstate": "42000"}}, "42000", 1064, false},
		{"denied", &sluice.Error{Code: "egress_denied", Message: "no", Details: map[string]any{"address": "127.0.0.1:5432"}}, "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			run(t, func(string, []byte) ([]byte, error) { return nil, tc.answer }, func(ctx context.Context) error {
				err := sql.QueryRow(ctx, "SELECT 1").Scan(new(int64))
				var se *sluice.Error
				if !errors.As(err, &se) || se.Code != tc.answer.(*sluice.Error).Code {
					t.Fatalf("err %v", err)
				}
				if sql.SQLState(err) != tc.sqlstate || sql.MySQLErrno(err) != tc.errno || sql.IsUniqueViolation(err) != tc.unique {
					t.Errorf("SQLState %q MySQLErrno %d IsUniqueViolation %v", sql.SQLState(err), sql.MySQLErrno(err), sql.IsUniqueViolation(err))
				}
				return nil
			})
		})
	}
}

func TestNoRowsAndBatch(t *testing.T) {
	run(t, func(op string, req []byte) ([]byte, error) {
		switch op {
		case "sql.query":
			return []byte(`{"columns":["id"],"types":["int8"],"rows":[]}`), nil
		case "sql.batch":
			want := `{"statements":[{"sql":"INSERT INTO u (e) VALUES (?)","args":["a"]},{"sql":"SELECT LAST_INSERT_ID()","args":[],"query":true}]}`
			if string(req) != want {
				t.Errorf("batch request %s", req)
			}
			return []byte(`{"results":[{"rowsAffected":1,"lastInsertId":7},{"columns":["id"],"types":["bigint"],"rows":[[7]]}]}`), nil
		}
		return nil, errors.New("unexpected " + op)
	}, func(ctx context.Context) error {
		if err := sql.QueryRow(ctx, "SELECT id FROM u WHERE e = $1", "x").Scan(new(int64)); !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("err %v, want ErrNoRows", err)
		}
		res, err := sql.Batch(ctx, sql.Stmt("INSERT INTO u (e) VALUES (?)", "a"), sql.QueryStmt("SELECT LAST_INSERT_ID()"))
		if err != nil {
			return err
		}
		var id int64
		if res[0].LastInsertID != 7 || !res[1].Rows.Next() || res[1].Rows.Scan(&id) != nil || id != 7 {
			t.Errorf("batch %+v", res)
		}
		return nil
	})
}
