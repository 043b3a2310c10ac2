// Command realistic does what a typical login does, minus the database:
// decode the input, make one host call for the user row, check it, build
// and encode the profile. The host answers the query in the benchmark.
package main

import (
	"encoding/json"
	"strings"

	"sluice.test/guests/abi"
)

func main() {}

type loginInput struct {
	Query struct {
		Email    string `json:"email"`
		Username string `json:"username"`
		Phone    string `json:"phone"`
	} `json:"query"`
	Password string `json:"password"`
	Context  struct {
		Tenant    string `json:"tenant"`
		RequestID string `json:"requestId"`
	} `json:"context"`
}

type user struct {
	ID            string         `json:"id"`
	Email         string         `json:"email,omitempty"`
	EmailVerified bool           `json:"emailVerified,omitempty"`
	Username      string         `json:"username,omitempty"`
	Nickname      string         `json:"nickname,omitempty"`
	Phone         string         `json:"phone,omitempty"`
	Photo         string         `json:"photo,omitempty"`
	CustomData    map[string]any `json:"customData,omitempty"`
}

//go:wasmexport login
func login(n int32) int32 {
	var in loginInput
	if err := json.Unmarshal(abi.Input(n), &in); err != nil {
		return abi.Fail("invalid_input", err.Error())
	}
	req, _ := json.Marshal(map[string]any{
		"sql":  "SELECT id, email, username, nickname, phone, photo, password_hash FROM users WHERE email = $1",
		"args": []any{strings.ToLower(in.Query.Email)},
	})
	var resp struct {
		Result struct {
			Columns []string `json:"columns"`
			Rows    [][]any  `json:"rows"`
		} `json:"result"`
	}
	if err := json.Unmarshal(abi.HostCall("sql.query", req), &resp); err != nil || len(resp.Result.Rows) == 0 {
		return abi.Fail("user_not_found", "no such user")
	}
	row := resp.Result.Rows[0]
	str := func(i int) string { s, _ := row[i].(string); return s }
	if str(6) != in.Password {
		return abi.Fail("wrong_password", "wrong password")
	}
	return abi.JSON(user{
		ID: str(0), Email: str(1), EmailVerified: true, Username: str(2), Nickname: str(3), Phone: str(4), Photo: str(5),
		CustomData: map[string]any{"source": "legacy", "tenant": in.Context.Tenant},
	})
}

// getUser is a loop-heavy function: it hashes its input many times, to
// measure what loop checks cost.
//
//go:wasmexport getUser
func getUser(n int32) int32 {
	in := abi.Input(n)
	var h uint32 = 2166136261
	for i := 0; i < 2000; i++ {
		for _, c := range in {
			h ^= uint32(c)
			h *= 16777619
		}
	}
	return abi.JSON(map[string]any{"id": h})
}
