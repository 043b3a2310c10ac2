package main

import (
	"encoding/json"

	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// The two dialects of script (docs/javascript.md).
const (
	dialectSeed  = "seed"  // async function login(query, password, context), results returned
	dialectAuth0 = "auth0" // function login(email, password, callback), Auth0's errors
)

// sluiceFunctions are the connector functions in the contract's order.
var sluiceFunctions = []string{"login", "getUser", "searchUser", "createUser", "updateUser", "deleteUser", "listUsers", "validatePassword"}

// auth0Names maps the connector functions to Auth0's script names; the
// ones missing have no Auth0 counterpart.
var auth0Names = map[string]string{
	"login":      "login",
	"getUser":    "getByEmail",
	"createUser": "create",
	"deleteUser": "remove",
}

// scriptName is the name of the script function serving fn in dialect d
// ("" when the dialect has none).
func scriptName(d, fn string) string {
	if d == dialectAuth0 {
		return auth0Names[fn]
	}
	return fn
}

// scriptNames lists the script's function names of dialect d.
func scriptNames(d string) []string {
	out := []string{}
	for _, fn := range sluiceFunctions {
		if n := scriptName(d, fn); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// args returns the script function serving fn and its arguments (the
// Auth0 callback is added by call), or ok false when the dialect has no
// such function. args are the handler's: see main.go.
func (s *script) args(fn string, ctx sluice.CallContext, args []any) (name string, out []any, ok bool) {
	name = scriptName(s.dialect, fn)
	if name == "" {
		return "", nil, false
	}
	if s.dialect == dialectAuth0 {
		switch fn {
		case "login", "getUser":
			var q sluice.UserQuery
			_ = json.Unmarshal(args[0].([]byte), &q)
			id := q.Email
			if id == "" {
				id = q.Username
			}
			if id == "" {
				id = q.Phone
			}
			return name, append([]any{id}, args[1:]...), true
		}
		return name, args, true
	}
	if fn == "searchUser" { // (keyword, context, page, limit)
		return name, []any{args[0], ctx, args[1], args[2]}, true
	}
	return name, append(append([]any{}, args...), ctx), true
}
