package getuser

//go:wasmexport getUser
func export(inputLen int32) int32 { return slot.Export(inputLen) }
