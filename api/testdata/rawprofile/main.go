// Command rawprofile is a test connector written against the raw ABI
// (guest-sdk/ABI.md), without the SDK, so that its results can hold what
// the SDK's User type cannot: its login accepts any password but "wrong"
// and answers a profile with fields no profile has ("passwordHash",
// "role") and an "externalId" of its choosing; getUser knows nobody.
package main

import (
	"bytes"
	"unsafe"
)

//go:wasmimport sluice input_read
func inputRead(ptr unsafe.Pointer)

//go:wasmimport sluice output_write
func outputWrite(ptr unsafe.Pointer, n int32)

//go:wasmexport sluice_abi_version
func abiVersion() int32 { return 1 }

var (
	profile = []byte(`{"id":"legacy-42","externalId":"admin-id","passwordHash":"$2a$10$notforsluice","role":"admin",` +
		`"email":"raw@example.com","emailVerified":true,"username":"raw","nickname":"Raw"}`)
	wrong = []byte(`{"code":"wrong_password","message":"wrong password"}`)
	null  = []byte(`null`)
)

func input(n int32) []byte {
	in := make([]byte, n)
	if n > 0 {
		inputRead(unsafe.Pointer(&in[0]))
	}
	return in
}

func answer(b []byte, status int32) int32 {
	outputWrite(unsafe.Pointer(&b[0]), int32(len(b)))
	return status
}

//go:wasmexport login
func login(n int32) int32 {
	if bytes.Contains(input(n), []byte(`"password":"wrong"`)) {
		return answer(wrong, 1)
	}
	return answer(profile, 0)
}

//go:wasmexport getUser
func getUser(n int32) int32 {
	input(n)
	return answer(null, 0)
}

func main() {}
