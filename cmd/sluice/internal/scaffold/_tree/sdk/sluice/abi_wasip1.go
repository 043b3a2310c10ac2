package sluice

//go:wasmexport sluice_abi_version
func abiVersion() int32 { return ABIVersion }
