package jsonx

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	tests := []struct{ name, s string }{
		{"plain", "alice@example.com"},
		{"empty", ""},
		{"quotes and backslash", `a"b\c`},
		{"html", "<a href='x'>&amp;</a>"},
		{"controls", "\x00\x01\b\f\n\r\t\x1f\x7f"},
		{"unicode", "héllo wörld ✓ 𝄞"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid utf-8", "a\xffb\xc3(c\xed\xa0\x80"},
		{"truncated rune at end", "ab\xe2\x82"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(tt.s)
			if err != nil {
				t.Fatal(err)
			}
			if got := AppendString(nil, tt.s, true); !bytes.Equal(got, want) {
				t.Errorf("escapeHTML: got %s, want %s", got, want)
			}
			if got := AppendString([]byte("x"), []byte(tt.s), true); !bytes.Equal(got[1:], want) {
				t.Errorf("[]byte: got %s, want %s", got[1:], want)
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(tt.s); err != nil {
				t.Fatal(err)
			}
			want = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
			if got := AppendString(nil, tt.s, false); !bytes.Equal(got, want) {
				t.Errorf("no escapeHTML: got %s, want %s", got, want)
			}
		})
	}
}

func TestValueAgreesWithValid(t *testing.T) {
	docs := []string{
		`null`, `true`, `false`, `0`, `-0`, `12.5e+3`, `1E9`, `-0.001`, `""`, `"a\"b\\c\/\b\f\n\r\t\u00e9"`,
		`"héllo"`, "\"\xff\"", `[]`, `{}`, `[1,[2,{"a":[3]}],"x",null]`, `{"a":1,"b":{"c":[true,false]}}`,
		` {"a" : 1 , "b" : [ 1 , 2 ] } `, `[1, 2]`,
		// invalid
		``, `nul`, `nulll`, `tru`, `01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`,
		`"\u12g4"`, `[1,]`, `[,1]`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{a:1}`, `{"a":1`, `[1`, `[1 2]`, `{"a":1 "b":2}`,
		`1 2`, `{"a":1}}`, `]`, `'a'`, `NaN`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600),
	}
	for _, doc := range docs {
		b := []byte(doc)
		i := SkipWS(b, 0)
		end, ok := Value(b, i)
		got := ok && End(b, end)
		want := json.Valid(b)
		if got && !want {
			t.Errorf("Value accepts %q, which encoding/json refuses", doc)
		}
		if want && !got && !strings.HasPrefix(doc, "[[[[") {
			t.Errorf("Value refuses %q, which encoding/json accepts", doc)
		}
	}
}

func TestUnquote(t *testing.T) {
	for _, s := range []string{`"plain"`, `""`, `"a\"b\\c\n\u00e9\ud834\udd1e"`, `"héllo"`, "\"a\xffb\"", `"\ud800"`} {
		end, plain, ok := String([]byte(s), 0)
		if !ok || end != len(s) {
			t.Fatalf("String(%q) = %d, %v", s, end, ok)
		}
		var want string
		if err := json.Unmarshal([]byte(s), &want); err != nil {
			t.Fatal(err)
		}
		if got := Unquote([]byte(s), plain); got != want {
			t.Errorf("Unquote(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestObjectAndArray(t *testing.T) {
	doc := []byte(` {"a": [1, "x", {"b": null}], "c": true} `)
	var keys []string
	var elems int
	end, ok := Object(doc, SkipWS(doc, 0), func(key []byte, at int) (int, bool) {
		keys = append(keys, string(key))
		if string(key) == "a" {
			return Array(doc, at, func(at int) (int, bool) {
				elems++
				return Value(doc, at)
			})
		}
		return Value(doc, at)
	})
	if !ok || !End(doc, end) || strings.Join(keys, ",") != "a,c" || elems != 3 {
		t.Fatalf("ok %v end %d keys %v elems %d", ok, end, keys, elems)
	}
	for _, bad := range []string{`{"\u0061":1}`, `{"é":1}`, `[1]`} {
		if _, ok := Object([]byte(bad), 0, func(key []byte, at int) (int, bool) { return Value([]byte(bad), at) }); ok {
			t.Errorf("Object accepted %s", bad)
		}
	}
}

func TestFoldEqual(t *testing.T) {
	tests := []struct {
		key, name string
		want      bool
	}{
		{"Result", "result", true}, {"RESULT", "result", true}, {"result", "result", true},
		{"resul", "result", false}, {"results", "result", false}, {"rasult", "result", false},
	}
	for _, tt := range tests {
		if got := FoldEqual([]byte(tt.key), tt.name); got != tt.want {
			t.Errorf("FoldEqual(%q, %q) = %v", tt.key, tt.name, got)
		}
	}
}

func TestAppendStringMapMatchesMarshal(t *testing.T) {
	maps := []map[string]string{
		nil, {}, {"hash": "$2a$10$x", "password": "p<&>w"},
		{"z": "1", "a": "2", "é": "3", "A": "4", "a\u2028": "\xff", "": ""},
	}
	for _, m := range maps {
		want, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if got := AppendStringMap(nil, m); !bytes.Equal(got, want) {
			t.Errorf("AppendStringMap(%q) = %s, want %s", m, got, want)
		}
	}
}
