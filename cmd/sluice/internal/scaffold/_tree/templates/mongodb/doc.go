// Command mongodb is a Sluice connector template for a legacy users
// collection on MongoDB (init.js). It implements all eight connector
// functions, so it serves both LAZY_MIGRATION and CUSTOM_USER_STORE. The
// host connects to the connection's database and checks and makes the
// bcrypt password hashes; USERS_COLLECTION names the collection ("users"
// by default). See README.md.
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o mongodb.wasm .
package main
