// Package listusers exports the connector function listUsers.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		listusers.Handle(func(ctx context.Context, in sluice.ListUsersInput) (*sluice.UserList, error) {
//			...
//		})
//	}
//
// A module exports listUsers exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package listusers
