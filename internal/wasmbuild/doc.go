// Package wasmbuild builds Go connector sources into WASI reactor modules
// for tests, benchmarks and the command line's examples, and C connector
// sources (a directory with a build.sh, such as examples/c) with clang.
//
// Builds are cached by a hash of the sources (the module holding the
// package, every local replace target, and the Go version; for C the
// .c, .h and build.sh files and clang's version), so a test run rebuilds
// a guest only when its code changed.
package wasmbuild
