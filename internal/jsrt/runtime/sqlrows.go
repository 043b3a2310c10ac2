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
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return nil, false
	}
	p.i++
	for first := true; ; first = false {
		p.space()
		if p.i < len(p.s) && p.s[p.i] == '}' && first {
			p.i++
			break
		}
		k, err := p.str()
		if err != nil {
			return nil, false
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return nil, false
		}
		p.i++
		switch k {
		case "columns":
			if cols, ok = p.strings(); !ok {
				return nil, false
			}
		case "types":
			if types, ok = p.strings(); !ok {
				return nil, false
			}
		case "rows":
			if cells, ok = p.rows(); !ok {
				return nil, false
			}
			haveRows = true
		default:
			if _, err := p.value(1); err != nil {
				return nil, false
			}
		}
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] != '}' {
			return nil, false
		}
		p.i++
		break
	}
	p.space()
	if p.i != len(p.s) || !haveRows {
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
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, false
	}
	p.i++
	out := []string{}
	for first := true; ; first = false {
		p.space()
		if first && p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return out, true
		}
		v, err := p.str()
		if err != nil {
			return nil, false
		}
		out = append(out, v)
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
		}
	}
}

// rows reads a JSON array of arrays of cells.
func (p *jsonParser) rows() ([][]goja.Value, bool) {
	p.space()
	if p.i >= len(p.s) || p.s[p.i] != '[' {
		return nil, false
	}
	p.i++
	var out [][]goja.Value
	for first := true; ; first = false {
		p.space()
		if first && p.i < len(p.s) && p.s[p.i] == ']' {
			p.i++
			return out, true
		}
		if p.i >= len(p.s) || p.s[p.i] != '[' {
			return nil, false
		}
		p.i++
		var row []goja.Value
		for cfirst := true; ; cfirst = false {
			p.space()
			if cfirst && p.i < len(p.s) && p.s[p.i] == ']' {
				p.i++
				break
			}
			v, err := p.value(2)
			if err != nil {
				return nil, false
			}
			row = append(row, v)
			p.space()
			if p.i >= len(p.s) {
				return nil, false
			}
			if p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.s[p.i] != ']' {
				return nil, false
			}
			p.i++
			break
		}
		out = append(out, row)
		p.space()
		if p.i >= len(p.s) {
			return nil, false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return out, true
		default:
			return nil, false
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
