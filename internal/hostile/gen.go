package hostile

// Generated modules: shapes that would be megabytes of WAT. Each is a
// valid connector (memory, sluice_abi_version, login) written directly in
// the binary format.

// Sizes of the generated shapes (a few MB each, like the uploads).
const (
	nestingDepth    = 1 << 20 // nested blocks in one function (3 MiB)
	brTableTargets  = 4 << 20 // targets of one br_table (4 MiB)
	loopCount       = 1 << 20 // loops in one function (3 MiB)
	functionCount   = 1 << 20 // tiny functions (4 MiB)
	localsFunctions = 2000    // functions of localsPerFunc locals each (tiny module)
	localsPerFunc   = 100000
	straightOps     = 100000 // multiply-adds in one loop body (1 MB)
	divOps          = 20000  // dependent divisions in one loop body
)

// Opcodes used here.
const (
	opBlock    = 0x02
	opLoop     = 0x03
	opEnd      = 0x0B
	opBr       = 0x0C
	opBrTable  = 0x0E
	opCall     = 0x10
	opLocalGet = 0x20
	opLocalSet = 0x21
	opI32Const = 0x41
	opI64Const = 0x42
	opI32Add   = 0x6A
	opI32Mul   = 0x6C
	opI64DivU  = 0x80
	opI64Or    = 0x84
	typeEmpty  = 0x40
	typeI32    = 0x7F
	typeI64    = 0x7E
)

// genModule is a connector: func 0 is the import sluice.output_write,
// func 1 sluice_abi_version () -> i32, func 2 login (i32) -> i32 with body
// login, funcs 3... are extra () -> (). Memory holds the output
// {"id":"1"} at 0.
type genModule struct {
	login []byte   // the body: locals, code and the final end
	extra [][]byte // bodies of extra functions
}

func (m genModule) bytes() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, content []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(content)))
		out = append(out, content...)
	}
	// Types: () -> i32, (i32) -> i32, () -> (), (i32, i32) -> ().
	section(1, []byte{4, 0x60, 0, 1, typeI32, 0x60, 1, typeI32, 1, typeI32, 0x60, 0, 0, 0x60, 2, typeI32, typeI32, 0})
	imp := appendName([]byte{1}, "sluice")
	imp = appendName(imp, "output_write")
	section(2, append(imp, 0, 3))
	funcs := appendU32(nil, uint32(2+len(m.extra)))
	funcs = append(funcs, 0, 1)
	for range m.extra {
		funcs = append(funcs, 2)
	}
	section(3, funcs)
	section(5, []byte{1, 0, 1}) // one memory of 1 page
	exp := []byte{3}
	exp = appendName(exp, "memory")
	exp = append(exp, 2, 0)
	exp = appendName(exp, "sluice_abi_version")
	exp = append(exp, 0, 1)
	exp = appendName(exp, "login")
	exp = append(exp, 0, 2)
	section(7, exp)
	code := appendU32(nil, uint32(2+len(m.extra)))
	abi := []byte{0, opI32Const, 1, opEnd}
	for _, body := range append([][]byte{abi, m.login}, m.extra...) {
		code = appendU32(code, uint32(len(body)))
		code = append(code, body...)
	}
	section(10, code)
	data := []byte{1, 0, opI32Const, 0, opEnd}
	section(11, append(appendU32(data, uint32(len(output))), output...))
	return out
}

// output is what login writes when it returns.
const output = `{"id":"1"}`

func appendName(b []byte, s string) []byte {
	return append(appendU32(b, uint32(len(s))), s...)
}

func appendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

func appendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// returnZero ends login: output_write(0, len(output)); i32.const 0; end.
var returnZero = []byte{opI32Const, 0, opI32Const, byte(len(output)), opCall, 0, opI32Const, 0, opEnd}

// GenNesting is one function of about a million nested blocks.
func GenNesting() []byte {
	body := make([]byte, 0, 3*nestingDepth+4)
	body = append(body, 0) // no locals
	for range nestingDepth {
		body = append(body, opBlock, typeEmpty)
	}
	for range nestingDepth {
		body = append(body, opEnd)
	}
	return genModule{login: append(body, returnZero...)}.bytes()
}

// GenBrTable is one br_table with four million targets.
func GenBrTable() []byte {
	body := make([]byte, 0, brTableTargets+16)
	body = append(body, 0, opBlock, typeEmpty, opI32Const, 0, opBrTable)
	body = appendU32(body, brTableTargets)
	body = append(body, make([]byte, brTableTargets+1)...) // every target and the default: label 0
	body = append(body, opEnd)
	return genModule{login: append(body, returnZero...)}.bytes()
}

// GenLoops is one function of a million empty loops, one after another.
func GenLoops() []byte {
	body := make([]byte, 0, 3*loopCount+4)
	body = append(body, 0)
	for range loopCount {
		body = append(body, opLoop, typeEmpty, opEnd)
	}
	return genModule{login: append(body, returnZero...)}.bytes()
}

// GenFunctions is a million empty functions.
func GenFunctions() []byte {
	extra := make([][]byte, functionCount)
	empty := []byte{0, opEnd}
	for i := range extra {
		extra[i] = empty
	}
	return genModule{login: append([]byte{0}, returnZero...), extra: extra}.bytes()
}

// GenLocals is a small module of many functions that each declare a
// hundred thousand locals.
func GenLocals() []byte {
	body := appendU32([]byte{1}, localsPerFunc)
	body = append(body, typeI64, opEnd)
	extra := make([][]byte, localsFunctions)
	for i := range extra {
		extra[i] = body
	}
	return genModule{login: append([]byte{0}, returnZero...), extra: extra}.bytes()
}

// GenStraightLine is an endless loop whose body is a hundred thousand
// dependent multiply-adds (about a megabyte of straight-line code).
func GenStraightLine() []byte {
	body := []byte{1, 1, typeI32, opLoop, typeEmpty} // local 1: i32
	for range straightOps {
		body = append(body, opLocalGet, 1, opI32Const, 3, opI32Mul, opI32Const, 1, opI32Add, opLocalSet, 1)
	}
	body = append(body, opBr, 0, opEnd)
	return genModule{login: append(body, returnZero...)}.bytes()
}

// GenDivChain is an endless loop whose body is a chain of twenty thousand
// dependent 64-bit divisions.
func GenDivChain() []byte {
	body := []byte{1, 1, typeI64, opI64Const}
	body = appendS64(body, 0x7FFFFFFFFFFFFFFF)
	body = append(body, opLocalSet, 1, opLoop, typeEmpty)
	for range divOps {
		body = append(body, opLocalGet, 1, opI64Const, 3, opI64DivU, opI64Const)
		body = appendS64(body, 0x7000000000000000)
		body = append(body, opI64Or, opLocalSet, 1)
	}
	body = append(body, opBr, 0, opEnd)
	return genModule{login: append(body, returnZero...)}.bytes()
}
