// Test guests for the engine, written against the raw guest ABI
// (guest-sdk/ABI.md) so they do not depend on the Go SDK.
module sluice.test/guests

go 1.24
