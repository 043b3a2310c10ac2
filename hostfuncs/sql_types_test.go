package hostfuncs_test

import (
	"encoding/base64"
	"strconv"
	"testing"
)

// TestSQLTypesRoundTrip writes each type through the guest SDK with a
// bound parameter and reads it back into a Go type.
func TestSQLTypesRoundTrip(t *testing.T) {
	bytesB64 := base64.StdEncoding.EncodeToString([]byte{0, 0xff, 0x10, 'a'})
	type tc struct {
		name, col string
		arg       sqlArg
		scan      string
		want      string
	}
	perDB := map[string]struct {
		cols  string
		cases []tc
	}{
		"postgres": {
			cols: "id serial primary key, b boolean, i2 smallint, i8 bigint, f4 real, f8 double precision, t text, " +
				"bt bytea, ts timestamptz, tsn timestamp, d date, n numeric(40,10), j json, jb jsonb, u uuid",
			cases: []tc{
				{"bool", "b", sqlArg{"bool", "true"}, "bool", "true"},
				{"smallint", "i2", sqlArg{"int64", "-32768"}, "int64", "-32768"},
				{"bigint max", "i8", sqlArg{"int64", "9223372036854775807"}, "int64", "9223372036854775807"},
				{"bigint 2^53+1", "i8", sqlArg{"int64", "9007199254740993"}, "int64", "9007199254740993"},
				{"bigint as any", "i8", sqlArg{"int64", "-9007199254740993"}, "any", "int64:-9007199254740993"},
				{"real", "f4", sqlArg{"float64", "0.1"}, "float64", "0.1"},
				{"double", "f8", sqlArg{"float64", "1.2345678901234567e+300"}, "float64", "1.2345678901234567e+300"},
				{"text", "t", sqlArg{"string", "héllo ☃ 'quote' $1"}, "string", "héllo ☃ 'quote' $1"},
				{"bytea", "bt", sqlArg{"bytes", bytesB64}, "bytes", bytesB64},
				{"bytea as any", "bt", sqlArg{"bytes", bytesB64}, "any", "[]uint8:" + bytesB64},
				{"timestamptz", "ts", sqlArg{"time", "2024-02-29T12:34:56.123456Z"}, "time", "2024-02-29T12:34:56.123456Z"},
				{"timestamptz from string", "ts", sqlArg{"string", "2024-02-29T12:34:56+02:00"}, "time", "2024-02-29T10:34:56Z"},
				{"timestamp", "tsn", sqlArg{"time", "1999-12-31T23:59:59Z"}, "time", "1999-12-31T23:59:59Z"},
				{"date", "d", sqlArg{"string", "2024-02-29"}, "string", "2024-02-29"},
				{"date as time", "d", sqlArg{"string", "2024-02-29"}, "time", "2024-02-29T00:00:00Z"},
				{"numeric", "n", sqlArg{"string", "123456789012345678901234567890.0123456789"}, "string", "123456789012345678901234567890.0123456789"},
				{"json", "j", sqlArg{"json", `{"b":[1,2],"a":12345678901234567890}`}, "json", `{"b":[1,2],"a":12345678901234567890}`},
				{"jsonb", "jb", sqlArg{"json", `{"a":9007199254740993,"s":"x"}`}, "json", `{"a":9007199254740993,"s":"x"}`},
				{"uuid", "u", sqlArg{"string", "0b0e4a8c-1234-4abc-8def-0123456789ab"}, "string", "0b0e4a8c-1234-4abc-8def-0123456789ab"},
				{"null text", "t", sqlArg{"nullstring", ""}, "*string", "NULL"},
				{"null bigint", "i8", sqlArg{"null", ""}, "*int64", "NULL"},
				{"non-null into pointer", "i8", sqlArg{"int64", "42"}, "*int64", "42"},
			},
		},
		"mysql": {
			cols: "id bigint auto_increment primary key, b bool, i2 smallint, i8 bigint, u8 bigint unsigned, f4 float, " +
				"f8 double, t text, bt blob, ts datetime(6), d date, n decimal(40,10), j json, u uuid",
			cases: []tc{
				{"bool", "b", sqlArg{"bool", "true"}, "bool", "true"},
				{"smallint", "i2", sqlArg{"int64", "-32768"}, "int64", "-32768"},
				{"bigint max", "i8", sqlArg{"int64", "9223372036854775807"}, "int64", "9223372036854775807"},
				{"bigint 2^53+1", "i8", sqlArg{"int64", "9007199254740993"}, "int64", "9007199254740993"},
				{"bigint as any", "i8", sqlArg{"int64", "-9007199254740993"}, "any", "int64:-9007199254740993"},
				{"bigint unsigned max", "u8", sqlArg{"uint64", "18446744073709551615"}, "uint64", "18446744073709551615"},
				{"float", "f4", sqlArg{"float64", "0.1"}, "float64", "0.1"},
				{"double", "f8", sqlArg{"float64", "1.2345678901234567e+300"}, "float64", "1.2345678901234567e+300"},
				{"text", "t", sqlArg{"string", "héllo ☃ 'quote' ?"}, "string", "héllo ☃ 'quote' ?"},
				{"blob", "bt", sqlArg{"bytes", bytesB64}, "bytes", bytesB64},
				{"blob as any", "bt", sqlArg{"bytes", bytesB64}, "any", "[]uint8:" + bytesB64},
				{"datetime", "ts", sqlArg{"time", "2024-02-29T12:34:56.123456Z"}, "time", "2024-02-29T12:34:56.123456Z"},
				{"date", "d", sqlArg{"string", "2024-02-29"}, "string", "2024-02-29"},
				{"date as time", "d", sqlArg{"string", "2024-02-29"}, "time", "2024-02-29T00:00:00Z"},
				{"decimal", "n", sqlArg{"string", "123456789012345678901234567890.0123456789"}, "string", "123456789012345678901234567890.0123456789"},
				{"json", "j", sqlArg{"json", `{"a":9007199254740993,"s":"x"}`}, "json", `{"a":9007199254740993,"s":"x"}`},
				{"uuid", "u", sqlArg{"string", "0b0e4a8c-1234-4abc-8def-0123456789ab"}, "string", "0b0e4a8c-1234-4abc-8def-0123456789ab"},
				{"null text", "t", sqlArg{"nullstring", ""}, "*string", "NULL"},
				{"null bigint", "i8", sqlArg{"null", ""}, "*int64", "NULL"},
				{"non-null into pointer", "i8", sqlArg{"int64", "42"}, "*int64", "42"},
			},
		},
	}
	m := sqlManager(t, sqlConfig)
	for _, d := range sqlDBs(t) {
		t.Run(d.name, func(t *testing.T) {
			spec := perDB[d.name]
			table := sqlTable(t, m, d, spec.cols)
			for _, c := range spec.cases {
				t.Run(c.name, func(t *testing.T) {
					var id string
					if d.name == "postgres" {
						out := sqlMust(t, m, d.conn, sqlReq{Op: "queryrow", SQL: "INSERT INTO " + table + " (" + c.col + ") VALUES ($1) RETURNING id",
							Args: []sqlArg{c.arg}, Scan: []string{"string"}})
						id = out.Rows[0][0]
					} else {
						out := sqlMust(t, m, d.conn, sqlReq{Op: "exec", SQL: "INSERT INTO " + table + " (" + c.col + ") VALUES (?)", Args: []sqlArg{c.arg}})
						id = strconv.FormatInt(out.Result.LastInsertID, 10)
					}
					out := sqlMust(t, m, d.conn, sqlReq{Op: "query", SQL: "SELECT " + c.col + " FROM " + table + " WHERE id = " + d.ph(1),
						Args: []sqlArg{{"int64", id}}, Scan: []string{c.scan}})
					if len(out.Rows) != 1 || out.Rows[0][0] != c.want {
						t.Fatalf("read back %v (types %v), want %q", out.Rows, out.Types, c.want)
					}
				})
			}
		})
	}
}
