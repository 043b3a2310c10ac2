package abi

import (
	"runtime"
	"unsafe"
)

//go:wasmimport sluice input_read
func inputRead(ptr unsafe.Pointer)

//go:wasmimport sluice output_write
func outputWrite(ptr unsafe.Pointer, n int32)

//go:wasmimport sluice log
func hostLog(level int32, ptr unsafe.Pointer, n int32)

//go:wasmimport sluice host_call
func hostCall(opPtr unsafe.Pointer, opLen int32, reqPtr unsafe.Pointer, reqLen int32) int32

//go:wasmimport sluice host_response_read
func hostResponseRead(ptr unsafe.Pointer)

// respBuf holds the last host call's response.
var respBuf []byte

// ReadInput copies the current call's input of n bytes into a new
// buffer and returns it. The buffer is the call's: strings decoded from
// the input share it, so it is never reused.
func ReadInput(n int32) []byte {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	inputRead(unsafe.Pointer(unsafe.SliceData(b)))
	return b
}

// WriteOutput sets the current call's output.
func WriteOutput(b []byte) {
	outputWrite(unsafe.Pointer(unsafe.SliceData(b)), int32(len(b)))
	runtime.KeepAlive(b)
}

// Log appends one line to the call's log at level 0 (debug) to 3 (error).
func Log(level int32, msg []byte) {
	hostLog(level, unsafe.Pointer(unsafe.SliceData(msg)), int32(len(msg)))
	runtime.KeepAlive(msg)
}

// HostCall runs host operation op with the JSON request req and returns
// the raw response envelope, valid until the next HostCall.
func HostCall(op string, req []byte) []byte {
	n := hostCall(unsafe.Pointer(unsafe.StringData(op)), int32(len(op)),
		unsafe.Pointer(unsafe.SliceData(req)), int32(len(req)))
	runtime.KeepAlive(op)
	runtime.KeepAlive(req)
	if n <= 0 {
		return nil
	}
	if cap(respBuf) < int(n) {
		respBuf = make([]byte, n)
	}
	b := respBuf[:n]
	hostResponseRead(unsafe.Pointer(unsafe.SliceData(b)))
	return b
}
