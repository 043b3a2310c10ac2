package sqlhost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// arg is one decoded bound parameter: nil, bool, int64, uint64, float64,
// string, []byte or time.Time. Objects and arrays (other than the typed
// wrappers) are passed as their JSON text, a string.
type arg = any

// decodeArg maps one JSON argument to a driver value (ABI.md, "SQL host
// calls"):
//
//	null                    NULL
//	true / false            boolean
//	integer number          int64 (uint64 above 2^63-1), exact
//	other number            float64
//	"text"                  text (the database converts it to the
//	                        parameter's type: numeric, uuid, timestamptz, ...)
//	{"$bytes":"<base64>"}   bytes
//	{"$time":"<RFC 3339>"}  timestamp
//	other object or array   its JSON text (for json/jsonb parameters)
func decodeArg(raw json.RawMessage) (arg, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errors.New("missing value")
	}
	switch raw[0] {
	case 'n':
		return nil, nil
	case 't', 'f':
		var b bool
		err := json.Unmarshal(raw, &b)
		return b, err
	case '"':
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	case '{':
		var w map[string]json.RawMessage
		if err := json.Unmarshal(raw, &w); err != nil {
			return nil, err
		}
		if len(w) == 1 {
			if v, ok := w["$bytes"]; ok {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, fmt.Errorf("$bytes: want a base64 string: %w", err)
				}
				b, err := base64.StdEncoding.DecodeString(s)
				if err != nil {
					return nil, fmt.Errorf("$bytes: %w", err)
				}
				return b, nil
			}
			if v, ok := w["$time"]; ok {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, fmt.Errorf("$time: want an RFC 3339 string: %w", err)
				}
				t, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					return nil, fmt.Errorf("$time: %w", err)
				}
				return t, nil
			}
		}
		return compactJSON(raw)
	case '[':
		return compactJSON(raw)
	}
	return decodeNumber(string(raw))
}

func compactJSON(raw []byte) (string, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func decodeNumber(s string) (arg, error) {
	if !json.Valid([]byte(s)) {
		return nil, fmt.Errorf("invalid JSON value %q", s)
	}
	isInt := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == 'e' || c == 'E' {
			isInt = false
			break
		}
	}
	if isInt {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n, nil
		}
		if n, err := strconv.ParseUint(s, 10, 64); err == nil {
			return n, nil
		}
		return nil, fmt.Errorf("integer %s is out of the 64-bit range (pass it as a string)", s)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil, fmt.Errorf("number %s: %w", s, err)
	}
	return f, nil
}

// Result cells.

// bytesCell is a bytes value, {"$bytes":"<base64>"} in JSON.
type bytesCell []byte

func (b bytesCell) MarshalJSON() ([]byte, error) {
	out := make([]byte, 0, base64.StdEncoding.EncodedLen(len(b))+13)
	out = append(out, `{"$bytes":"`...)
	out = base64.StdEncoding.AppendEncode(out, b)
	return append(out, `"}`...), nil
}

// floatCell maps a float to a JSON number, or to the strings "NaN",
// "Infinity" and "-Infinity", which JSON numbers cannot express. bits is
// 32 for a float4/FLOAT, so that 0.1 stays 0.1.
func floatCell(f float64, bits int) any {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, bits))
}

// textCell returns b as text when it is valid UTF-8, else as bytes.
func textCell(b []byte) any {
	if utf8.Valid(b) {
		return string(b)
	}
	return bytesCell(bytes.Clone(b))
}

func timeCell(t time.Time, dateOnly bool) string {
	if dateOnly {
		return t.Format(time.DateOnly)
	}
	return t.Format(time.RFC3339Nano)
}

// rawJSON is a JSON document kept as its text.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }
