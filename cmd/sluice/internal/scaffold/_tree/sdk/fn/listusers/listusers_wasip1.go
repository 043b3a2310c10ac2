package listusers

//go:wasmexport listUsers
func export(inputLen int32) int32 { return slot.Export(inputLen) }
