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

var (
	inBuf   []byte // the current call's input
	respBuf []byte // the last host call's response
)

// ReadInput copies the current call's input of n bytes into a reused
// buffer and returns it; it is valid until the next call.
func ReadInput(n int32) []byte {
	if n <= 0 {
		return nil
	}
	if cap(inBuf) < int(n) {
		inBuf = make([]byte, n)
	}
	b := inBuf[:n]
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
