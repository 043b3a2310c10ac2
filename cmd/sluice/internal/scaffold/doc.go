// Package scaffold writes the connector modules `sluice new` makes: a
// template (one per examples/NAME directory of the repository), a copy of
// the guest SDK and of the few third-party packages the template uses,
// all embedded in the sluice binary, so the module builds and tests with
// no module proxy and no network.
//
// The embedded tree (_tree) is generated from the repository's sources by
// go generate (./gen); TestTreeIsGenerated fails when it drifts from them.
// A Go template's go.mod gets the author's module path and a replace of
// every dependency by its copy under .sluice/ in the new module.
package scaffold

//go:generate go run ./gen
