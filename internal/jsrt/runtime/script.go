package main

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/dop251/goja"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

//go:embed shims/*.js
var shimFS embed.FS

// maxCallStack bounds the script's JavaScript call depth: deeper
// recursion throws a RangeError instead of growing the goja stack until
// the instance's memory cap.
const maxCallStack = 4096

// script is one compiled and started tenant script with its JavaScript
// runtime: made once per instance, so each call costs a function call,
// not a parse.
type script struct {
	vm        *goja.Runtime
	dialect   string                   // dialectSeed or dialectAuth0
	fns       map[string]goja.Callable // by the script's own names
	parse     goja.Callable            // JSON.parse
	stringify goja.Callable            // JSON.stringify
	date      *goja.Object             // Date, as the script found it
	timers    timers

	// A pg result's columns and the accessor of its fields.
	pgColumns            *goja.Symbol
	fieldsGet, fieldsSet goja.Value
}

// newScript compiles src, installs the globals and shims and runs the
// script's top level.
func newScript(src string) (*script, error) {
	insp := inspect(src)
	if insp.SyntaxError != nil {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: insp.SyntaxError.String()}
	}
	prg, err := goja.Compile("script.js", src, false)
	if err != nil {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: err.Error()}
	}
	vm := goja.New()
	vm.SetMaxCallStackSize(maxCallStack)
	s := &script{vm: vm, dialect: insp.Dialect, fns: map[string]goja.Callable{}}
	json := vm.Get("JSON").ToObject(vm)
	s.parse, _ = goja.AssertFunction(json.Get("parse"))
	s.stringify, _ = goja.AssertFunction(json.Get("stringify"))
	s.date = vm.Get("Date").ToObject(vm)
	s.installFields()
	if err := s.install(); err != nil {
		return nil, err
	}
	if _, err := vm.RunProgram(prg); err != nil {
		return nil, s.jsError(err, "the script's top level")
	}
	if err := s.settleTimers(nil, nil); err != nil {
		return nil, err
	}
	for _, name := range scriptNames(s.dialect) {
		if fn, ok := goja.AssertFunction(vm.Get(name)); ok {
			s.fns[name] = fn
		}
	}
	return s, nil
}

// install sets the globals every script sees: env (or configuration),
// console, require, timers and the host bridge the shims use.
func (s *script) install() error {
	vm := s.vm
	env := vm.NewObject()
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SLUICE_JS_") {
			continue
		}
		_ = env.Set(k, v)
	}
	_ = vm.Set("env", env)
	_ = vm.Set("configuration", env)
	bridge := vm.NewObject()
	// The bridge functions a call uses take goja.FunctionCall: goja
	// calls those directly, without converting arguments by reflection.
	_ = bridge.Set("call", func(c goja.FunctionCall) goja.Value {
		return s.fromJSON(s.hostCall(c.Argument(0).String(), c.Argument(1).String()))
	})
	_ = bridge.Set("sql", func(c goja.FunctionCall) goja.Value {
		return s.fromJSON(s.sqlCall(c.Argument(0).String(), c.Argument(1).String()))
	})
	// sqlRows is sql for pg's queries (op, request, command): the answer
	// is pg's result.
	_ = bridge.Set("sqlRows", func(c goja.FunctionCall) goja.Value {
		out := s.sqlCall(c.Argument(0).String(), c.Argument(1).String())
		v, ok := s.sqlRows(out, c.Argument(2).String())
		if !ok {
			panic(s.vm.NewTypeError("the host's sql.query answer is not a result: " + truncate(out, 200)))
		}
		return v
	})
	_ = bridge.Set("log", func(c goja.FunctionCall) goja.Value {
		logLine(int(c.Argument(0).ToInteger()), c.Argument(1).String())
		return goja.Undefined()
	})
	_ = bridge.Set("setTimeout", s.setTimeout)
	_ = bridge.Set("clearTimeout", func(id int) { s.timers.cancel(id) })
	_ = bridge.Set("randomBytes", randomBytes)
	_ = bridge.Set("digest", digest)
	_ = bridge.Set("hmac", hmacDigest)
	_ = bridge.Set("pbkdf2", pbkdf2Digest)
	_ = bridge.Set("bytesFrom", bytesFrom)
	_ = bridge.Set("bytesTo", bytesTo)
	_ = bridge.Set("timingSafeEqual", timingSafeEqual)
	_ = vm.Set("__sluice", bridge)
	names, _ := shimFS.ReadDir("shims")
	files := make([]string, 0, len(names))
	for _, n := range names {
		files = append(files, n.Name())
	}
	sort.Strings(files) // 00-prelude.js first
	for _, f := range files {
		src, _ := shimFS.ReadFile("shims/" + f)
		if _, err := vm.RunScript("sluice:"+f, string(src)); err != nil {
			return &sluice.Error{Code: sluice.CodeConnectorError, Message: "the runtime's shim " + f + " failed: " + err.Error()}
		}
	}
	_ = vm.GlobalObject().Delete("__sluice")
	_ = vm.GlobalObject().Delete("__sluiceDefine")
	_ = vm.GlobalObject().Delete("__sluiceDone")
	return nil
}

