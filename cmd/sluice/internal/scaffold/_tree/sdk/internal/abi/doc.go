// Package abi is the guest side of the Sluice host module (ABI.md): the
// wasm imports under GOOS=wasip1, and on every other platform a stand-in
// whose log and host-call answers tests can replace with SetHooks.
//
// An instance serves one call at a time, so the buffers here are reused
// from call to call.
package abi
