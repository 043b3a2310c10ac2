// Package validatepassword exports the connector function validatePassword.
//
// Importing it and calling Handle in an init function is all it takes:
//
//	func init() {
//		validatepassword.Handle(func(ctx context.Context, in sluice.ValidatePasswordInput) (bool, error) {
//			...
//		})
//	}
//
// A module exports validatePassword exactly when it links this package in. Until
// Handle is called, the export answers not_implemented.
package validatepassword
