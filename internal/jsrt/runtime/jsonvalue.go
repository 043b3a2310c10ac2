package main

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/dop251/goja"
)

// errJSON is JSON text the fast parser does not accept; the caller falls
// back to JSON.parse, whose SyntaxError the script then sees.
var errJSON = errors.New("invalid JSON")

// jsonValue turns JSON text into JavaScript values as JSON.parse does
// (own data properties in document order, "__proto__" an ordinary key,
// numbers as doubles), without goja's JSON.parse, which reads through
// encoding/json's Token API: an allocation per token, and allocation is
// what costs most in the runtime compiled to wasm (BENCHMARKS.md).
func (s *script) jsonValue(text string) (goja.Value, error) {
	p := jsonParser{vm: s.vm, s: text}
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.s) {
		return nil, errJSON
	}
	return v, nil
}

// maxJSONDepth bounds nesting, as the host's own decoders do.
const maxJSONDepth = 1000

type jsonParser struct {
	vm *goja.Runtime
	s  string
	i  int
}

func (p *jsonParser) space() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value(depth int) (goja.Value, error) {
	if depth > maxJSONDepth {
		return nil, errJSON
	}
	p.space()
	if p.i >= len(p.s) {
		return nil, errJSON
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		obj := p.vm.NewObject()
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' {
			p.i++
			return obj, nil
		}
		for {
			p.space()
			k, err := p.str()
			if err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, errJSON
			}
			p.i++
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := obj.DefineDataProperty(k, v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return nil, err
			}
			p.space()
			if p.i >= len(p.s) {
				return nil, errJSON
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == '}' {
				p.i++
				return obj, nil
			}
			return nil, errJSON
		}
	case c == '[':
		p.i++
		var items []any
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return p.vm.NewArray(), nil
		}
		for {
			v, err := p.value(depth + 1)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
			p.space()
			if p.i >= len(p.s) {
				return nil, errJSON
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] == ']' {
				p.i++
				return p.vm.NewArray(items...), nil
			}
			return nil, errJSON
		}
	case c == '"':
		k, err := p.str()
		if err != nil {
			return nil, err
		}
		return p.vm.ToValue(k), nil
	case c == 't':
		return p.lit("true", goja.Value(p.vm.ToValue(true)))
	case c == 'f':
		return p.lit("false", goja.Value(p.vm.ToValue(false)))
	case c == 'n':
		return p.lit("null", goja.Null())
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	return nil, errJSON
}

func (p *jsonParser) lit(word string, v goja.Value) (goja.Value, error) {
	if len(p.s)-p.i < len(word) || p.s[p.i:p.i+len(word)] != word {
		return nil, errJSON
	}
	p.i += len(word)
	return v, nil
}

// number reads a JSON number (its grammar checked strictly) as a double.
func (p *jsonParser) number() (goja.Value, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	digits := func() int {
		n := 0
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
			n++
		}
		return n
	}
	if p.i < len(p.s) && p.s[p.i] == '0' {
		p.i++
	} else if digits() == 0 {
		return nil, errJSON
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if digits() == 0 {
			return nil, errJSON
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if digits() == 0 {
			return nil, errJSON
		}
	}
	f, err := strconv.ParseFloat(p.s[start:p.i], 64)
	if err != nil {
		return nil, errJSON // out of range too, as goja's JSON.parse
	}
	return p.vm.ToValue(f), nil
}

// str reads a JSON string; one with escapes is decoded by encoding/json.
func (p *jsonParser) str() (string, error) {
	if p.i >= len(p.s) || p.s[p.i] != '"' {
		return "", errJSON
	}
	start := p.i
	p.i++
	escaped := false
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			if !escaped {
				return p.s[start+1 : p.i-1], nil
			}
			var out string
			if err := json.Unmarshal([]byte(p.s[start:p.i]), &out); err != nil {
				return "", errJSON
			}
			return out, nil
		case c == '\\':
			escaped = true
			p.i += 2
		case c < 0x20:
			return "", errJSON
		default:
			p.i++
		}
	}
	return "", errJSON
}
