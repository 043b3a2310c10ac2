// Package jsrt is Sluice's JavaScript connector runtime as the server
// sees it: the runtime module (a WASI reactor built from the Go source
// in runtime/ with the guest SDK and the goja JavaScript engine,
// committed gzipped as runtime.wasm.gz and embedded here, so a server
// needs no Go toolchain), how a script reaches an instance (its
// environment), and what an upload learns of a script (Inspection).
//
// Rebuild the module after changing runtime/ with `go generate
// ./internal/jsrt`; TestModuleMatchesSource fails until it is.
package jsrt
