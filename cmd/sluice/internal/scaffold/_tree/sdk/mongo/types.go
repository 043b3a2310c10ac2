package mongo

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// M is an unordered document, for filters and documents whose key order
// does not matter.
type M = map[string]any

// A is an array.
type A = []any

// E is one key and value of a D.
type E struct {
	Key   string
	Value any
}

// D is a document whose keys keep their order, as a sort on several keys
// needs: mongo.D{{"lastName", 1}, {"firstName", 1}}.
type D []E

// MarshalJSON encodes d as a JSON object with its keys in order.
func (d D) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range d {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(e.Key)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.Value)
		if err != nil {
			return nil, fmt.Errorf("mongo: key %q: %w", e.Key, err)
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// ObjectID is a MongoDB ObjectId as its 24 hex digits. It marshals as
// {"$oid":"<hex>"} and unmarshals from that or from a plain string.
type ObjectID string

// MarshalJSON encodes id as {"$oid":"<hex>"}.
func (id ObjectID) MarshalJSON() ([]byte, error) {
	if !id.Valid() {
		return nil, fmt.Errorf("mongo: invalid ObjectID %q (want 24 hex digits)", string(id))
	}
	return []byte(`{"$oid":"` + string(id) + `"}`), nil
}

// UnmarshalJSON accepts {"$oid":"<hex>"} or "<hex>".
func (id *ObjectID) UnmarshalJSON(b []byte) error {
	var s string
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	} else {
		var w struct {
			OID *string `json:"$oid"`
		}
		if err := json.Unmarshal(b, &w); err != nil || w.OID == nil {
			return fmt.Errorf("mongo: ObjectID from %s: want {\"$oid\":\"<hex>\"}", b)
		}
		s = *w.OID
	}
	if !ObjectID(s).Valid() {
		return fmt.Errorf("mongo: invalid ObjectID %q", s)
	}
	*id = ObjectID(s)
	return nil
}

// Hex returns the 24 hex digits.
func (id ObjectID) Hex() string { return string(id) }

// Valid reports whether id is 24 hex digits.
func (id ObjectID) Valid() bool {
	if len(id) != 24 {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// DateTime is a BSON date (milliseconds since the Unix epoch, UTC). It
// marshals as {"$date":{"$numberLong":"<ms>"}} and unmarshals from that,
// from the relaxed {"$date":"<RFC 3339>"} and from {"$date":<ms>}.
type DateTime struct{ time.Time }

// Date returns t as a DateTime, truncated to the millisecond as BSON
// stores it.
func Date(t time.Time) DateTime { return DateTime{t.Truncate(time.Millisecond).UTC()} }

// MarshalJSON encodes d canonically.
func (d DateTime) MarshalJSON() ([]byte, error) {
	return []byte(`{"$date":{"$numberLong":"` + strconv.FormatInt(d.UnixMilli(), 10) + `"}}`), nil
}

// UnmarshalJSON accepts the canonical and relaxed forms.
func (d *DateTime) UnmarshalJSON(b []byte) error {
	var w struct {
		Date json.RawMessage `json:"$date"`
	}
	if err := json.Unmarshal(b, &w); err != nil || len(w.Date) == 0 {
		return fmt.Errorf("mongo: DateTime from %s: want {\"$date\":...}", b)
	}
	switch w.Date[0] {
	case '"':
		var s string
		if err := json.Unmarshal(w.Date, &s); err != nil {
			return err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("mongo: DateTime: %w", err)
		}
		d.Time = t.UTC()
		return nil
	case '{':
		var n Int64
		if err := json.Unmarshal(w.Date, &n); err != nil {
			return fmt.Errorf("mongo: DateTime: %w", err)
		}
		d.Time = time.UnixMilli(int64(n)).UTC()
		return nil
	}
	var ms int64
	if err := json.Unmarshal(w.Date, &ms); err != nil {
		return fmt.Errorf("mongo: DateTime: %w", err)
	}
	d.Time = time.UnixMilli(ms).UTC()
	return nil
}

// Int64 is a BSON int64. It marshals as {"$numberLong":"<n>"} and
// unmarshals from any integral Extended JSON number: {"$numberLong":..},
// {"$numberInt":..}, {"$numberDouble":..} without fraction, or a plain
// JSON number.
type Int64 int64

// MarshalJSON encodes n canonically.
func (n Int64) MarshalJSON() ([]byte, error) {
	return []byte(`{"$numberLong":"` + strconv.FormatInt(int64(n), 10) + `"}`), nil
}

// UnmarshalJSON accepts any integral number form.
func (n *Int64) UnmarshalJSON(b []byte) error {
	v, err := parseInt(b, 64)
	if err != nil {
		return err
	}
	*n = Int64(v)
	return nil
}

// Int32 is a BSON int32. It marshals as {"$numberInt":"<n>"} and
// unmarshals as Int64 does, refusing values that overflow 32 bits.
type Int32 int32

// MarshalJSON encodes n canonically.
func (n Int32) MarshalJSON() ([]byte, error) {
	return []byte(`{"$numberInt":"` + strconv.FormatInt(int64(n), 10) + `"}`), nil
}

// UnmarshalJSON accepts any integral number form that fits 32 bits.
func (n *Int32) UnmarshalJSON(b []byte) error {
	v, err := parseInt(b, 32)
	if err != nil {
		return err
	}
	*n = Int32(v)
	return nil
}

// Double is a BSON double. It marshals as {"$numberDouble":"<x>"}
// (Infinity, -Infinity and NaN included) and unmarshals from any
// Extended JSON number form.
type Double float64

// MarshalJSON encodes x canonically.
func (x Double) MarshalJSON() ([]byte, error) {
	var s string
	f := float64(x)
	switch {
	case math.IsInf(f, 1):
		s = "Infinity"
	case math.IsInf(f, -1):
		s = "-Infinity"
	case math.IsNaN(f):
		s = "NaN"
	default:
		s = strconv.FormatFloat(f, 'g', -1, 64)
		if !bytes.ContainsAny([]byte(s), ".eE") {
			s += ".0"
		}
	}
	return []byte(`{"$numberDouble":"` + s + `"}`), nil
}

// UnmarshalJSON accepts any number form.
func (x *Double) UnmarshalJSON(b []byte) error {
	s, err := numberText(b)
	if err != nil {
		return err
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("mongo: Double from %s: %w", b, err)
	}
	*x = Double(f)
	return nil
}

// numberText returns the digits of a plain JSON number or of a
// {"$numberInt"|"$numberLong"|"$numberDouble"|"$numberDecimal": "..."}.
func numberText(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] != '{' {
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return "", fmt.Errorf("mongo: number from %s: %w", b, err)
		}
		return n.String(), nil
	}
	var w map[string]string
	if err := json.Unmarshal(b, &w); err != nil || len(w) != 1 {
		return "", fmt.Errorf("mongo: number from %s: want a JSON number or {\"$numberLong\":\"...\"}", b)
	}
	for _, k := range []string{"$numberLong", "$numberInt", "$numberDouble", "$numberDecimal"} {
		if s, ok := w[k]; ok {
			return s, nil
		}
	}
	return "", fmt.Errorf("mongo: number from %s: unknown wrapper", b)
}

func parseInt(b []byte, bits int) (int64, error) {
	s, err := numberText(b)
	if err != nil {
		return 0, err
	}
	if v, err := strconv.ParseInt(s, 10, bits); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("mongo: %s is not an integer", s)
	}
	lim := math.Ldexp(1, bits-1)
	if f < -lim || f >= lim {
		return 0, fmt.Errorf("mongo: %s overflows int%d", s, bits)
	}
	return int64(f), nil
}
