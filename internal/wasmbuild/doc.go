// Package wasmbuild builds Go connector sources into WASI reactor modules
// for tests, benchmarks and the command line's examples.
//
// Builds are cached by a hash of the sources (the module holding the
// package, every local replace target, and the Go version), so a test run
// rebuilds a guest only when its code changed.
package wasmbuild
