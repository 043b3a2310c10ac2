// Command echo is a test connector written against the raw ABI
// (guest-sdk/ABI.md), so that its results can break the contract: every
// function answers its input's "result" verbatim; else a "password" that
// is a JSON object (what a user-flow login can send), verbatim; else a
// user {"id":"echo","customData":{"input":INPUT}} that shows the input it
// got ("context" included).
package main

import (
	"encoding/json"
	"unsafe"
)

//go:wasmimport sluice input_read
func inputRead(ptr unsafe.Pointer)

//go:wasmimport sluice output_write
func outputWrite(ptr unsafe.Pointer, n int32)

//go:wasmexport sluice_abi_version
func abiVersion() int32 { return 1 }

func echo(n int32) int32 {
	in := make([]byte, n)
	if n > 0 {
		inputRead(unsafe.Pointer(&in[0]))
	}
	var req struct {
		Result   json.RawMessage `json:"result"`
		Password string          `json:"password"`
	}
	json.Unmarshal(in, &req)
	out := []byte(req.Result)
	if len(out) == 0 && len(req.Password) > 0 && req.Password[0] == '{' && json.Valid([]byte(req.Password)) {
		out = []byte(req.Password)
	}
	if len(out) == 0 {
		out = append(append([]byte(`{"id":"echo","customData":{"input":`), in...), "}}"...)
	}
	outputWrite(unsafe.Pointer(&out[0]), int32(len(out)))
	return 0
}

//go:wasmexport login
func login(n int32) int32 { return echo(n) }

//go:wasmexport getUser
func getUser(n int32) int32 { return echo(n) }

//go:wasmexport searchUser
func searchUser(n int32) int32 { return echo(n) }

//go:wasmexport createUser
func createUser(n int32) int32 { return echo(n) }

//go:wasmexport updateUser
func updateUser(n int32) int32 { return echo(n) }

//go:wasmexport deleteUser
func deleteUser(n int32) int32 { return echo(n) }

//go:wasmexport listUsers
func listUsers(n int32) int32 { return echo(n) }

//go:wasmexport validatePassword
func validatePassword(n int32) int32 { return echo(n) }

func main() {}
