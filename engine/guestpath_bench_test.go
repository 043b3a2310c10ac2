//go:build unix

package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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
// password.verify with valid: no database, no hash. Answers are made
// once per statement text.
type shippedPGHost struct {
	mu      sync.Mutex
	answers map[string]json.RawMessage
}

func (h *shippedPGHost) HostCall(ctx context.Context, op string, req []byte, tr *engine.HostCall) (json.RawMessage, error) {
	tr.Target = "canned"
	switch op {
	case "password.verify":
		return json.RawMessage(`{"valid":true}`), nil
	case "sql.query":
		var in struct {
			SQL string `json:"sql"`
		}
		if err := json.Unmarshal(req, &in); err != nil {
			return nil, err
		}
		h.mu.Lock()
		defer h.mu.Unlock()
		if a, ok := h.answers[in.SQL]; ok {
			return a, nil
		}
		a, err := cannedSelect(in.SQL, shippedPGUser, shippedPGTypes)
		if err != nil {
			return nil, err
		}
		if h.answers == nil {
			h.answers = map[string]json.RawMessage{}
		}
		h.answers[in.SQL] = a
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

// cpuTime is the CPU time the process has used, user and system.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
// hash) through the engine.
func BenchmarkShippedPostgres(b *testing.B) {
	e := newEngine(b, engine.Config{})
	m, err := e.Load(context.Background(), wasmbuild.Test(b, "../examples/postgres"))
	if err != nil {
		b.Fatal(err)
	}
	host := &shippedPGHost{}
	const ctxJSON = `"context":{"tenant":"t_1234_1","connection":"pg","requestId":"r-8f3a"}`
	for _, c := range []struct{ name, fn, input string }{
		{"getUser", "getUser", `{"query":{"email":"ada@example.com"},` + ctxJSON + `}`},
		{"login-without-hash", "login", `{"query":{"email":"ada@example.com"},"password":"s3cret",` + ctxJSON + `}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			req := engine.Request{Tenant: "t1", Pool: "shipped-pg", Function: c.fn, Input: []byte(c.input), Host: host}
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
			cpu0 := cpuTime(b)
			for b.Loop() {
				if _, err := e.Call(context.Background(), m, req); err != nil {
					b.Fatal(err)
				}
			}
			// The machine is shared: CPU time moves less than wall time
			// when other processes run.
			b.ReportMetric(float64((cpuTime(b)-cpu0).Nanoseconds())/float64(b.N)/1e3, "cpu-µs/op")
		})
	}
}
