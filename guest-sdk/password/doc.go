// Package password checks and makes password hashes through the host,
// natively: hashing in wasm is several times slower and would eat the
// call's time limit.
//
// Verify recognises the stored hash's format by itself: bcrypt ($2a$,
// $2b$, $2y$), argon2 ($argon2id$, $argon2i$, $argon2d$), scrypt, yescrypt,
// PBKDF2 (passlib, PHC, Atlassian {PKCS5S2}), phpass ($P$, $H$), SHA-crypt
// ($5$, $6$), MD5-crypt ($1$, $apr1$), Django's forms and LDAP's {SSHA}
// and friends. A bare hex or base64 digest carries no mark of its scheme:
// describe it with a Digest and use VerifyDigest.
//
//	ok, err := password.Verify(row.PasswordHash, in.Password)
//	if err != nil {
//		return nil, err // invalid_input: the hash is unknown or damaged
//	}
//	if !ok {
//		return nil, sluice.ErrWrongPassword
//	}
//
// Before a login answers user_not_found, check the password against a
// fixed dummy hash of the same kind and cost as the store's, so that
// the answer's time does not tell whether the user exists (ABI.md,
// "Password host calls"):
//
//	if row == nil {
//		password.Verify(dummyHash, in.Password) // as long as a wrong password
//		return nil, sluice.ErrUserNotFound
//	}
//
// Hash makes a new hash with a random salt, for createUser and updateUser:
// password.Hash(password.Argon2id, pw).
//
// A wrong password is (false, nil). A hash the host cannot use is an
// *sluice.Error with code invalid_input; one whose work factor is over
// the host's limits (a bcrypt cost over 15, argon2 memory over 256 MiB,
// ...) has code resource_exhausted.
package password
