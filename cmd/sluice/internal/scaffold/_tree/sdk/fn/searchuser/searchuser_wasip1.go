package searchuser

//go:wasmexport searchUser
func export(inputLen int32) int32 { return slot.Export(inputLen) }
