// Package createuser exports the connector function createUser.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		createuser.Handle(func(ctx context.Context, in sluice.CreateUserInput) (*sluice.User, error) {
//			...
//		})
//	}
//
// A module exports createUser exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package createuser
