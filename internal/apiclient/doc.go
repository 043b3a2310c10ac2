// Package apiclient is a Go client of Sluice's HTTP API, generated from
// api/openapi.yaml by oapi-codegen (a tool of this module: go tool
// oapi-codegen). It exists to prove that the document is one a client
// can be generated from and used with: TestClientIsGenerated checks that
// client.gen.go is what the document generates, and the api package's
// tests run a whole lazy migration through it; sluice deploy uploads and
// activates versions with it. Regenerate with
// go generate ./internal/apiclient after changing the document.
package apiclient

//go:generate go tool oapi-codegen -generate types,client -package apiclient -o client.gen.go ../../api/openapi.yaml
