package hostile

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Deadline is the time limit every attack runs under (the tenant quota
// timeoutMs 200 of the reproductions).
const Deadline = 200 * time.Millisecond

// Outcome is how a hostile call may end: an engine error code, OK (the
// call succeeded), or InvalidModule (the module was refused at upload).
type Outcome string

// The outcomes.
const (
	Timeout           Outcome = "timeout"
	ResourceExhausted Outcome = "resource_exhausted"
	ConnectorError    Outcome = "connector_error"
	InvalidModule     Outcome = "invalid_module"
	OK                Outcome = "ok"
)

// Stage is where an attack bites.
type Stage int

// The stages.
const (
	// Run: the connector function itself.
	Run Stage = iota
	// Init: instantiation (_initialize, a start function, declared sizes).
	Init
	// Compile: Load, i.e. the upload.
	Compile
)

// DefaultInput is the login input of every case without its own.
const DefaultInput = `{"query":{"username":"x"},"password":"x"}`

// Case is one attack shape.
type Case struct {
	Name string
	// Finding is the finding the shape reproduces.
	Finding string
	// Exactly one source: WAT (a file of engine/testdata/hostile, without
	// .wat), Go (a package of engine/testdata/hostile/go), Example (a
	// directory of examples/) or Gen (a generator).
	WAT, Go, Example string
	Gen              func() []byte
	// Function is the export called; login when empty.
	Function string
	// Input is the function's input; DefaultInput when empty.
	Input string
	// Want lists the outcomes that contain the attack.
	Want []Outcome
	// DB is "postgres" or "mysql" when the attack's host calls need a
	// database connection (the test servers); password and unknown
	// operations are served on any connection.
	DB string
	// MemoryMB is the call's memory limit; 0 is 64.
	MemoryMB int
	// Timeout replaces Deadline for this case.
	Timeout time.Duration
	Stage   Stage
	// Heavy shapes take GiBs of host memory on an engine that does not
	// hold: run them only under the address-space limit.
	Heavy bool
}

// Func returns the export the case calls.
func (c Case) Func() string {
	if c.Function == "" {
		return "login"
	}
	return c.Function
}

// In returns the case's input.
func (c Case) In() string {
	if c.Input == "" {
		return DefaultInput
	}
	return c.Input
}

// Limit returns the case's deadline.
func (c Case) Limit() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return Deadline
}

// Memory returns the case's memory limit in MiB.
func (c Case) Memory() int {
	if c.MemoryMB > 0 {
		return c.MemoryMB
	}
	return 64
}

// Allows reports whether o contains the attack.
func (c Case) Allows(o Outcome) bool { return slices.Contains(c.Want, o) }

// MustRefuse reports whether the only acceptable outcome is refusing the
// module at upload.
func (c Case) MustRefuse() bool { return len(c.Want) == 1 && c.Want[0] == InvalidModule }

// Findings of the issue, for Case.Finding.
const (
	findCalls     = "loop-free calls and short loops inside calls are never interrupted"
	findBody      = "a costly loop body runs 16384 times between two checks"
	findHost      = "host calls ignore the deadline"
	findInit      = "_initialize and start functions run outside the call's limit"
	findTables    = "the memory cap does not cover tables"
	findMemory    = "memory limits"
	findCompile   = "compiling is unbounded"
	findGoGuest   = "ordinary Go code: nested calls with short loops"
	findRecursion = "recursion"
	findBaseline  = "baseline: already contained"
)

