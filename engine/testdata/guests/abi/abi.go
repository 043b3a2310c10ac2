//go:build wasip1

// Package abi is a bare implementation of the Sluice guest ABI for tests.
package abi

import (
	"encoding/json"
	"unsafe"
)

//go:wasmimport sluice input_read
func inputRead(ptr unsafe.Pointer)

//go:wasmimport sluice output_write
func outputWrite(ptr unsafe.Pointer, n uint32)

//go:wasmimport sluice log
func logLine(level uint32, ptr unsafe.Pointer, n uint32)

//go:wasmimport sluice host_call
func hostCall(op unsafe.Pointer, opLen uint32, req unsafe.Pointer, reqLen uint32) uint32

//go:wasmimport sluice host_response_read
func hostResponseRead(ptr unsafe.Pointer)

//go:wasmexport sluice_abi_version
func abiVersion() int32 { return 1 }

var in []byte

// Input reads the current call's input.
func Input(n int32) []byte {
	if cap(in) < int(n) {
		in = make([]byte, n)
	}
	in = in[:n]
	if n > 0 {
		inputRead(unsafe.Pointer(&in[0]))
	}
	return in
}

// Output writes b as the call's output and returns status.
func Output(b []byte, status int32) int32 {
	outputWrite(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	return status
}

// JSON writes v as the result.
func JSON(v any) int32 {
	b, _ := json.Marshal(v)
	return Output(b, 0)
}

// Fail writes an error envelope.
func Fail(code, msg string) int32 {
	b, _ := json.Marshal(map[string]string{"code": code, "message": msg})
	return Output(b, 1)
}

// Log writes one log line.
func Log(level uint32, msg string) {
	b := []byte(msg)
	logLine(level, unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
}

// HostCall runs a host operation and returns the raw response.
func HostCall(op string, req []byte) []byte {
	o := []byte(op)
	n := hostCall(unsafe.Pointer(unsafe.SliceData(o)), uint32(len(o)), unsafe.Pointer(unsafe.SliceData(req)), uint32(len(req)))
	resp := make([]byte, n)
	if n > 0 {
		hostResponseRead(unsafe.Pointer(&resp[0]))
	}
	return resp
}
