package deleteuser

//go:wasmexport deleteUser
func export(inputLen int32) int32 { return slot.Export(inputLen) }