// toJS turns a handler's argument into a JavaScript value: JSON bytes
// are parsed into plain objects, a call context becomes the seed's
// context object.
func (s *script) toJS(a any) goja.Value {
	switch v := a.(type) {
	case []byte:
		out, err := s.jsonValue(string(v))
		if err != nil {
			return goja.Undefined()
		}
		return out
	case sluice.CallContext:
		return s.toJS(marshal(v))
	}
	return s.vm.ToValue(a)
}

// fromJSON is JSON.parse(text) for the host's answers, which the shims
// receive as values: the host's JSON is valid, so JSON.parse's own
// SyntaxError is only a fallback.
func (s *script) fromJSON(text string) goja.Value {
	if v, err := s.jsonValue(text); err == nil {
		return v
	}
	v, err := s.parse(goja.Undefined(), s.vm.ToValue(text))
	if err != nil {
		var ex *goja.Exception
		if errors.As(err, &ex) {
			panic(ex.Value())
		}
		panic(s.vm.NewGoError(err))
	}
	return v
}

// call runs the script's function for Sluice function fn and waits for
// its result: the value it returns, the promise it returns settling, or
// (Auth0) its callback being called.
func (s *script) call(fn string, ctx sluice.CallContext, args ...any) (goja.Value, error) {
	name, jsArgs, ok := s.args(fn, ctx, args)
	if !ok {
		return nil, notImplemented(fn)
	}
	f := s.fns[name]
	if f == nil {
		return nil, notImplemented(fn)
	}
	vals := make([]goja.Value, 0, len(jsArgs)+1)
	for _, a := range jsArgs {
		vals = append(vals, s.toJS(a))
	}
	var cb *callback
	if s.dialect == dialectAuth0 {
		cb = &callback{}
		vals = append(vals, s.vm.ToValue(cb.fn))
	}
	ret, err := f(goja.Undefined(), vals...)
	if err != nil {
		return nil, s.jsError(err, name)
	}
	p, _ := ret.Export().(*goja.Promise)
	if err := s.settleTimers(p, cb); err != nil {
		return nil, err
	}
	if cb != nil && cb.called {
		if cb.err != nil && !goja.IsUndefined(cb.err) && !goja.IsNull(cb.err) {
			return nil, s.errorOf(cb.err, name)
		}
		return cb.result, nil
	}
	if p != nil {
		switch p.State() {
		case goja.PromiseStateRejected:
			return nil, s.errorOf(p.Result(), name)
		case goja.PromiseStateFulfilled:
			if cb != nil && goja.IsUndefined(p.Result()) {
				break // an async Auth0 script that never called back
			}
			return p.Result(), nil
		}
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: name + " returned a promise that never settled"}
	}
	if cb != nil {
		return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: name + " returned without calling its callback"}
	}
	return ret, nil
}

