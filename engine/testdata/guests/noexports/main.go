// Command noexports speaks the ABI but implements no connector function.
package main

import _ "sluice.test/guests/abi"

func main() {}

//go:wasmexport hello
func hello() int32 { return 0 }
