package sql

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
)

// Rows is a query's result, read whole by the host. Call Next before
// each Scan:
//
//	for rows.Next() {
//		if err := rows.Scan(&id, &email); err != nil { ... }
//	}
type Rows struct {
	columns []string
	types   []string
	rows    [][]json.RawMessage
	next    int // index of the row Next moves to

	// profile maps each column to the User field ScanUser fills (a
	// profileField), or to notProfile; made by the first ScanUser.
	profile []profileField
}

// decodeRows decodes a sql.query result. The Rows keep raw: the cells
// are spans of it.
func decodeRows(raw []byte) (*Rows, error) {
	if r, ok := decodeRowsFast(raw); ok {
		return r, nil
	}
	var r struct {
		Columns []string            `json:"columns"`
		Types   []string            `json:"types"`
		Rows    [][]json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, fmt.Errorf("sql: decode rows: %w", err)
	}
	return &Rows{columns: r.Columns, types: r.Types, rows: r.Rows}, nil
}

// decodeRowsFast decodes the usual shape of a result, each key once and
// no null where a list is expected, without reflection or a copy per
// cell. ok is false for anything else, which encoding/json then decodes.
func decodeRowsFast(raw []byte) (*Rows, bool) {
	r := &Rows{}
	var seen [3]bool
	once := func(k int) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	cells := make([]json.RawMessage, 0, 32)
	end, ok := jsonx.Object(raw, jsonx.SkipWS(raw, 0), func(key []byte, at int) (int, bool) {
		switch string(key) {
		case "columns":
			if !once(0) {
				return 0, false
			}
			return lastColumns.list(raw, at, &r.columns, &r.profile)
		case "types":
			if !once(1) {
				return 0, false
			}
			return lastTypes.list(raw, at, &r.types, nil)
		case "rows":
			if !once(2) {
				return 0, false
			}
			r.rows = [][]json.RawMessage{}
			return jsonx.Array(raw, at, func(at int) (int, bool) {
				start := len(cells)
				var end int
				var ok bool
				if cells, end, ok = appendCells(cells, raw, at); ok {
					r.rows = append(r.rows, cells[start:len(cells):len(cells)])
				}
				return end, ok
			})
		}
		if jsonx.FoldEqual(key, "columns") || jsonx.FoldEqual(key, "types") || jsonx.FoldEqual(key, "rows") {
			return 0, false
		}
		return jsonx.Value(raw, at)
	})
	if !ok || !jsonx.End(raw, end) {
		return nil, false
	}
	return r, true
}

// appendCells appends the cells of the row array at raw[at:] (no
// leading whitespace) and returns the index just past it: jsonx.Array
// written out, without a call per cell.
func appendCells(cells []json.RawMessage, raw []byte, at int) ([]json.RawMessage, int, bool) {
	if at >= len(raw) || raw[at] != '[' {
		return cells, 0, false
	}
	i := jsonx.SkipWS(raw, at+1)
	if i < len(raw) && raw[i] == ']' {
		return cells, i + 1, true
	}
	for {
		end, ok := jsonx.Value(raw, i)
		if !ok {
			return cells, 0, false
		}
		cells = append(cells, raw[i:end:end])
		i = end
		if i < len(raw) && raw[i] > ' ' {
			// compact JSON: no whitespace to skip
		} else {
			i = jsonx.SkipWS(raw, i)
		}
		if i >= len(raw) {
			return cells, 0, false
		}
		switch raw[i] {
		case ']':
			return cells, i + 1, true
		case ',':
			i++
			if i < len(raw) && raw[i] <= ' ' {
				i = jsonx.SkipWS(raw, i)
			}
		default:
			return cells, 0, false
		}
	}
}

// listCache keeps the last list of column names or types a result
// held: a connector runs the same statements again and again, and
// finding the list's JSON equal to the last one's costs less in wasm
// than decoding it. An instance runs one call at a time.
type listCache struct {
	json    []byte
	names   []string
	profile []profileField // for columns: what ScanUser made of them
}

var lastColumns, lastTypes listCache

