// Command basic is a well-behaved test guest: each export exercises one
// part of the ABI.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"sluice.test/guests/abi"
)

func main() {}

var stored string // survives between calls of one instance

// login echoes its input: the cheapest possible call.
//
//go:wasmexport login
func login(n int32) int32 { return abi.Output(abi.Input(n), 0) }

// createUser keeps user.id in a global.
//
//go:wasmexport createUser
func createUser(n int32) int32 {
	var in struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	if err := json.Unmarshal(abi.Input(n), &in); err != nil {
		return abi.Fail("invalid_input", err.Error())
	}
	stored = in.User.ID
	return abi.JSON(map[string]string{"id": stored})
}

// getUser returns what createUser kept, or null.
//
//go:wasmexport getUser
func getUser(n int32) int32 {
	abi.Input(n)
	if stored == "" {
		return abi.Output([]byte("null"), 0)
	}
	return abi.JSON(map[string]string{"id": stored})
}

// searchUser reports environment variables.
//
//go:wasmexport searchUser
func searchUser(n int32) int32 {
	abi.Input(n)
	return abi.JSON(map[string]any{"totalCount": 1, "list": []any{map[string]any{
		"id": "env",
		"customData": map[string]string{
			"DB_HOST": os.Getenv("DB_HOST"), "SECRET": os.Getenv("SECRET"), "args": fmt.Sprint(len(os.Args)),
		},
	}}})
}

// updateUser makes the host call its input names and returns the
// response; with "after", it makes that host call next; with "then", it
// fails with that error envelope instead.
//
//go:wasmexport updateUser
func updateUser(n int32) int32 {
	var in struct {
		Op    string          `json:"op"`
		Req   json.RawMessage `json:"req"`
		After string          `json:"after"`
		Then  json.RawMessage `json:"then"`
	}
	json.Unmarshal(abi.Input(n), &in)
	resp := abi.HostCall(in.Op, in.Req)
	if in.After != "" {
		abi.HostCall(in.After, json.RawMessage(`{}`))
	}
	if in.Then != nil {
		return abi.Output(in.Then, 1)
	}
	return abi.Output(resp, 0)
}

// deleteUser returns the error envelope its input holds.
//
//go:wasmexport deleteUser
func deleteUser(n int32) int32 {
	return abi.Output(abi.Input(n), 1)
}

// listUsers logs on every channel.
//
//go:wasmexport listUsers
func listUsers(n int32) int32 {
	abi.Input(n)
	fmt.Println("to stdout")
	fmt.Fprintln(os.Stderr, "to stderr")
	abi.Log(2, "a warning")
	return abi.JSON(map[string]any{"totalCount": 0, "list": []any{}})
}

// validatePassword misbehaves as its input says.
//
//go:wasmexport validatePassword
func validatePassword(n int32) int32 {
	var in struct {
		Do string `json:"do"`
	}
	json.Unmarshal(abi.Input(n), &in)
	switch in.Do {
	case "no-output":
		return 0
	case "bad-json":
		return abi.Output([]byte("{not json"), 0)
	case "bad-status":
		return abi.Output([]byte("true"), 7)
	case "bad-envelope":
		return abi.Output([]byte(`"oops"`), 1)
	}
	return abi.Output([]byte("true"), 0)
}
