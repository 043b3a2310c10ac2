// Package searchuser exports the connector function searchUser.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		searchuser.Handle(func(ctx context.Context, in sluice.SearchUserInput) (*sluice.UserList, error) {
//			...
//		})
//	}
//
// A module exports searchUser exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package searchuser
