package password

import (
	"encoding/json"
	"fmt"

	"github.com/sluice-dev/sluice/guest-sdk/internal/jsonx"
	"github.com/sluice-dev/sluice/guest-sdk/sluice"
)

// Algorithms Hash makes; ABI.md gives their parameters.
const (
	Argon2id           = "argon2id"
	Argon2i            = "argon2i"
	Bcrypt             = "bcrypt"
	Scrypt             = "scrypt"
	PBKDF2SHA256       = "pbkdf2-sha256" // passlib's $pbkdf2-sha256$
	PBKDF2SHA512       = "pbkdf2-sha512"
	PBKDF2SHA1         = "pbkdf2-sha1"   // passlib's $pbkdf2$
	DjangoPBKDF2SHA256 = "pbkdf2_sha256" // Django's pbkdf2_sha256$
	DjangoPBKDF2SHA1   = "pbkdf2_sha1"
	SHA512Crypt        = "sha512-crypt"
	SHA256Crypt        = "sha256-crypt"
)

// Digest describes a plain single-pass digest whose scheme cannot be told
// from the stored string:
//
//	md5(password), hex:          Digest{Algorithm: "md5"}
//	sha256(salt+password), hex:  Digest{Algorithm: "sha256", Salt: s, SaltPosition: "prefix"}
//	sha1(password+salt), base64: Digest{Algorithm: "sha1", Encoding: "base64", Salt: s, SaltPosition: "suffix"}
type Digest struct {
	// Algorithm is md5, sha1, sha256 or sha512.
	Algorithm string `json:"algorithm"`
	// Encoding of the stored digest: hex (default) or base64.
	Encoding string `json:"encoding,omitempty"`
	// Salt as stored; empty for an unsalted digest.
	Salt string `json:"salt,omitempty"`
	// SaltEncoding: raw (default: the string's bytes), hex or base64.
	SaltEncoding string `json:"saltEncoding,omitempty"`
	// SaltPosition: prefix (salt+password), suffix (password+salt) or
	// none. Required when Salt is set.
	SaltPosition string `json:"saltPosition,omitempty"`
}

type verifyRequest struct {
	Hash     string  `json:"hash"`
	Password string  `json:"password"`
	Digest   *Digest `json:"digest,omitempty"`
}

type verifyResult struct {
	Valid bool `json:"valid"`
}

// Verify reports whether pw matches hash, recognising the hash's format.
func Verify(hash, pw string) (bool, error) {
	return verify(verifyRequest{Hash: hash, Password: pw})
}

// VerifyDigest reports whether pw matches the plain digest hash made as
// spec says.
func VerifyDigest(spec Digest, hash, pw string) (bool, error) {
	return verify(verifyRequest{Hash: hash, Password: pw, Digest: &spec})
}

func verify(req verifyRequest) (bool, error) {
	var body any = req
	if req.Digest == nil {
		// The usual request, written as json.Marshal writes it.
		b := append(make([]byte, 0, 32+len(req.Hash)+len(req.Password)), `{"hash":`...)
		b = jsonx.AppendString(b, req.Hash, true)
		b = append(b, `,"password":`...)
		b = jsonx.AppendString(b, req.Password, true)
		body = json.RawMessage(append(b, '}'))
	}
	var raw json.RawMessage
	if err := sluice.HostCall("password.verify", body, &raw); err != nil {
		return false, err
	}
	switch string(raw) {
	case `{"valid":true}`:
		return true, nil
	case `{"valid":false}`:
		return false, nil
	}
	var res verifyResult
	if err := json.Unmarshal(raw, &res); err != nil {
		return false, fmt.Errorf("sluice: host call password.verify: decode result: %w", err)
	}
	return res.Valid, nil
}

// Hash returns a new hash of pw made with algorithm (Argon2id, Bcrypt,
// ...) and a random salt.
func Hash(algorithm, pw string) (string, error) {
	var res struct {
		Hash string `json:"hash"`
	}
	err := sluice.HostCall("password.hash", map[string]string{"algorithm": algorithm, "password": pw}, &res)
	if err != nil {
		return "", err
	}
	return res.Hash, nil
}
