// Command badimport imports a function Sluice does not provide.
package main

import _ "sluice.test/guests/abi"

func main() {}

//go:wasmimport env foo
func foo() int32

//go:wasmexport login
func login(n int32) int32 { return foo() }