// list decodes the array of strings at raw[at:] into *dst, reusing the
// last decoded list (and the ScanUser mapping made for it, into
// *profile) when the array's JSON is the same.
func (c *listCache) list(raw []byte, at int, dst *[]string, profile *[]profileField) (int, bool) {
	if n := len(c.json); n > 0 && len(raw)-at >= n && bytes.Equal(raw[at:at+n], c.json) {
		*dst = c.names
		if profile != nil {
			*profile = c.profile
		}
		return at + n, true
	}
	end, ok := stringList(raw, at, dst)
	if ok {
		// The list's strings share raw, which nothing writes to: they
		// stay valid however long the cache keeps them.
		c.json, c.names, c.profile = raw[at:end:end], *dst, nil
		if profile != nil {
			c.profile = profileOf(*dst)
			*profile = c.profile
		}
	}
	return end, ok
}

// stringList decodes the array of strings at raw[at:] into *dst.
//
// A plain name is not copied: it shares raw's memory, which the Rows own
// and nothing writes to.
func stringList(raw []byte, at int, dst *[]string) (int, bool) {
	list := make([]string, 0, 8)
	end, ok := jsonx.Array(raw, at, func(at int) (int, bool) {
		end, plain, ok := jsonx.String(raw, at)
		if !ok {
			return 0, false
		}
		if plain && end-at > 2 {
			list = append(list, unsafe.String(&raw[at+1], end-at-2))
		} else {
			list = append(list, jsonx.Unquote(raw[at:end], plain))
		}
		return end, true
	})
	*dst = list
	return end, ok
}

// Columns returns the column names.
func (r *Rows) Columns() []string { return r.columns }

// Types returns the columns' database type names, lower case: "int8",
// "text", "timestamptz", "jsonb" on PostgreSQL; "bigint", "varchar",
// "datetime", "decimal" on MySQL.
func (r *Rows) Types() []string { return r.types }

// Len is the number of rows.
func (r *Rows) Len() int { return len(r.rows) }

// Next moves to the next row, reporting whether there is one.
func (r *Rows) Next() bool {
	if r.next >= len(r.rows) {
		r.next = len(r.rows) + 1
		return false
	}
	r.next++
	return true
}

// Close is a no-op (the result is already read); it exists so that code
// written for database/sql reads the same.
func (r *Rows) Close() error { return nil }

// Err is always nil: a failing query fails Query itself.
func (r *Rows) Err() error { return nil }

// Scan copies the current row's columns into dest, one per column.
func (r *Rows) Scan(dest ...any) error {
	if r.next == 0 || r.next > len(r.rows) {
		return errors.New("sql: Scan called without a successful Next")
	}
	row := r.rows[r.next-1]
	if len(dest) != len(row) {
		return fmt.Errorf("sql: Scan: %d destinations for %d columns", len(dest), len(row))
	}
	for i, d := range dest {
		typ := ""
		if i < len(r.types) {
			typ = r.types[i]
		}
		if err := scanCell(row[i], typ, d); err != nil {
			name := strconv.Itoa(i)
			if i < len(r.columns) {
				name = strconv.Quote(r.columns[i])
			}
			return fmt.Errorf("sql: Scan column %s: %w", name, err)
		}
	}
	return nil
}

// cell is one decoded JSON cell.
type cell struct {
	raw json.RawMessage
}

func (c cell) isNull() bool { return len(c.raw) == 0 || string(c.raw) == "null" }

