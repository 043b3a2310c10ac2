// Package userflow implements the identity platform's user flows on top of
// a connection's connector, in the two modes of docs/contract.md:
//
//   - LAZY_MIGRATION: users are verified locally when they are in the local
//     store; a user who is not is verified by the connector's login, then
//     saved locally with a fresh argon2id hash of the password just typed,
//     and never sent to the connector again. FinishMigration imports the
//     profiles of users who never logged in, without passwords. The mode
//     fails closed (a registration is refused while getUser cannot
//     answer), deleted users leave tombstones and never migrate again,
//     and each local user keeps the connector's id as its ExternalID:
//     docs/lazy-migration.md is the threat model.
//   - CUSTOM_USER_STORE: every operation goes to the connector and nothing
//     of the user is kept locally.
//
// Inputs are validated before any connector runs, connector results are
// checked before they are returned, and every flow is written to the
// audit log (never a password). A failed connector call is a
// *ConnectorError holding the full error; the flows' callers get Public:
// its code and a plain message per code, while the audit entry keeps the
// Detail.
package userflow
