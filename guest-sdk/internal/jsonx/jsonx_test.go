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
			if got := AppendString([]byte("x"), tt.s, true); !bytes.Equal(got[1:], want) {
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

func TestDecodeObjectMatchesUnmarshal(t *testing.T) {
	docs := []string{
		`{}`, ` {"plan":"pro","logins":7} `, `{"a":{"b":[1,2.5,-0,1e300,"x",true,false,null,{}]},"c":[]}`,
		`{"s":"esc\"aped\u00e9","u":"héllo","dup":1,"dup":2}`, `{"n":12345678901234567890}`,
	}
	for _, doc := range docs {
		got, ok := DecodeObject([]byte(doc))
		if !ok {
			t.Errorf("DecodeObject(%s) not taken", doc)
			continue
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(doc), &want); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Errorf("DecodeObject(%s) = %s, json.Unmarshal %s", doc, g, w)
		}
	}
	// Left to encoding/json: not an object, escaped or non-ASCII keys,
	// numbers out of range, invalid JSON, trailing data.
	for _, doc := range []string{`[]`, `"x"`, `null`, `{"k\u00e9":1}`, `{"clé":1}`, `{"n":1e400}`, `{"a":}`, `{} x`, `{"a":1`,
		`{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`} {
		if _, ok := DecodeObject([]byte(doc)); ok {
			t.Errorf("DecodeObject(%s) taken", doc)
		}
	}
}

func TestAppendAnyMatchesEncoder(t *testing.T) {
	values := []any{
		nil, true, "a<b>&\u2028", 0.0, -0.0, 1.0, 7.0, 0.1, 1e20, 1e21, 123456789e30, 1e-6, 1e-7, -2.5e-9, 3, int64(-9007199254740993), int32(5),
		map[string]any{}, map[string]any{"z": 1.0, "a": "x", "m": map[string]any{"<": []any{}}, "l": []any{nil, false, 2.5}},
		[]any{}, map[string]any(nil), []any(nil),
	}
	for _, v := range values {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(v); err != nil {
			t.Fatal(err)
		}
		want := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
		got, ok := AppendAny(nil, v)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("AppendAny(%#v) = %s, %v; want %s", v, got, ok, want)
		}
	}
}

// TestWordScanEveryPosition puts each byte the word-at-a-time scans
// must stop at at every offset of strings longer than a word.
func TestWordScanEveryPosition(t *testing.T) {
	for _, special := range []string{`"`, `\`, "\x01", "\x1f", "<", ">", "&", "é", "\xff", "\u2028"} {
		for n := 0; n < 20; n++ {
			for at := 0; at <= n; at++ {
				s := strings.Repeat("a", at) + special + strings.Repeat("b", n-at)
				want, _ := json.Marshal(s)
				if got := AppendString(nil, s, true); !bytes.Equal(got, want) {
					t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
				}
				end, plain, ok := String(want, 0)
				if !ok || end != len(want) || plain != (bytes.IndexByte(want, '\\') < 0 && !strings.ContainsFunc(string(want), func(r rune) bool { return r >= 0x80 })) {
					t.Fatalf("String(%s) = %d, %v, %v", want, end, plain, ok)
				}
				if special == `"` || special == `\` {
					continue // unescaped, they end the string or start an escape
				}
				raw := []byte(`"` + s + `"`) // unescaped: invalid when it holds a control byte
				_, _, ok = String(raw, 0)
				var v string
				valid := json.Unmarshal(raw, &v) == nil
				if ok != valid {
					t.Fatalf("String(%q) ok %v, encoding/json valid %v", raw, ok, valid)
				}
			}
		}
	}
}
