// Command calllog is a test connector for the call-log tests. login logs
// its input password and the connection's secrets (what a careless
// connector may do: the call log redacts them), runs one SQL statement
// with the password as a parameter (the trace keeps the statement, never
// its parameters), then: password "good" logs in, "panic" panics, any
// other is wrong ("longpanic" panics with the secret env value where the
// engine cuts the panic text; "opname" makes host calls named after the
// secret env value). It also prints (to stdout) the password and the secret
// env value in the encodings a connector may write them in: quoted, JSON
// (with and without HTML escapes), query and path escaped, percent
// encoded byte by byte. getUser logs the query's email and finds no one.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/fn/getuser"
	"github.com/sluice-dev/sluice/guest-sdk/fn/login"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
	"github.com/sluice-dev/sluice/guest-sdk/sql"
)

func main() {}

func init() {
	login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
		sluice.Log.Info("login attempt", "password", in.Password, "dbUri", os.Getenv("DB_CONNECTION_URI"), "apiToken", os.Getenv("API_TOKEN"))
		fmt.Println(encodings("password", in.Password) + encodings(" apiToken", os.Getenv("API_TOKEN")))
		if _, err := sql.Query(ctx, "SELECT count(*) AS n FROM pg_class WHERE relname = $1", in.Password); err != nil {
			return nil, err
		}
		switch in.Password {
		case "good":
			return &sluice.User{ID: "1", Email: in.Query.Email}, nil
		case "panic":
			panic("the connector gave up on " + in.Query.Email)
		case "opname":
			// Host calls named after the secret env value: the trace
			// records the name (op and kind).
			rawHostCall(os.Getenv("API_TOKEN") + ".x")
			rawHostCall("x." + os.Getenv("API_TOKEN"))
		case "longpanic":
			// The engine keeps 512 bytes of the panic line ("panic: " and
			// this): they end with the secret env value's first 6 bytes.
			panic(strings.Repeat("x", 512-len("panic: ")-6) + os.Getenv("API_TOKEN"))
		}
		return nil, sluice.ErrWrongPassword
	})
	getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
		sluice.Log.Warn("looking up", "email", in.Query.Email)
		return nil, nil
	})
}

// encodings writes s in the encodings a connector may log it in.
func encodings(name, s string) string {
	html, _ := json.Marshal(s)
	var raw bytes.Buffer
	enc := json.NewEncoder(&raw)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	var up, low strings.Builder
	for i := range len(s) {
		fmt.Fprintf(&up, "%%%02X", s[i])
		fmt.Fprintf(&low, "%%%02x", s[i])
	}
	return fmt.Sprintf("%s.q=%q %s.json=%s %s.jsonraw=%s %s.query=%s %s.path=%s %s.pct=%s %s.pctlow=%s %s.querylow=%s",
		name, s, name, html, name, strings.TrimSpace(raw.String()), name, url.QueryEscape(s), name, url.PathEscape(s),
		name, up.String(), name, low.String(), name, lowHex(url.QueryEscape(s)))
}

// lowHex writes the hex digits of s's percent escapes in lower case.
func lowHex(s string) string {
	b := []byte(s)
	for i := 0; i+2 < len(b); i++ {
		if b[i] == '%' {
			b[i+1], b[i+2] = bytes.ToLower(b[i+1 : i+2])[0], bytes.ToLower(b[i+2 : i+3])[0]
		}
	}
	return string(b)
}
