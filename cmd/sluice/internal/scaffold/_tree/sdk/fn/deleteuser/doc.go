// Package deleteuser exports the connector function deleteUser.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		deleteuser.Handle(func(ctx context.Context, in sluice.DeleteUserInput) error {
//			...
//		})
//	}
//
// A module exports deleteUser exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package deleteuser
