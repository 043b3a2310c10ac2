package login

//go:wasmexport login
func export(inputLen int32) int32 { return slot.Export(inputLen) }
