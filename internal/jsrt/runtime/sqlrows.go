package main

import (
	"github.com/dop251/goja"
)

// sqlRows turns a sql.query result ({"columns", "types", "rows": [[...]]})
// into pg's query result, {command, rowCount, rows, fields}, with each
// row an object of the columns and each cell as pg gives it (int8 as a
// string, timestamps as Dates). Building it here rather than in the shim
// (JSON.parse into arrays, then rows.map and fields.map in the script's
// engine), and fields only when the script reads them, saves a lookup
// about a fifth of its allocations, and allocation is what costs most
// in the runtime compiled to wasm. ok is false for a result of another
// shape.
func (s *script) sqlRows(text, command string) (out goja.Value, ok bool) {
	p := jsonParser{vm: s.vm, s: text}
	var cols, types []string
	var cells [][]goja.Value
	haveRows := false
	ok = p.object(func(key string) bool {
		switch key {
		case "columns":
			cols, ok = p.strings()
		case "types":
			types, ok = p.strings()
		case "rows":
			cells, ok = p.rows()
			haveRows = true
		default:
			_, err := p.value(1)
			ok = err == nil
		}
		return ok
	})
	p.space()
	if !ok || p.i != len(p.s) || !haveRows {
		return nil, false
	}
	rows := make([]any, len(cells))
	for r, row := range cells {
		if len(row) > len(cols) {
			return nil, false
		}
		o := s.vm.NewObject()
		for i, col := range cols {
			v, typ := goja.Null(), ""
			if i < len(row) {
				v = row[i]
			}
			if i < len(types) {
				typ = types[i]
			}
			if err := o.DefineDataProperty(col, s.pgCell(v, typ), goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE); err != nil {
				return nil, false
			}
		}
		rows[r] = o
	}
	res := s.vm.NewObject()
	_ = res.Set("command", command)
	_ = res.Set("rowCount", len(rows))
	_ = res.Set("rows", s.vm.NewArray(rows...))
	_ = res.SetSymbol(s.pgColumns, &pgColumns{cols, types})
	_ = res.DefineAccessorProperty("fields", s.fieldsGet, s.fieldsSet, goja.FLAG_TRUE, goja.FLAG_TRUE)
	return res, true
}

// pgColumns are a result's columns, for its fields.
type pgColumns struct{ names, types []string }

// installFields makes the accessor of a pg result's fields, shared by
// every result: read, it becomes a plain array of {name, dataTypeName};
// written, a plain property of what was written.
func (s *script) installFields() {
	s.pgColumns = goja.NewSymbol("pgColumns")
	settle := func(this goja.Value, v goja.Value) {
		if o, ok := this.(*goja.Object); ok {
			_ = o.DefineDataProperty("fields", v, goja.FLAG_TRUE, goja.FLAG_TRUE, goja.FLAG_TRUE)
		}
	}
	s.fieldsGet = s.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		o, ok := c.This.(*goja.Object)
		if !ok {
			return goja.Undefined()
		}
		cols, _ := o.GetSymbol(s.pgColumns).Export().(*pgColumns)
		if cols == nil {
			return goja.Undefined()
		}
		fields := make([]any, len(cols.names))
		for i, name := range cols.names {
			f := s.vm.NewObject()
			_ = f.Set("name", name)
			typ := ""
			if i < len(cols.types) {
				typ = cols.types[i]
			}
			_ = f.Set("dataTypeName", typ)
			fields[i] = f
		}
		arr := s.vm.NewArray(fields...)
		settle(o, arr)
		return arr
	})
	s.fieldsSet = s.vm.ToValue(func(c goja.FunctionCall) goja.Value {
		settle(c.This, c.Argument(0))
		return goja.Undefined()
	})
}

// pgCell is a cell as pg gives it: 64-bit integers as strings,
// timestamps as Dates, the rest as JSON.parse makes them.
func (s *script) pgCell(v goja.Value, typ string) goja.Value {
	if goja.IsNull(v) || goja.IsUndefined(v) {
		return goja.Null()
	}
	switch typ {
	case "int8":
		return s.vm.ToValue(v.String())
	case "timestamptz", "timestamp":
		d, err := s.vm.New(s.date, v)
		if err != nil {
			return v
		}
		return d
	}
	return v
}

// strings reads a JSON array of strings.
func (p *jsonParser) strings() ([]string, bool) {
	out := []string{}
	ok := p.array(func() bool {
		v, err := p.str()
		out = append(out, v)
		return err == nil
	})
	return out, ok
}

// rows reads a JSON array of arrays of cells.
func (p *jsonParser) rows() ([][]goja.Value, bool) {
	var out [][]goja.Value
	ok := p.array(func() bool {
		var row []goja.Value
		ok := p.array(func() bool {
			v, err := p.value(2)
			row = append(row, v)
			return err == nil
		})
		out = append(out, row)
		return ok
	})
	return out, ok
}

// array reads a JSON array, calling elem to read each element.
func (p *jsonParser) array(elem func() bool) bool {
	return p.seq('[', ']', elem)
}

// object reads a JSON object, calling member with each key to read its
// value.
func (p *jsonParser) object(member func(key string) bool) bool {
	return p.seq('{', '}', func() bool {
		k, err := p.str()
		if err != nil {
			return false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return false
		}
		p.i++
		p.space()
		return member(k)
	})
}

// seq reads open, elements separated by commas, and close.
func (p *jsonParser) seq(open, close byte, elem func() bool) bool {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != open {
		return false
	}
	p.i++
	p.space()
	if p.i < len(p.s) && p.s[p.i] == close {
		p.i++
		return true
	}
	for {
		p.space()
		if !elem() {
			return false
		}
		p.space()
		if p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case close:
			p.i++
			return true
		default:
			return false
		}
	}
}

// truncate cuts s to n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
