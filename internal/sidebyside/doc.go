// Package sidebyside measures what tenants run against what they would
// write instead (issue 10): the shipped examples/postgres template inside
// a real `sluice serve`, a Go net/http + pgx server (goserver) and a Node
// http + pg.Pool server (nodeserver) doing the same SQL on one PostgreSQL
// table of 10 000 users, driven by one closed-loop load generator (Run).
//
// BenchmarkSideBySide builds and starts all three servers itself (Node's
// pg comes from the npm registry through `npm ci` into .cache/), runs the
// servers in turn (A, B, C, A, B, C, ...) so that the shared machine's
// noise hits all alike, and prints a Markdown table: calls per second,
// CPU time of the server process per call (from /proc/PID/stat), p50 and
// p99, and the ratios to the Go server. `make bench BENCH=SideBySide
// BENCHPKG=./internal/sidebyside` runs it alone; `make test` never does
// (it runs no benchmarks). SLUICE_SIDEBYSIDE_DURATION (5s),
// SLUICE_SIDEBYSIDE_ROUNDS (2) and SLUICE_SIDEBYSIDE_CLIENTS (16,64) size
// it; SLUICE_SIDEBYSIDE_PERF=DIR records a perf profile of the Sluice
// process during each of its runs into DIR, BenchmarkJavaScript's too
// (figures then carry perf's overhead).
package sidebyside
