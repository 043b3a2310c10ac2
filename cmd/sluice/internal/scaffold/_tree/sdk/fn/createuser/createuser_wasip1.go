package createuser

//go:wasmexport createUser
func export(inputLen int32) int32 { return slot.Export(inputLen) }
