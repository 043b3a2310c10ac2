package jsonx

import (
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// DecodeObject decodes the JSON object b (surrounding whitespace
// allowed) as json.Unmarshal decodes it into a map[string]any: numbers
// as float64, objects as map[string]any, arrays as []any. Plain strings
// and keys share b's memory, which the caller must never change. ok is
// false for anything the fast path does not take (a key with escapes or
// non-ASCII bytes, a number out of float64's range, deep nesting,
// invalid JSON): json.Unmarshal then decides, errors included.
func DecodeObject(b []byte) (map[string]any, bool) {
	i := SkipWS(b, 0)
	v, end, ok := decodeAny(b, i, 0)
	m, isMap := v.(map[string]any)
	if !ok || !isMap || !End(b, end) {
		return nil, false
	}
	return m, true
}

func decodeAny(b []byte, i, depth int) (any, int, bool) {
	if i >= len(b) || depth >= maxDepth {
		return nil, 0, false
	}
	switch c := b[i]; {
	case c == '"':
		s, end, ok := str(b, i)
		return s, end, ok
	case c == '{':
		m := map[string]any{}
		end, ok := Object(b, i, func(key []byte, at int) (int, bool) {
			v, end, ok := decodeAny(b, at, depth+1)
			if ok {
				m[share(key)] = v
			}
			return end, ok
		})
		return m, end, ok
	case c == '[':
		list := []any{}
		end, ok := Array(b, i, func(at int) (int, bool) {
			v, end, ok := decodeAny(b, at, depth+1)
			if ok {
				list = append(list, v)
			}
			return end, ok
		})
		return list, end, ok
	case c == 't':
		end, ok := literal(b, i, "true")
		return true, end, ok
	case c == 'f':
		end, ok := literal(b, i, "false")
		return false, end, ok
	case c == 'n':
		end, ok := literal(b, i, "null")
		return nil, end, ok
	}
	end, ok := Number(b, i)
	if !ok {
		return nil, 0, false
	}
	f, err := strconv.ParseFloat(unsafe.String(&b[i], end-i), 64)
	if err != nil {
		return nil, 0, false
	}
	return f, end, true
}

// str decodes the string at b[i]; a plain one shares b's memory.
func str(b []byte, i int) (string, int, bool) {
	end, plain, ok := String(b, i)
	if !ok {
		return "", 0, false
	}
	if plain {
		return share(b[i+1 : end-1]), end, true
	}
	return Unquote(b[i:end], false), end, true
}

// share returns b's bytes as a string without copying them.
func share(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// AppendAny appends v as an Encoder with SetEscapeHTML(false) writes it,
// for the values JSON decoding makes (nil, bool, float64, string,
// map[string]any, []any) and Go's integers. ok is false for any other
// type, NaN or an infinity, or nesting past maxDepth: encoding/json then
// decides, errors included.
func AppendAny(dst []byte, v any) ([]byte, bool) {
	return appendAny(dst, v, 0)
}

func appendAny(dst []byte, v any, depth int) ([]byte, bool) {
	if depth >= maxDepth {
		return dst, false
	}
	switch v := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case bool:
		return strconv.AppendBool(dst, v), true
	case string:
		return AppendString(dst, v, false), true
	case float64:
		return appendFloat(dst, v)
	case int:
		return strconv.AppendInt(dst, int64(v), 10), true
	case int64:
		return strconv.AppendInt(dst, v, 10), true
	case int32:
		return strconv.AppendInt(dst, int64(v), 10), true
	case map[string]any:
		if v == nil {
			return append(dst, "null"...), true
		}
		var small [16]string
		keys := small[:0]
		for k := range v {
			keys = append(keys, k)
		}
		if len(keys) <= len(small) {
			// Insertion sort: a few keys, no calls.
			for i := 1; i < len(keys); i++ {
				for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
					keys[j], keys[j-1] = keys[j-1], keys[j]
				}
			}
		} else {
			slices.Sort(keys)
		}
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, k, false)
			dst = append(dst, ':')
			var ok bool
			if dst, ok = appendAny(dst, v[k], depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, '}'), true
	case []any:
		if v == nil {
			return append(dst, "null"...), true
		}
		dst = append(dst, '[')
		for i, e := range v {
			if i > 0 {
				dst = append(dst, ',')
			}
			var ok bool
			if dst, ok = appendAny(dst, e, depth+1); !ok {
				return dst, false
			}
		}
		return append(dst, ']'), true
	}
	return dst, false
}

// appendFloat writes f as encoding/json does for a float64.
func appendFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9, as encoding/json writes it.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}