var corpus = []Case{
	// Loops and calls.
	{Name: "loop_endless", WAT: "loop_endless", Want: []Outcome{Timeout}, Finding: findBaseline},
	{Name: "calltree_64x7", WAT: "calltree_64x7", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "calltree_wide", WAT: "calltree_wide", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "calltree_deep", WAT: "calltree_deep", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "calltree_indirect", WAT: "calltree_indirect", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "calltree_with_start", WAT: "calltree_with_start", Want: []Outcome{Timeout, InvalidModule}, Finding: findCalls},
	{Name: "shortloops_nested", WAT: "shortloops_nested", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "shortloops_calltree", WAT: "shortloops_calltree", Want: []Outcome{Timeout}, Finding: findCalls},
	{Name: "recursion_mutual", WAT: "recursion_mutual", Want: []Outcome{Timeout}, Finding: findRecursion},
	{Name: "recursion_deep", WAT: "recursion_deep", Want: []Outcome{ResourceExhausted, Timeout}, Finding: findRecursion},
	{Name: "recursion_stack_edge", WAT: "recursion_stack_edge", Want: []Outcome{Timeout, ResourceExhausted}, Finding: findRecursion},

	// Costly loop bodies.
	{Name: "body_memfill", WAT: "body_memfill", Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "body_memcopy", WAT: "body_memcopy", Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "body_memfill_huge", WAT: "body_memfill_huge", MemoryMB: 1024, Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "body_memcopy_huge", WAT: "body_memcopy_huge", MemoryMB: 1024, Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "memory_touch", WAT: "memory_touch", MemoryMB: 1024, Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "body_divchain", WAT: "body_divchain", Want: []Outcome{Timeout}, Finding: findBody},
	{Name: "gen_divchain", Gen: GenDivChain, Want: []Outcome{Timeout, InvalidModule}, Finding: findBody},
	{Name: "gen_straightline", Gen: GenStraightLine, Want: []Outcome{Timeout, InvalidModule}, Finding: findBody},

	// Host-call and WASI loops.
	{Name: "hostloop_output", WAT: "hostloop_output", Want: []Outcome{ResourceExhausted}, Finding: findHost},
	{Name: "hostloop_password", WAT: "hostloop_password", Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "hostloop_sql_pg", WAT: "hostloop_sql_pg", DB: "postgres", Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "hostloop_sql_mysql", WAT: "hostloop_sql_mysql", DB: "mysql", Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "hostloop_log_empty", WAT: "hostloop_log_empty", Want: []Outcome{Timeout, ResourceExhausted}, Finding: findHost},
	{Name: "hostloop_log", WAT: "hostloop_log", Want: []Outcome{ResourceExhausted}, Finding: findBaseline},
	{Name: "hostloop_flood", WAT: "hostloop_flood", Want: []Outcome{ResourceExhausted}, Finding: findBaseline},
	{Name: "wasi_random", WAT: "wasi_random", Want: []Outcome{ResourceExhausted}, Finding: findHost},
	{Name: "wasi_read_iovecs", WAT: "wasi_read_iovecs", MemoryMB: 1024, Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "wasi_path_huge", WAT: "wasi_path_huge", MemoryMB: 64, Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "wasi_poll_huge", WAT: "wasi_poll_huge", MemoryMB: 64, Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "wasi_iovecs", WAT: "wasi_iovecs", Want: []Outcome{Timeout, ResourceExhausted}, Finding: findHost},
	{Name: "wasi_emptylines", WAT: "wasi_emptylines", Want: []Outcome{Timeout, ResourceExhausted}, Finding: findHost},

	// Instantiation.
	{Name: "init_endless", WAT: "init_endless", Stage: Init, Want: []Outcome{InvalidModule, Timeout}, Finding: findInit},
	{Name: "init_long", WAT: "init_long", Stage: Init, Want: []Outcome{InvalidModule, Timeout}, Finding: findInit},
	{Name: "init_calltree", WAT: "init_calltree", Stage: Init, Want: []Outcome{InvalidModule, Timeout}, Finding: findInit},
	{Name: "start_endless", WAT: "start_endless", Stage: Init, Want: []Outcome{InvalidModule, Timeout}, Finding: findInit},
	{Name: "start_calltree", WAT: "start_calltree", Stage: Init, Want: []Outcome{InvalidModule, Timeout}, Finding: findInit},

	// Memory and tables, under a 16 MiB memory limit.
	// memory_grow reaches its cap in microseconds; on a starved machine
	// (CI beside other test binaries) the 200 ms deadline came first once.
	{Name: "memory_grow", WAT: "memory_grow", MemoryMB: 16, Want: []Outcome{ResourceExhausted, Timeout}, Finding: findMemory},
	{Name: "memory_declared_huge", WAT: "memory_declared_huge", MemoryMB: 16, Stage: Init, Want: []Outcome{InvalidModule, ResourceExhausted}, Finding: findMemory},
	{Name: "table_declared_huge", WAT: "table_declared_huge", MemoryMB: 16, Stage: Init, Heavy: true, Want: []Outcome{InvalidModule, ResourceExhausted}, Finding: findTables},
	{Name: "table_grow", WAT: "table_grow", MemoryMB: 16, Heavy: true, Want: []Outcome{ResourceExhausted}, Finding: findTables},
	{Name: "table_grow_max", WAT: "table_grow_max", MemoryMB: 16, Heavy: true, Want: []Outcome{ResourceExhausted}, Finding: findTables},
	{Name: "table_many", WAT: "table_many", MemoryMB: 16, Stage: Init, Heavy: true, Want: []Outcome{InvalidModule, ResourceExhausted}, Finding: findTables},

	// Compile bombs: a few MB each.
	{Name: "bomb_nesting", Gen: GenNesting, Stage: Compile, Heavy: true, Want: []Outcome{InvalidModule}, Finding: findCompile},
	{Name: "bomb_brtable", Gen: GenBrTable, Stage: Compile, Heavy: true, Want: []Outcome{InvalidModule}, Finding: findCompile},
	{Name: "bomb_loops", Gen: GenLoops, Stage: Compile, Heavy: true, Want: []Outcome{InvalidModule}, Finding: findCompile},
	// These two may also be compiled, as long as it is quick.
	{Name: "bomb_functions", Gen: GenFunctions, Stage: Compile, Heavy: true, Want: []Outcome{InvalidModule, OK}, Finding: findCompile},
	{Name: "bomb_locals", Gen: GenLocals, Stage: Compile, Heavy: true, Want: []Outcome{InvalidModule, OK}, Finding: findCompile},

	// Go guests built with the SDK.
	{Name: "go_calltree", Go: "calltree", Input: `{"query":{"username":"x"},"password":"3"}`, Want: []Outcome{Timeout}, Finding: findGoGuest},
	{Name: "go_calltree_endless", Go: "calltree", Input: `{"query":{"username":"x"},"password":"5"}`, Want: []Outcome{Timeout}, Finding: findGoGuest},
	{Name: "go_bcrypt", Go: "bcrypt", Input: `{"query":{"username":"12"},"password":"hunter2"}`, Want: []Outcome{Timeout}, Finding: findGoGuest},
	{Name: "go_argon2_loop", Go: "flood", Input: `{"query":{"username":"x"},"password":"argon2"}`, Want: []Outcome{Timeout}, Finding: findHost},
	{Name: "go_output_loop", Go: "flood", Input: `{"query":{"username":"x"},"password":"output"}`, Want: []Outcome{ResourceExhausted}, Finding: findHost},
	{Name: "go_logflood", Go: "flood", Input: `{"query":{"username":"x"},"password":"log"}`, Want: []Outcome{ResourceExhausted}, Finding: findBaseline},
	{Name: "go_emptylines", Go: "flood", Input: `{"query":{"username":"x"},"password":"emptylines"}`, Want: []Outcome{Timeout, ResourceExhausted}, Finding: findHost},
	{Name: "go_panic", Go: "flood", Input: `{"query":{"username":"x"},"password":"panic"}`, Want: []Outcome{ConnectorError}, Finding: findBaseline},
	{Name: "go_panicloop", Go: "flood", Input: `{"query":{"username":"x"},"password":"panicloop"}`, Want: []Outcome{Timeout}, Finding: findGoGuest},
	{Name: "go_churn", Go: "flood", Input: `{"query":{"username":"x"},"password":"churn"}`, Want: []Outcome{Timeout, ResourceExhausted}, Finding: findGoGuest},
	// examples/static checks passwords with in-guest bcrypt (cost 10): it
	// may finish in time or not, but never overrun.
	{Name: "example_static_login", Example: "static", Input: `{"query":{"email":"alice@example.com"},"password":"wonderland"}`, Want: []Outcome{OK, Timeout}, Finding: findGoGuest},
	// The issue saw it overrun a 50 ms limit by up to 700 ms.
	{Name: "example_static_login_50ms", Example: "static", Timeout: 50 * time.Millisecond, Input: `{"query":{"email":"alice@example.com"},"password":"wonderland"}`, Want: []Outcome{OK, Timeout}, Finding: findGoGuest},
}

// Corpus returns every case, or those whose name matches
// SLUICE_HOSTILE_ONLY.
func Corpus() []Case {
	only := os.Getenv("SLUICE_HOSTILE_ONLY")
	if only == "" {
		return slices.Clone(corpus)
	}
	re, err := regexp.Compile(only)
	if err != nil {
		panic("SLUICE_HOSTILE_ONLY: " + err.Error())
	}
	var out []Case
	for _, c := range corpus {
		if re.MatchString(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// Lookup returns the case named name.
func Lookup(name string) (Case, bool) {
	for _, c := range corpus {
		if c.Name == name {
			return c, true
		}
	}
	return Case{}, false
}

// Describe is a one-line summary of the case for logs.
func (c Case) Describe() string {
	want := make([]string, len(c.Want))
	for i, o := range c.Want {
		want[i] = string(o)
	}
	return c.Name + " (" + c.Finding + "; want " + strings.Join(want, " or ") + ")"
}
