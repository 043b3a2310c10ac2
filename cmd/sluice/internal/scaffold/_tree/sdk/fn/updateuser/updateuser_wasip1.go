package updateuser

//go:wasmexport updateUser
func export(inputLen int32) int32 { return slot.Export(inputLen) }
