package engine

import (
	"errors"

	"github.com/sluice-dev/sluice/engine/internal/wasmbin"
)

// ModuleLimits bound what a module may declare, so that no upload can make
// the compiler run for minutes or take gigabytes (RATIONALE.md, "Bounded
// compilation"). Validate refuses a module over any of them with a
// *ModuleError naming the limit, e.g. "function 12 nests blocks 5000 deep,
// over the limit of 2048 (maxNestingDepth)". Zero fields take
// DefaultModuleLimits. Operators set them by name with ParseModuleLimits
// (`sluice serve --module-limits maxNestingDepth=4096`).
type ModuleLimits struct {
	MaxTypes             int // function types in the type section (maxTypes)
	MaxImports           int // imports of any kind (maxImports)
	MaxFunctions         int // functions the module defines (maxFunctions)
	MaxFunctionBodyBytes int // bytes of one function body (maxFunctionBodyBytes)
	MaxLocals            int // parameters plus locals of one function (maxLocals)
	MaxNestingDepth      int // blocks, loops, ifs open at once in one function (maxNestingDepth)
	MaxBrTableTargets    int // targets of one br_table, its default included (maxBrTableTargets)
	MaxLoopsPerFunction  int // loop instructions in one function (maxLoopsPerFunction)
	MaxLoops             int // loop instructions in the module (maxLoops)
	MaxTables            int // tables, imported or defined (maxTables)
	MaxTableEntries      int // a table's initial size, and its declared maximum (maxTableEntries)
	MaxMemories          int // memories, imported or defined (maxMemories)
	MaxMemoryPages       int // a memory's initial size in 64 KiB pages (maxMemoryPages)
	MaxGlobals           int // globals, imported or defined (maxGlobals)
	MaxDataSegments      int // data segments (maxDataSegments)
	MaxDataBytes         int // bytes of all data segments together (maxDataBytes)
	MaxElementSegments   int // element segments (maxElementSegments)
	MaxElementEntries    int // entries of all element segments together (maxElementEntries)
	MaxExports           int // exports (maxExports)
}

// DefaultModuleLimits are used for every zero field of Config.ModuleLimits.
func DefaultModuleLimits() ModuleLimits { return ModuleLimits(wasmbin.DefaultLimits()) }

// ModuleLimitNames returns the limits' names as ParseModuleLimits reads
// them: maxTypes, maxImports, ...
func ModuleLimitNames() []string { return wasmbin.LimitNames() }

// ParseModuleLimits reads comma-separated name=value pairs, such as
// "maxNestingDepth=2048,maxFunctions=50000", over base (whose zero fields
// are defaults first). An unknown name or a value that is not a positive
// integer is an error naming it.
func ParseModuleLimits(s string, base ModuleLimits) (ModuleLimits, error) {
	l, err := wasmbin.ParseLimits(s, wasmbin.Limits(base.orDefaults()))
	return ModuleLimits(l), err
}

// String returns the limits as ParseModuleLimits reads them.
func (l ModuleLimits) String() string { return wasmbin.Limits(l).String() }

func (l ModuleLimits) orDefaults() ModuleLimits {
	return ModuleLimits(wasmbin.Limits(l).OrDefaults())
}

// checkModuleLimits refuses a module over the engine's ModuleLimits.
func (e *Engine) checkModuleLimits(wasm []byte) error {
	err := wasmbin.CheckLimits(wasm, wasmbin.Limits(e.cfg.ModuleLimits))
	if err == nil {
		return nil
	}
	me := &ModuleError{Reason: err.Error()}
	var le *wasmbin.LimitError
	if errors.As(err, &le) {
		me.Limit = le.Limit
	}
	return me
}
