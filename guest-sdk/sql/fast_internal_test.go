//go:build !wasip1

package sql

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestDecodeRowsFastMatchesEncodingJSON checks the fast rows decoder
// against the encoding/json one it stands in for.
func TestDecodeRowsFastMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		fast bool
	}{
		{"login row", `{"columns":["id","email"],"types":["int8","text"],"rows":[[1,"a@x"]]}`, true},
		{"no rows", `{"columns":["id"],"types":["int8"],"rows":[]}`, true},
		{"several rows, every kind of cell", ` {"rows" : [ [ null , true , -1.5e3 , "é\"" , {"$bytes":"AP8="} , [1,2] ] , [0,false,0,"",{},[]] ], "columns":["a","b","c","d","e","f"], "types":["x","b","n","t","bytea","int4[]"]} `, true},
		{"escaped column name", `{"columns":["a\"b","\u00e9"],"types":["text","text"],"rows":[["x","y"]]}`, true},
		{"unknown key", `{"columns":[],"types":[],"rows":[],"extra":{"a":1}}`, true},
		{"missing keys", `{"rows":[[1]]}`, true},
		{"key in other case", `{"Columns":["a"],"rows":[]}`, false},
		{"null list", `{"columns":null,"rows":[]}`, false},
		{"null row", `{"rows":[null]}`, false},
		{"repeated key", `{"rows":[[1]],"rows":[[2]]}`, false},
		{"invalid", `{"rows":[[1,]]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := decodeRowsFast([]byte(tt.raw))
			if ok != tt.fast {
				t.Fatalf("fast path taken = %v, want %v", ok, tt.fast)
			}
			if !ok {
				return
			}
			var want struct {
				Columns []string            `json:"columns"`
				Types   []string            `json:"types"`
				Rows    [][]json.RawMessage `json:"rows"`
			}
			if err := json.Unmarshal([]byte(tt.raw), &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.columns, want.Columns) || !reflect.DeepEqual(got.types, want.Types) {
				t.Errorf("columns %q types %q, want %q %q", got.columns, got.types, want.Columns, want.Types)
			}
			if len(got.rows) != len(want.Rows) {
				t.Fatalf("%d rows, want %d", len(got.rows), len(want.Rows))
			}
			for i := range want.Rows {
				if len(got.rows[i]) != len(want.Rows[i]) {
					t.Fatalf("row %d: %d cells, want %d", i, len(got.rows[i]), len(want.Rows[i]))
				}
				for j := range want.Rows[i] {
					if string(got.rows[i][j]) != string(want.Rows[i][j]) {
						t.Errorf("cell %d,%d = %s, want %s", i, j, got.rows[i][j], want.Rows[i][j])
					}
				}
			}
		})
	}
}

// TestAppendRequestMatchesMarshal checks the hand-written request
// encoder against json.Marshal of the request it replaced.
func TestAppendRequestMatchesMarshal(t *testing.T) {
	s := "it's <b>&</b> \u2028 \xff"
	args := []any{nil, true, false, s, int(-1), int8(-8), int16(-16), int32(-32), int64(-64), uint(1), uint8(8), uint16(16),
		uint32(32), uint64(64), 0.1, 1e21, float32(0.1), []byte{0, 255}, []byte(nil), time.Date(2024, 2, 29, 12, 0, 0, 5000, time.FixedZone("x", 3600)),
		json.RawMessage(`{"a": "<x>"}`), json.RawMessage(nil), &s, (*int64)(nil)}
	type stmt struct {
		SQL   string            `json:"sql"`
		Args  []json.RawMessage `json:"args"`
		Query bool              `json:"query,omitempty"`
	}
	for _, isQuery := range []bool{false, true} {
		st := stmt{SQL: "SELECT '<&>' \u2029", Query: isQuery, Args: []json.RawMessage{}}
		for _, a := range args {
			b, err := appendArg(nil, a)
			if err != nil {
				t.Fatalf("%T: %v", a, err)
			}
			st.Args = append(st.Args, b)
		}
		want, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendRequest(nil, st.SQL, args, isQuery)
		if err != nil || string(got) != string(want) {
			t.Errorf("appendRequest =\n%s, %v\nwant\n%s", got, err, want)
		}
	}
	// Each argument as the encoder before the fast path wrote it.
	old := func(a any) any {
		switch v := a.(type) {
		case []byte:
			return map[string][]byte{"$bytes": v}
		case time.Time:
			return map[string]string{"$time": v.Format(time.RFC3339Nano)}
		case json.RawMessage:
			return string(v)
		}
		return a
	}
	for _, a := range args {
		if b, ok := a.([]byte); ok && b == nil {
			continue
		}
		if r, ok := a.(json.RawMessage); ok && r == nil {
			continue
		}
		want, err := json.Marshal(old(a))
		if err != nil {
			t.Fatal(err)
		}
		if got, err := appendArg(nil, a); err != nil || string(got) != string(want) {
			t.Errorf("appendArg(%T %v) = %s, %v; want %s", a, a, got, err, want)
		}
	}
	if _, err := appendRequest(nil, "x", []any{struct{}{}}, false); err == nil {
		t.Error("no error for an unsupported argument")
	}
}
