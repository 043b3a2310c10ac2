// Package updateuser exports the connector function updateUser.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		updateuser.Handle(func(ctx context.Context, in sluice.UpdateUserInput) (*sluice.User, error) {
//			...
//		})
//	}
//
// A module exports updateUser exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package updateuser