// str returns the cell's string value, if it is a JSON string. A string
// without escapes shares the Rows' memory, which nothing writes to.
func (c cell) str() (string, bool) {
	if len(c.raw) == 0 || c.raw[0] != '"' {
		return "", false
	}
	if end, plain, ok := jsonx.String(c.raw, 0); ok && end == len(c.raw) {
		if plain {
			if len(c.raw) == 2 {
				return "", true
			}
			return unsafe.String(&c.raw[1], len(c.raw)-2), true
		}
		return jsonx.Unquote(c.raw, plain), true
	}
	var s string
	if err := json.Unmarshal(c.raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// number returns the literal of a JSON number, or of a string holding one
// ("12.50" from a numeric column).
func (c cell) number() (string, bool) {
	if len(c.raw) > 0 && (c.raw[0] == '-' || (c.raw[0] >= '0' && c.raw[0] <= '9')) {
		return string(c.raw), true
	}
	if s, ok := c.str(); ok {
		return s, true
	}
	return "", false
}

func (c cell) bytes() ([]byte, bool) {
	if len(c.raw) > 0 && c.raw[0] == '{' {
		var w map[string]string
		if err := json.Unmarshal(c.raw, &w); err == nil && len(w) == 1 {
			if s, ok := w["$bytes"]; ok {
				b, err := base64.StdEncoding.DecodeString(s)
				return b, err == nil
			}
		}
		return nil, false
	}
	if s, ok := c.str(); ok {
		return []byte(s), true
	}
	return nil, false
}

func scanCell(raw json.RawMessage, typ string, dest any) error {
	c := cell{raw: raw}
	if n := len(raw); n == 0 || raw[0] <= ' ' || raw[n-1] <= ' ' {
		c.raw = bytes.TrimSpace(raw) // only encoding/json's slow path leaves space
	}
	if c.isNull() {
		switch d := dest.(type) {
		case *any:
			*d = nil
			return nil
		case *json.RawMessage:
			*d = nil
			return nil
		case *[]byte:
			*d = nil
			return nil
		}
		rv := reflect.ValueOf(dest)
		if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
			rv.Elem().SetZero()
			return nil
		}
		return fmt.Errorf("NULL cannot be stored in %T (scan into a pointer to a pointer, such as **string)", dest)
	}
	bad := func() error { return fmt.Errorf("cannot store %s in %T", c.raw, dest) }
	switch d := dest.(type) {
	case *string:
		if s, ok := c.str(); ok {
			*d = s
			return nil
		}
		if b, ok := c.bytes(); ok {
			*d = string(b)
			return nil
		}
		// Numbers, booleans, JSON documents: their JSON text, sharing the
		// Rows' memory.
		*d = unsafe.String(&c.raw[0], len(c.raw))
		return nil
	case *int64:
		n, err := c.int(64)
		*d = n
		return err
	case *int:
		n, err := c.int(strconv.IntSize)
		*d = int(n)
		return err
	case *int32:
		n, err := c.int(32)
		*d = int32(n)
		return err
	case *uint64:
		s, ok := c.number()
		if !ok {
			return bad()
		}
		n, err := strconv.ParseUint(s, 10, 64)
		*d = n
		return err
	case *float64:
		f, err := c.float()
		*d = f
		return err
	case *bool:
		switch string(c.raw) {
		case "true", "1":
			*d = true
		case "false", "0":
			*d = false
		default:
			return bad()
		}
		return nil
	case *[]byte:
		b, ok := c.bytes()
		if !ok {
			return bad()
		}
		*d = b
		return nil
	case *time.Time:
		s, ok := c.str()
		if !ok {
			return bad()
		}
		t, err := parseTime(s)
		*d = t
		return err
	case *json.RawMessage:
		// A JSON column arrives as the document; MariaDB's JSON is text.
		if s, ok := c.str(); ok && typ != "json" && typ != "jsonb" && json.Valid([]byte(s)) {
			*d = json.RawMessage(s)
			return nil
		}
		*d = append(json.RawMessage(nil), c.raw...)
		return nil
	case *any:
		v, err := c.value()
		*d = v
		return err
	}
	rv := reflect.ValueOf(dest)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Pointer {
		p := reflect.New(rv.Elem().Type().Elem())
		if err := scanCell(c.raw, typ, p.Interface()); err != nil {
			return err
		}
		rv.Elem().Set(p)
		return nil
	}
	return fmt.Errorf("unsupported destination %T", dest)
}

func (c cell) int(bits int) (int64, error) {
	s, ok := c.number()
	if !ok {
		switch string(c.raw) {
		case "true":
			return 1, nil
		case "false":
			return 0, nil
		}
		return 0, fmt.Errorf("cannot store %s in an integer", c.raw)
	}
	n, err := strconv.ParseInt(s, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("cannot store %s in an int%d: %w", s, bits, err)
	}
	return n, nil
}

func (c cell) float() (float64, error) {
	s, ok := c.number()
	if !ok {
		return 0, fmt.Errorf("cannot store %s in a float64", c.raw)
	}
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// value decodes a cell for *any: int64 (or uint64, or float64 for a
// fractional number), string, bool, []byte, or json.RawMessage for an
// object or array.
func (c cell) value() (any, error) {
	switch c.raw[0] {
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case '"':
		s, _ := c.str()
		return s, nil
	case '{':
		if b, ok := c.bytes(); ok {
			return b, nil
		}
		return append(json.RawMessage(nil), c.raw...), nil
	case '[':
		return append(json.RawMessage(nil), c.raw...), nil
	}
	s := string(c.raw)
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
	}
	return strconv.ParseFloat(s, 64)
}

func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse %q as an RFC 3339 time", s)
}
