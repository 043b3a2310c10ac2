package jsonx

import (
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// AppendString appends s to b as a JSON string, escaped as encoding/json
// escapes it: quotes, backslashes, control characters, <, >, &, U+2028
// and U+2029; invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += n
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += n
			start = i
			continue
		}
		i += n
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// HasKey reports whether the JSON object obj has the top-level key key.
// obj must be a valid JSON object (as encoding/json checked it); keys are
// compared after unescaping, exactly (encoding/json matches a map key
// so).
func HasKey(obj []byte, key string) bool {
	depth := 0
	expectKey := false
	for i := 0; i < len(obj); i++ {
		switch c := obj[i]; c {
		case '{':
			depth++
			expectKey = depth == 1
		case '[':
			depth++
		case '}', ']':
			depth--
		case ',':
			expectKey = depth == 1
		case '"':
			end, escaped := stringEnd(obj, i)
			if expectKey {
				k := obj[i+1 : end]
				if escaped {
					var s string
					if json.Unmarshal(obj[i:end+1], &s) == nil && s == key {
						return true
					}
				} else if string(k) == key {
					return true
				}
				expectKey = false
			}
			i = end
		}
	}
	return false
}

// stringEnd returns the index of the quote closing the string that
// starts at obj[i], and whether the string holds escapes.
func stringEnd(obj []byte, i int) (int, bool) {
	escaped := false
	for j := i + 1; j < len(obj); j++ {
		switch obj[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j, escaped
		}
	}
	return len(obj) - 1, escaped
}

// Extend appends to dst the JSON object obj without its closing brace,
// followed by a comma when obj has a field: dst then takes one more
// `"key":value` and the closing brace. obj must be a valid JSON object
// without surrounding space.
func Extend(dst, obj []byte) []byte {
	body := obj[:len(obj)-1]
	dst = append(dst, body...)
	if !emptyObject(body) {
		dst = append(dst, ',')
	}
	return dst
}

// emptyObject reports whether body, an object without its closing
// brace, has no field.
func emptyObject(body []byte) bool {
	for _, c := range body[1:] {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// AppendFloat appends f as encoding/json writes a float64 (ES6 number
// formatting). f must be finite.
func AppendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 is written e-9.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