// callback is the callback an Auth0 script is handed.
type callback struct {
	called      bool
	err, result goja.Value
}

func (c *callback) fn(call goja.FunctionCall) goja.Value {
	if !c.called {
		c.called = true
		c.err, c.result = call.Argument(0), call.Argument(1)
	}
	return goja.Undefined()
}

// settleTimers runs pending timers in order until p settles or cb is
// called (either may be nil), or none are left. Promise jobs run after
// every call into the runtime.
func (s *script) settleTimers(p *goja.Promise, cb *callback) error {
	for {
		if cb != nil && cb.called {
			return nil
		}
		if p != nil && p.State() != goja.PromiseStatePending && cb == nil {
			return nil
		}
		t, ok := s.timers.next()
		if !ok {
			return nil
		}
		if d := time.Until(t.due); d > 0 {
			time.Sleep(d) // the host ends the call at its deadline
		}
		if _, err := t.fn(goja.Undefined(), t.args...); err != nil {
			return s.jsError(err, "a timer")
		}
	}
}

// export turns a script's result into Go JSON.
func (s *script) export(v goja.Value) ([]byte, error) {
	if v == nil || goja.IsUndefined(v) || goja.IsNull(v) {
		return []byte("null"), nil
	}
	out, err := s.stringify(goja.Undefined(), v)
	if err != nil {
		return nil, s.jsError(err, "JSON.stringify of the result")
	}
	if goja.IsUndefined(out) {
		return []byte("null"), nil
	}
	return []byte(out.String()), nil
}

func (s *script) userCall(fn string, ctx sluice.CallContext, args ...any) (*sluice.User, error) {
	v, err := s.call(fn, ctx, args...)
	if err != nil {
		return nil, err
	}
	b, err := s.export(v)
	if err != nil {
		return nil, err
	}
	return decodeUser(fn, b)
}

func (s *script) getUser(in sluice.GetUserInput) (*sluice.User, error) {
	if s.dialect == dialectAuth0 && in.Query.Email == "" {
		// Auth0's getByEmail finds users by email only.
		return nil, nil
	}
	return s.userCall("getUser", in.Context, marshal(in.Query))
}

// createUser runs the script's createUser; one that answers nothing (the
// seed documents `return null` on success) is followed by getUser for
// the new user, so the caller still learns its id.
func (s *script) createUser(in sluice.CreateUserInput) (*sluice.User, error) {
	u, err := s.userCall("createUser", in.Context, marshal(in.User))
	if err != nil || u != nil {
		return u, err
	}
	q := sluice.UserQuery{Email: in.User.Email, Username: in.User.Username, Phone: in.User.Phone}
	if _, ok := s.fns[scriptName(s.dialect, "getUser")]; ok && (q.Email != "" || q.Username != "" || q.Phone != "") {
		u, err = s.getUser(sluice.GetUserInput{Query: q, Context: in.Context})
		if err != nil || u != nil {
			return u, err
		}
	}
	return nil, &sluice.Error{Code: sluice.CodeConnectorError, Message: "createUser returned no user, and getUser did not find it"}
}

func (s *script) listCall(fn string, ctx sluice.CallContext, args ...any) (*sluice.UserList, error) {
	v, err := s.call(fn, ctx, args...)
	if err != nil {
		return nil, err
	}
	b, err := s.export(v)
	if err != nil {
		return nil, err
	}
	return decodeList(fn, b)
}

func (s *script) boolCall(fn string, ctx sluice.CallContext, args ...any) (bool, error) {
	v, err := s.call(fn, ctx, args...)
	if err != nil {
		return false, err
	}
	if v == nil {
		return false, nil
	}
	return v.ToBoolean(), nil
}

func notImplemented(fn string) error {
	return &sluice.Error{Code: sluice.CodeNotImplemented, Message: fmt.Sprintf("Please implement the %s script for this database connection", strings.ToUpper(fn[:1])+fn[1:])}
}

// decodeJSON decodes b keeping numbers exact.
func decodeJSON(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.UseNumber()
	return d.Decode(v)
}
