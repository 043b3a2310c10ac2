//go:build unix

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"golang.org/x/crypto/bcrypt"

	"github.com/sluice-dev/sluice/engine"
	"github.com/sluice-dev/sluice/internal/wasmbuild"
)

// The guest path (issue 10): what the shipped examples/postgres template
// costs per call with the host taken out. The host answers canned, in the
// shape the real host (hostfuncs) gives for the template's statement, so
// what is left is the engine's fixed cost and the guest's own work:
// decoding the input, building the request, decoding the row, encoding
// the profile.

// shippedPGUser is the row of users (examples/postgres/schema.sql) the
// canned host answers with; a missing column is NULL.
var shippedPGUser = map[string]any{
	"id": int64(42), "email": "ada@example.com", "email_verified": true, "username": "ada",
	"phone": "+15550100", "phone_verified": false, "nickname": "Ada", "name": "Ada Lovelace",
	"given_name": "Ada", "family_name": "Lovelace", "photo": "https://example.com/ada.png",
	"birthdate": "1815-12-10", "company": "Analytical Engines Ltd", "blocked": false,
	"custom_data":   json.RawMessage(`{"plan":"pro","logins":7}`),
	"password_hash": "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
}

var shippedPGTypes = map[string]string{"id": "int8", "email_verified": "bool", "phone_verified": "bool",
	"blocked": "bool", "custom_data": "jsonb"} // the others are text

// shippedPGHost answers sql.query with shippedPGUser as PostgreSQL
// answers the template's SELECT (each select item a column or
// coalesce(column, 'literal'), named as PostgreSQL names it) and
// password.verify with valid: no database, no hash (with bcrypt set, it
// checks the password with bcrypt against that hash, in place of the
// row's, as the real host would against the row's). Answers are made
// once per request, so the host's share of a call stays small.
type shippedPGHost struct {
	bcrypt  []byte
	mu      sync.Mutex
	answers map[string]json.RawMessage
}

func (h *shippedPGHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	tr.Target = "canned"
	switch op {
	case "password.verify":
		if h.bcrypt != nil {
			var in struct{ Password string }
			if err := json.Unmarshal(req, &in); err != nil {
				return nil, err
			}
			if err := bcrypt.CompareHashAndPassword(h.bcrypt, []byte(in.Password)); err != nil {
				return json.RawMessage(`{"valid":false}`), nil
			}
		}
		return json.RawMessage(`{"valid":true}`), nil
	case "sql.query":
		h.mu.Lock()
		defer h.mu.Unlock()
		if a, ok := h.answers[string(req)]; ok {
			return a, nil
		}
		var in struct {
			SQL string `json:"sql"`
		}
		if err := json.Unmarshal(req, &in); err != nil {
			return nil, err
		}
		a, err := cannedSelect(in.SQL, shippedPGUser, shippedPGTypes)
		if err != nil {
			return nil, err
		}
		if h.answers == nil {
			h.answers = map[string]json.RawMessage{}
		}
		h.answers[string(req)] = a
		return a, nil
	}
	return nil, engine.Errorf(engine.CodeNotImplemented, "canned host: %s", op)
}

// cannedSelect answers "SELECT item, ... FROM ..." with the one row row.
func cannedSelect(query string, row map[string]any, types map[string]string) (json.RawMessage, error) {
	list, ok := strings.CutPrefix(strings.TrimSpace(query), "SELECT ")
	if i := strings.Index(list, " FROM "); ok && i >= 0 {
		list = list[:i]
	} else {
		return nil, fmt.Errorf("canned host: not a SELECT: %s", query)
	}
	var columns, typs []string
	var cells []any
	for _, item := range splitTop(list) {
		item = strings.TrimSpace(item)
		name, col, def := item, item, any(nil)
		if inner, ok := strings.CutPrefix(item, "coalesce("); ok {
			args := splitTop(strings.TrimSuffix(inner, ")"))
			name, col = "coalesce", strings.TrimSpace(args[0])
			lit := strings.Trim(strings.TrimSpace(args[1]), "'")
			def = lit
			if types[col] == "jsonb" {
				def = json.RawMessage(lit)
			}
		}
		v, ok := row[col]
		if !ok {
			v = def
		}
		typ := types[col]
		if typ == "" {
			typ = "text"
		}
		columns, typs, cells = append(columns, name), append(typs, typ), append(cells, v)
	}
	return json.Marshal(map[string]any{"columns": columns, "types": typs, "rows": [][]any{cells}})
}

