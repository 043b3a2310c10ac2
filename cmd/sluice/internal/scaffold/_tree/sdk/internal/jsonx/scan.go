package jsonx

import (
	"encoding/json"
	"unicode/utf8"
	"unsafe"
)

// maxDepth bounds the nesting SkipValue follows; deeper documents take
// the caller's slow path.
const maxDepth = 512

// SkipWS returns the index of the first byte at or after i that is not
// JSON whitespace.
func SkipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// String scans the JSON string starting at b[i] (a '"'). It returns the
// index just past its closing quote and whether it holds a backslash
// escape or a byte outside printable ASCII; ok is false when it is not
// a valid JSON string.
func String(b []byte, i int) (end int, plain bool, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return 0, false, false
	}
	plain = true
	p := unsafe.Pointer(unsafe.SliceData(b))
	for i++; i < len(b); i++ {
		for i+8 <= len(b) && special(load(at(p, i))) == 0 {
			i += 8
		}
		if i >= len(b) {
			break
		}
		c := b[i]
		switch {
		case c == '"':
			return i + 1, plain, true
		case c < 0x20:
			return 0, false, false
		case c == '\\':
			plain = false
			i++
			if i >= len(b) {
				return 0, false, false
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if i+4 >= len(b) {
					return 0, false, false
				}
				for _, h := range b[i+1 : i+5] {
					if !isHex(h) {
						return 0, false, false
					}
				}
				i += 4
			default:
				return 0, false, false
			}
		case c >= utf8.RuneSelf:
			plain = false
		}
	}
	return 0, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Unquote returns the text of the JSON string s (quotes included), as
// encoding/json decodes it.
func Unquote(s []byte, plain bool) string {
	if plain || (!hasByte(s, '\\') && utf8.Valid(s)) {
		return string(s[1 : len(s)-1])
	}
	var v string
	_ = json.Unmarshal(s, &v) // s was scanned by String: it is valid
	return v
}

func hasByte(s []byte, c byte) bool {
	for _, x := range s {
		if x == c {
			return true
		}
	}
	return false
}

// Number scans the JSON number starting at b[i] and returns the index
// just past it.
func Number(b []byte, i int) (end int, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i >= len(b):
		return 0, false
	case b[i] == '0':
		i++
	case '1' <= b[i] && b[i] <= '9':
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
	default:
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return 0, false
		}
	}
	return i, true
}

// Value scans the JSON value starting at b[i] (no leading whitespace)
// and returns the index just past it.
func Value(b []byte, i int) (end int, ok bool) {
	// Scalars, most values, without the recursive scanner's frame.
	if i < len(b) {
		switch b[i] {
		case '"':
			end, _, ok := String(b, i)
			return end, ok
		case '{', '[':
			return value(b, i, 0)
		case 't':
			return literal(b, i, "true")
		case 'f':
			return literal(b, i, "false")
		case 'n':
			return literal(b, i, "null")
		}
	}
	return Number(b, i)
}

func value(b []byte, i, depth int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		end, _, ok := String(b, i)
		return end, ok
	case c == '{':
		if depth >= maxDepth {
			return 0, false
		}
		i = SkipWS(b, i+1)
		if i < len(b) && b[i] == '}' {
			return i + 1, true
		}
		for {
			end, _, ok := String(b, i)
			if !ok {
				return 0, false
			}
			i = SkipWS(b, end)
			if i >= len(b) || b[i] != ':' {
				return 0, false
			}
			if i, ok = value(b, SkipWS(b, i+1), depth+1); !ok {
				return 0, false
			}
			i = SkipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == '}' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = SkipWS(b, i+1)
		}
	case c == '[':
		if depth >= maxDepth {
			return 0, false
		}
		i = SkipWS(b, i+1)
		if i < len(b) && b[i] == ']' {
			return i + 1, true
		}
		for {
			var ok bool
			if i, ok = value(b, i, depth+1); !ok {
				return 0, false
			}
			i = SkipWS(b, i)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == ']' {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = SkipWS(b, i+1)
		}
	case c == 't':
		return literal(b, i, "true")
	case c == 'f':
		return literal(b, i, "false")
	case c == 'n':
		return literal(b, i, "null")
	default:
		return Number(b, i)
	}
}

func literal(b []byte, i int, lit string) (int, bool) {
	if len(b)-i < len(lit) || string(b[i:i+len(lit)]) != lit {
		return 0, false
	}
	return i + len(lit), true
}

// IsNull reports whether the value span v is the literal null.
func IsNull(v []byte) bool { return string(v) == "null" }

// Object walks the JSON object starting at b[i] (no leading whitespace).
// For each member it calls field with the member's key (a plain key,
// without its quotes) and the index of its value; field returns the
// index just past the value, or ok false to stop. A key with escapes or
// non-ASCII bytes stops the walk. Object returns the index just past the
// object.
func Object(b []byte, i int, field func(key []byte, at int) (end int, ok bool)) (int, bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, false
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, true
	}
	for {
		end, plain, ok := String(b, i)
		if !ok || !plain {
			return 0, false
		}
		key := b[i+1 : end-1]
		i = SkipWS(b, end)
		if i >= len(b) || b[i] != ':' {
			return 0, false
		}
		if i, ok = field(key, SkipWS(b, i+1)); !ok {
			return 0, false
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == '}' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i = SkipWS(b, i+1)
	}
}

// Array walks the JSON array starting at b[i] (no leading whitespace),
// calling elem with the index of each element; elem returns the index
// just past it.
func Array(b []byte, i int, elem func(at int) (end int, ok bool)) (int, bool) {
	if i >= len(b) || b[i] != '[' {
		return 0, false
	}
	i = SkipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var ok bool
		if i, ok = elem(i); !ok {
			return 0, false
		}
		i = SkipWS(b, i)
		if i >= len(b) {
			return 0, false
		}
		if b[i] == ']' {
			return i + 1, true
		}
		if b[i] != ',' {
			return 0, false
		}
		i = SkipWS(b, i+1)
	}
}

// End reports whether only whitespace follows b[i:].
func End(b []byte, i int) bool { return SkipWS(b, i) == len(b) }

// FoldEqual reports whether the ASCII key equals name ignoring case, as
// encoding/json matches a key to a field whose name differs by case
// (for the ASCII names the SDK uses; a non-ASCII key never reaches it).
func FoldEqual(key []byte, name string) bool {
	if len(key) != len(name) {
		return false
	}
	for i := range len(key) {
		a, b := key[i], name[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
