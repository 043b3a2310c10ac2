// Package login exports the connector function login.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		login.Handle(func(ctx context.Context, in sluice.LoginInput) (*sluice.User, error) {
//			...
//		})
//	}
//
// A module exports login exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package login