// splitTop splits s at the commas outside parentheses and quotes.
func splitTop(s string) []string {
	var parts []string
	depth, quoted, start := 0, false, 0
	for i, c := range s {
		switch {
		case c == '\'':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// BenchmarkShippedPostgres runs examples/postgres's getUser by email and
// its login (the password check answered by the canned host, without a
// hash, and then with a bcrypt check at cost 10)
// through the engine.
func BenchmarkShippedPostgres(b *testing.B) {
	e := newEngine(b, engine.Config{})
	m, err := e.Load(context.Background(), wasmbuild.Test(b, "../examples/postgres"))
	if err != nil {
		b.Fatal(err)
	}
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	host, hashing := &shippedPGHost{}, &shippedPGHost{bcrypt: hash}
	const ctxJSON = `"context":{"tenant":"t_1234_1","connection":"pg","requestId":"r-8f3a"}`
	for _, c := range []struct {
		name, fn, input string
		host            *shippedPGHost
	}{
		{"getUser", "getUser", `{"query":{"email":"ada@example.com"},` + ctxJSON + `}`, host},
		{"login-without-hash", "login", `{"query":{"email":"ada@example.com"},"password":"s3cret",` + ctxJSON + `}`, host},
		{"login", "login", `{"query":{"email":"ada@example.com"},"password":"s3cret",` + ctxJSON + `}`, hashing},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := engine.Request{Tenant: "t1", Pool: "shipped-pg", Function: c.fn, Input: []byte(c.input), Host: c.host}
			res, err := e.Call(context.Background(), m, req)
			if err != nil {
				b.Fatal(err)
			}
			var u map[string]any
			if err := json.Unmarshal(res.Output, &u); err != nil || u["id"] != "42" || u["email"] != "ada@example.com" {
				b.Fatalf("output %s (%v)", res.Output, err)
			}
			b.Logf("output %s", res.Output)
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := e.Call(context.Background(), m, req); err != nil {
					b.Fatal(err)
				}
			}
			// The machine is shared: CPU time moves less than wall time
			// when other processes run.
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}

// BenchmarkShippedPostgresGuestCalls profiles the same getUser on a bare
// wazero interpreter with a function listener: the wasm function calls
// one call makes (the engine meters each function entry) and, among
// them, the allocations (runtime.mallocgc), with the functions called
// most. Both counts are exact, unlike times on a shared machine; -v
// prints the top of the list.
func BenchmarkShippedPostgresGuestCalls(b *testing.B) {
	wasm := wasmbuild.Test(b, "../examples/postgres")
	host := &shippedPGHost{}
	input := []byte(`{"query":{"email":"ada@example.com"},"context":{"tenant":"t_1234_1","connection":"pg","requestId":"r-8f3a"}}`)
	ctx := context.Background()
	r := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	b.Cleanup(func() { r.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, r)
	i32 := api.ValueTypeI32
	var resp, out []byte
	hb := r.NewHostModuleBuilder("sluice")
	fn := func(name string, f api.GoModuleFunc, params, results []api.ValueType) {
		hb.NewFunctionBuilder().WithGoModuleFunction(f, params, results).Export(name)
	}
	fn("input_read", func(ctx context.Context, m api.Module, s []uint64) { m.Memory().Write(uint32(s[0]), input) }, []api.ValueType{i32}, nil)
	fn("output_write", func(ctx context.Context, m api.Module, s []uint64) {
		o, _ := m.Memory().Read(uint32(s[0]), uint32(s[1]))
		out = append(out[:0], o...)
	}, []api.ValueType{i32, i32}, nil)
	fn("log", func(ctx context.Context, m api.Module, s []uint64) {}, []api.ValueType{i32, i32, i32}, nil)
	fn("host_call", func(ctx context.Context, m api.Module, s []uint64) {
		op, _ := m.Memory().Read(uint32(s[0]), uint32(s[1]))
		req, _ := m.Memory().Read(uint32(s[2]), uint32(s[3]))
		res, err := host.HostCall(ctx, string(op), req, &engine.HostCall{})
		if err != nil {
			b.Fatal(err)
		}
		resp = append(append([]byte(`{"result":`), res...), '}')
		s[0] = uint64(len(resp))
	}, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32})
	fn("host_response_read", func(ctx context.Context, m api.Module, s []uint64) { m.Memory().Write(uint32(s[0]), resp) }, []api.ValueType{i32}, nil)
	if _, err := hb.Instantiate(ctx); err != nil {
		b.Fatal(err)
	}
	counts := &callCounter{byName: map[string]*int{}}
	compiled, err := r.CompileModule(experimental.WithFunctionListenerFactory(ctx, counts), wasm)
	if err != nil {
		b.Fatal(err)
	}
	mod, err := r.InstantiateModule(ctx, compiled, wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize"))
	if err != nil {
		b.Fatal(err)
	}
	getUser := mod.ExportedFunction("getUser")
	call := func() {
		if res, err := getUser.Call(ctx, uint64(len(input))); err != nil || res[0] != 0 {
			b.Fatalf("getUser: %v %v %s", res, err, out)
		}
	}
	call()
	counts.reset()
	for b.Loop() {
		call()
	}
	n := float64(b.N)
	b.ReportMetric(float64(counts.total)/n, "wasm-calls/op")
	if m := counts.byName["runtime.mallocgc"]; m != nil {
		b.ReportMetric(float64(*m)/n, "mallocgc/op")
	}
	type entry struct {
		name  string
		calls int
	}
	var top []entry
	for name, c := range counts.byName {
		top = append(top, entry{name, *c})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].calls > top[j].calls })
	for _, e := range top[:min(25, len(top))] {
		b.Logf("%7.1f %s", float64(e.calls)/n, e.name)
	}
}

// callCounter counts wasm function calls by name.
type callCounter struct {
	byName map[string]*int
	total  int
}

func (c *callCounter) NewFunctionListener(def api.FunctionDefinition) experimental.FunctionListener {
	name := strings.TrimPrefix(def.DebugName(), ".") // the module has no name
	if _, ok := c.byName[name]; !ok {
		c.byName[name] = new(int)
	}
	return &countListener{c: c, n: c.byName[name]}
}

func (c *callCounter) reset() {
	for _, n := range c.byName {
		*n = 0
	}
	c.total = 0
}

type countListener struct {
	c *callCounter
	n *int
}

func (l *countListener) Before(context.Context, api.Module, api.FunctionDefinition, []uint64, experimental.StackIterator) {
	*l.n++
	l.c.total++
}
func (l *countListener) After(context.Context, api.Module, api.FunctionDefinition, []uint64) {}
func (l *countListener) Abort(context.Context, api.Module, api.FunctionDefinition, error)    {}
