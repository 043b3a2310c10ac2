// Command webservice is a Sluice connector template for a legacy user
// service behind a REST API (README.md documents the API it expects). It
// implements all eight connector functions, so it serves both
// LAZY_MIGRATION and CUSTOM_USER_STORE. The service checks and hashes
// passwords itself; DB_CONNECTION_URI is its base URL and API_KEY, when
// set, is sent as the X-API-Key header.
//
// Build it as a WASI reactor:
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -trimpath -o webservice.wasm .
package main
