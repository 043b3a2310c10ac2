// Package hostile is the hostile-module corpus of the issue "Make the
// sandbox hold", and the harness that runs it in the engine, CLI and API
// tests and benchmarks.
//
// The corpus (Corpus) is one Case per attack shape: WAT sources in
// engine/testdata/hostile (built with wabt's wat2wasm into .cache/hostile),
// Go guests in engine/testdata/hostile/go (built with internal/wasmbuild),
// and modules generated here (compile bombs and very long loop bodies,
// which would be megabytes of text). Each Case says which outcomes contain
// it (timeout, resource_exhausted, invalid_module at upload, ...).
//
// A guest that never returns to Go freezes the whole Go process: a
// stop-the-world garbage collection waits for it forever, and with it
// every goroutine, timers and test timeouts included. So Isolated runs each
// attack in a child process (the test binary itself, re-run on one test or
// benchmark), under an address-space limit (some shapes allocate tens of
// GiB today) and a watchdog in the parent that kills a child that does not
// finish: a hang fails the test instead of freezing it.
//
// Knobs (environment):
//
//	SLUICE_HOSTILE_BOUND       how far past its deadline a call may end, and the longest stall (1s)
//	SLUICE_HOSTILE_HEALTHZ_BOUND  how long GET /healthz may take during an attack (1s)
//	SLUICE_HOSTILE_LOAD_BOUND  how long refusing or loading a module may take (3s)
//	SLUICE_HOSTILE_WATCHDOG    how long a child's attack may run before it is killed (12s; 120s for benchmarks)
//	SLUICE_HOSTILE_PREP        how long a child may prepare (build, compile, start a server) before its attack (5m)
//	SLUICE_HOSTILE_AS_LIMIT    the child's address-space limit (6GiB; "unlimited" to lift it)
//	SLUICE_HOSTILE_INPROCESS   1: run attacks in the test process itself (debugging only)
//	SLUICE_HOSTILE_RUNS        runs per shape in the deadline benchmark (10)
//	SLUICE_HOSTILE_ATTACKERS   concurrent attacker calls in the neighbour benchmarks (2)
//	SLUICE_HOSTILE_RATE        the attacking tenant's callsPerMinute in the server tests (1000000)
//	SLUICE_HOSTILE_UPLOAD_RATE the attacking tenant's uploadsPerMinute in the server tests (10)
//	SLUICE_HOSTILE_FLOOD       1: the HTTP neighbour benchmark's attackers ignore Retry-After
//	SLUICE_HOSTILE_ONLY        a regexp: run only the cases whose name matches
//	SLUICE_HOSTILE_ROUNDS      alone-then-attack rounds in the HTTP neighbour benchmark (3)
//	SLUICE_HOSTILE_TRACE       a directory: the HTTP neighbour benchmark writes a runtime trace there for slow /healthz probes
//	SLUICE_HOSTILE_TRACE_OVER  how slow a probe must be for that (60ms)
package hostile
