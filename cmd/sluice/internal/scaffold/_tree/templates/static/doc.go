// Command static is a demo Sluice connector that serves a fixed list of
// four users from memory. It implements all eight connector functions;
// createUser, updateUser and deleteUser change only the memory of the
// instance that runs them. See README.md for the users and their
// passwords.
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o static.wasm .
package main
