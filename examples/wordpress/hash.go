package main

import (
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/sluice-dev/sluice/guest-sdk/password"
)

// WordPress 6.8 (wp-includes/pluggable.php, wp_hash_password and
// wp_check_password) stores bcrypt hashes of a pre-hash, marked "$wp":
//
//	'$wp' . password_hash( base64_encode( hash_hmac( 'sha384', trim( $password ), 'wp-sha384', true ) ), PASSWORD_BCRYPT )
//
// The pre-hash keeps the entropy of passwords over bcrypt's 72 bytes.
// The HMAC runs here, in the guest (it is cheap); bcrypt runs on the host.
const (
	wpPrefix  = "$wp"
	wpHMACKey = "wp-sha384"
	// maxPassword is WordPress's limit: longer passwords never match.
	maxPassword = 4096
)

// preHash is WordPress 6.8's bcrypt input for pw.
func preHash(pw string) string {
	m := hmac.New(sha512.New384, []byte(wpHMACKey))
	m.Write([]byte(pw))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// phpTrim is PHP's trim(): it strips " \t\n\r\0\x0B" at both ends.
func phpTrim(s string) string { return strings.Trim(s, " \t\n\r\x00\x0B") }

// hashPassword makes the hash WordPress 6.8 writes for pw: "$wp" and a
// bcrypt hash (cost 10, PHP's default before 8.4) of the pre-hash of the
// trimmed password, marked $2y$ as PHP's password_hash marks it (the
// host writes $2a$; for the pre-hash's ASCII bytes the two compute the
// same hash, and PHP's password_needs_rehash knows only $2y$).
func hashPassword(pw string) (string, error) {
	h, err := password.Hash(password.Bcrypt, preHash(phpTrim(pw)))
	if err != nil {
		return "", err
	}
	if rest, ok := strings.CutPrefix(h, "$2a$"); ok {
		h = "$2y$" + rest
	} else if !strings.HasPrefix(h, "$2y$") && !strings.HasPrefix(h, "$2b$") {
		return "", fmt.Errorf("the host's bcrypt hash %.4s... is not $2a$/$2b$/$2y$", h)
	}
	return wpPrefix + h, nil
}

// dummyHash is a WordPress 6.8 hash of no one's password, of the kind
// and cost hashPassword writes (bcrypt cost 10): what a login checks the
// password against when there is no user or no password, so that every
// login costs one bcrypt run.
const dummyHash = "$wp$2y$10$oacs42EsGsdkTsgW.4XF2uQQp1K9rOIToQX3C8f3lXKnwe8ZVm1sK"

// checkPassword checks pw against a stored user_pass as
// wp_check_password does: an MD5 hex digest (32 characters or fewer, as
// phpMyAdmin sets one), "$wp" bcrypt, phpass ($P$), else any format the
// host recognises (plain bcrypt from plugins, argon2 ...). The password
// is trimmed first, as wp_authenticate does before it calls
// wp_check_password (and as every WordPress hash was made). An empty hash,
// "*" or another marker of no password matches nothing: pw is checked
// against dummyHash instead, so the answer takes as long as for a wrong
// password.
func checkPassword(id, hash, pw string) (bool, error) {
	pw = phpTrim(pw)
	if len(pw) > maxPassword {
		return false, nil
	}
	if len(hash) <= 32 && (len(hash) != 32 || !isHex(hash)) {
		_, err := password.Verify(dummyHash[len(wpPrefix):], preHash(pw))
		return false, err
	}
	var ok bool
	var err error
	switch {
	case len(hash) <= 32:
		ok, err = password.VerifyDigest(password.Digest{Algorithm: "md5"}, hash, pw)
	case strings.HasPrefix(hash, wpPrefix):
		ok, err = password.Verify(hash[len(wpPrefix):], preHash(pw))
	default:
		ok, err = password.Verify(hash, pw)
	}
	if err != nil {
		// A bad stored hash is the table's fault, not the caller's input:
		// report it as a connector error (no %w, so the code is dropped).
		return false, fmt.Errorf("checking the password hash of user %s: %v", id, err)
	}
	return ok, nil
}

func isHex(s string) bool {
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
