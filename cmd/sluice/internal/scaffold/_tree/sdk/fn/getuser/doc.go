// Package getuser exports the connector function getUser.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		getuser.Handle(func(ctx context.Context, in sluice.GetUserInput) (*sluice.User, error) {
//			...
//		})
//	}
//
// A module exports getUser exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package getuser
