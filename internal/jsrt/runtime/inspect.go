package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// supportedModules are the modules require() knows (the shims in
// shims/); keep in step with their register calls.
var supportedModules = []string{"axios", "bcrypt", "bcryptjs", "crypto", "mongodb", "mysql", "mysql2", "mysql2/promise", "node-fetch", "pg"}

// inspection is what the host learns of a script at upload; it travels
// as the customData of the inspect call's answer.
type inspection struct {
	Dialect     string       `json:"dialect"`
	Functions   []string     `json:"functions"`   // connector functions served, contract order
	Defined     []string     `json:"defined"`     // the script's own top-level function names
	Requires    []string     `json:"requires"`    // modules required with a literal name
	Unsupported []string     `json:"unsupported"` // of those, the ones without a shim
	Supported   []string     `json:"supported"`
	SyntaxError *syntaxError `json:"syntaxError,omitempty"`
}

type syntaxError struct {
	Message string `json:"message"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
}

func (e *syntaxError) String() string {
	return fmt.Sprintf("SyntaxError at line %d, column %d: %s", e.Line, e.Column, e.Message)
}

var requireRE = regexp.MustCompile(`\brequire\s*\(\s*(?:'([^'\n]*)'|"([^"\n]*)"|` + "`([^`\\n$]*)`" + `)\s*\)`)

// inspect parses src (it runs none of it) and reports its dialect,
// functions and modules, or its first syntax error.
func inspect(src string) *inspection {
	insp := &inspection{Functions: []string{}, Defined: []string{}, Requires: []string{}, Unsupported: []string{}, Supported: supportedModules}
	prg, err := parser.ParseFile(nil, "script.js", src, 0)
	if err != nil {
		se := &syntaxError{Message: err.Error(), Line: 1, Column: 1}
		if list, ok := err.(parser.ErrorList); ok && len(list) > 0 {
			se = &syntaxError{Message: list[0].Message, Line: list[0].Position.Line, Column: list[0].Position.Column}
		}
		insp.SyntaxError = se
		return insp
	}
	fns := map[string]*ast.FunctionLiteral{}
	for _, st := range prg.Body {
		switch d := st.(type) {
		case *ast.FunctionDeclaration:
			if d.Function.Name != nil {
				fns[string(d.Function.Name.Name)] = d.Function
			}
		case *ast.VariableStatement:
			collect(fns, d.List)
		case *ast.LexicalDeclaration:
			collect(fns, d.List)
		}
	}
	insp.Dialect = dialectOf(fns)
	for _, fn := range sluiceFunctions {
		if n := scriptName(insp.Dialect, fn); n != "" && fns[n] != nil {
			insp.Functions = append(insp.Functions, fn)
		}
	}
	for n := range fns {
		insp.Defined = append(insp.Defined, n)
	}
	sort.Strings(insp.Defined)
	seen := map[string]bool{}
	for _, m := range requireRE.FindAllStringSubmatch(src, -1) {
		name := m[1] + m[2] + m[3]
		if seen[name] {
			continue
		}
		seen[name] = true
		insp.Requires = append(insp.Requires, name)
		if !supported(name) {
			insp.Unsupported = append(insp.Unsupported, name)
		}
	}
	return insp
}

// collect adds `var login = function ...` and arrow functions.
func collect(fns map[string]*ast.FunctionLiteral, list []*ast.Binding) {
	for _, b := range list {
		id, ok := b.Target.(*ast.Identifier)
		if !ok {
			continue
		}
		switch f := b.Initializer.(type) {
		case *ast.FunctionLiteral:
			fns[string(id.Name)] = f
		case *ast.ArrowFunctionLiteral:
			fns[string(id.Name)] = &ast.FunctionLiteral{ParameterList: f.ParameterList, Async: f.Async}
		}
	}
}

// dialectOf tells Auth0's scripts from the seed's: Auth0 names
// (getByEmail, create, verify, changePassword, remove), or a login that
// is not async and takes a callback last.
func dialectOf(fns map[string]*ast.FunctionLiteral) string {
	for _, n := range []string{"getByEmail", "create", "verify", "changePassword", "remove"} {
		if fns[n] != nil {
			return dialectAuth0
		}
	}
	if l := fns["login"]; l != nil && !l.Async && l.ParameterList != nil {
		if ps := l.ParameterList.List; len(ps) > 0 {
			if id, ok := ps[len(ps)-1].Target.(*ast.Identifier); ok {
				switch strings.ToLower(string(id.Name)) {
				case "callback", "cb", "done", "next":
					return dialectAuth0
				}
			}
		}
	}
	return dialectSeed
}

func supported(name string) bool {
	name = strings.TrimPrefix(name, "node:")
	if i := strings.LastIndexByte(name, '@'); i > 0 {
		name = name[:i] // Auth0's mongodb@5.1.0
	}
	for _, m := range supportedModules {
		if m == name {
			return true
		}
	}
	return false
}

// inspectUser answers the inspect call (SLUICE_JS_INSPECT set): the
// inspection as the customData of a user, the one shape of result login
// may carry.
func inspectUser(src string) *sluice.User {
	insp := inspect(src)
	b := marshal(insp)
	var m map[string]any
	_ = decodeJSON(b, &m)
	return &sluice.User{ID: "inspect", CustomData: m}
}
