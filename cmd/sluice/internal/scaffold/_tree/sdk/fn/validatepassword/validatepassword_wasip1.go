package validatepassword

//go:wasmexport validatePassword
func export(inputLen int32) int32 { return slot.Export(inputLen) }
