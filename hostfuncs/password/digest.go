package password

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// Digest describes a plain, optionally salted, single-pass digest whose
// scheme cannot be told from the stored string (a bare hex or base64 value).
// The connector, which knows its legacy database, says how it was made:
//
//	md5(password), hex:              {"algorithm":"md5"}
//	sha256(salt+password), hex:      {"algorithm":"sha256","salt":"s4lt","saltPosition":"prefix"}
//	sha1(password+salt), base64:     {"algorithm":"sha1","encoding":"base64","salt":"s4lt","saltPosition":"suffix"}
//	sha512(password+salt), salt hex: {"algorithm":"sha512","salt":"a1b2","saltEncoding":"hex","saltPosition":"suffix"}
//
// The digest is computed over the bytes salt+password (prefix) or
// password+salt (suffix), the password taken as its UTF-8 bytes.
type Digest struct {
	// Algorithm is md5, sha1, sha256 or sha512.
	Algorithm string `json:"algorithm"`
	// Encoding of the stored digest: hex (default; either case) or base64
	// (standard alphabet, padding optional; URL-safe also accepted).
	Encoding string `json:"encoding,omitempty"`
	// Salt as stored alongside the user; empty for an unsalted digest.
	Salt string `json:"salt,omitempty"`
	// SaltEncoding says how Salt turns into bytes: raw (default: the string's
	// own bytes), hex or base64.
	SaltEncoding string `json:"saltEncoding,omitempty"`
	// SaltPosition is prefix (salt+password), suffix (password+salt) or none.
	// It is required when Salt is set; empty means none otherwise.
	SaltPosition string `json:"saltPosition,omitempty"`
}

// VerifyDigest reports whether password matches encoded under spec. A wrong
// password is (false, nil); a bad spec is ErrInvalidSpec; an encoded value
// that does not decode or has the wrong length for the algorithm is
// ErrMalformed.
func VerifyDigest(spec Digest, encoded, password string) (bool, error) {
	h := digestFunc(strings.ToLower(spec.Algorithm))
	if h == nil {
		return false, fmt.Errorf("%w: algorithm %q (want md5, sha1, sha256 or sha512)", ErrInvalidSpec, spec.Algorithm)
	}
	salt, err := decodeSalt(spec.Salt, strings.ToLower(spec.SaltEncoding))
	if err != nil {
		return false, err
	}
	pos := strings.ToLower(spec.SaltPosition)
	switch {
	case pos == "" && len(salt) == 0, pos == "none":
		salt = nil
		pos = "none"
	case pos == "":
		return false, fmt.Errorf("%w: salt given without saltPosition (prefix or suffix)", ErrInvalidSpec)
	case pos != "prefix" && pos != "suffix":
		return false, fmt.Errorf("%w: saltPosition %q (want prefix, suffix or none)", ErrInvalidSpec, spec.SaltPosition)
	}
	var want []byte
	switch strings.ToLower(spec.Encoding) {
	case "", "hex":
		want, err = hex.DecodeString(strings.TrimSpace(encoded))
		if err != nil {
			return false, fmt.Errorf("%w: bad hex: %v", ErrMalformed, err)
		}
	case "base64":
		want, err = decodeB64Any(strings.TrimSpace(encoded))
		if err != nil {
			return false, err
		}
	default:
		return false, fmt.Errorf("%w: encoding %q (want hex or base64)", ErrInvalidSpec, spec.Encoding)
	}
	d := h()
	if len(want) != d.Size() {
		return false, fmt.Errorf("%w: %d bytes, %s has %d", ErrMalformed, len(want), spec.Algorithm, d.Size())
	}
	if pos == "prefix" {
		d.Write(salt)
	}
	d.Write([]byte(password))
	if pos == "suffix" {
		d.Write(salt)
	}
	return equal(d.Sum(nil), want), nil
}

func decodeSalt(s, enc string) ([]byte, error) {
	switch enc {
	case "", "raw":
		return []byte(s), nil
	case "hex":
		b, err := hex.DecodeString(s)
		if err != nil {
			return nil, fmt.Errorf("%w: salt is not hex: %v", ErrInvalidSpec, err)
		}
		return b, nil
	case "base64":
		b, err := decodeB64Any(s)
		if err != nil {
			return nil, fmt.Errorf("%w: salt is not base64", ErrInvalidSpec)
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: saltEncoding %q (want raw, hex or base64)", ErrInvalidSpec, enc)
}

// decodeB64Any accepts standard or URL-safe base64, padded or not.
func decodeB64Any(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64: %v", ErrMalformed, err)
	}
	return b, nil
}

// ---- RFC 2307 / OpenLDAP schemes: {SHA}, {SSHA}, {SSHA256}, ... ----

func (l verifier) verifyLDAP(e, password string, depth int) (bool, error) {
	end := strings.IndexByte(e, '}')
	if end < 0 {
		return false, fmt.Errorf("%w: '{' without '}'", ErrUnknownFormat)
	}
	scheme, value := strings.ToUpper(e[1:end]), e[end+1:]
	var alg string
	salted := false
	switch scheme {
	case "CRYPT":
		return l.verify(value, password, depth+1)
	case "PKCS5S2":
		// Atlassian: base64(16-byte salt + 32-byte PBKDF2-HMAC-SHA1 key), 10000 iterations.
		raw, err := decodeB64Any(value)
		if err != nil {
			return false, err
		}
		if len(raw) != 48 {
			return false, fmt.Errorf("%w: {PKCS5S2} has %d bytes, want 48", ErrMalformed, len(raw))
		}
		return l.pbkdf2Check(password, sha1.New, raw[:16], 10000, raw[16:])
	case "MD5", "SHA", "SHA256", "SHA512":
		alg = scheme
	case "SMD5", "SSHA", "SSHA256", "SSHA512":
		alg, salted = scheme[1:], true
	default:
		return false, fmt.Errorf("%w: LDAP scheme {%s}", ErrUnknownFormat, scheme)
	}
	if alg == "SHA" {
		alg = "SHA1"
	}
	h := digestFunc(strings.ToLower(alg))
	raw, err := decodeB64Any(value)
	if err != nil {
		return false, err
	}
	size := h().Size()
	if (!salted && len(raw) != size) || (salted && len(raw) <= size) {
		return false, fmt.Errorf("%w: {%s} value has %d bytes", ErrMalformed, scheme, len(raw))
	}
	d := h()
	d.Write([]byte(password))
	d.Write(raw[size:]) // the salt follows the digest
	return equal(d.Sum(nil), raw[:size]), nil
}

// ---- Django's algorithm$... encodings ----

func (l verifier) verifyDjango(alg, rest, password string, depth int) (bool, error) {
	switch alg {
	case "pbkdf2_sha256", "pbkdf2_sha1":
		f := strings.Split(rest, "$")
		if len(f) != 3 {
			return false, fmt.Errorf("%w: %s field count", ErrMalformed, alg)
		}
		iter, err := parseUint(f[0])
		if err != nil {
			return false, err
		}
		want, err := base64.StdEncoding.DecodeString(f[2])
		if err != nil {
			return false, fmt.Errorf("%w: %s hash: %v", ErrMalformed, alg, err)
		}
		// Django uses the salt text itself as the salt bytes.
		return l.pbkdf2Check(password, pbkdf2Digest(strings.TrimPrefix(alg, "pbkdf2_")), []byte(f[1]), iter, want)
	case "argon2":
		if depth > 0 {
			return false, fmt.Errorf("%w: nested wrapper", ErrMalformed)
		}
		return l.verifyArgon2("$"+rest, password)
	case "bcrypt":
		return l.verifyBcrypt(rest, []byte(password))
	case "bcrypt_sha256":
		// Django hashes the password with SHA-256 and bcrypts its hex form.
		sum := sha256.Sum256([]byte(password))
		return l.verifyBcrypt(rest, []byte(hex.EncodeToString(sum[:])))
	case "scrypt":
		// scrypt$N$salt$r$p$base64(64-byte key)
		f := strings.Split(rest, "$")
		if len(f) != 5 {
			return false, fmt.Errorf("%w: scrypt field count", ErrMalformed)
		}
		var nrp [3]int64
		for i, s := range []string{f[0], f[2], f[3]} {
			v, err := parseUint(s)
			if err != nil {
				return false, err
			}
			nrp[i] = v
		}
		n := nrp[0]
		if n < 2 || n&(n-1) != 0 {
			return false, fmt.Errorf("%w: scrypt N=%d is not a power of two", ErrMalformed, n)
		}
		logN := int64(0)
		for ; n > 1; n >>= 1 {
			logN++
		}
		if err := l.checkScrypt(logN, nrp[1], nrp[2]); err != nil {
			return false, err
		}
		want, err := base64.StdEncoding.DecodeString(f[4])
		if err != nil || len(want) == 0 || len(want) > maxKeyLen {
			return false, fmt.Errorf("%w: scrypt hash", ErrMalformed)
		}
		got, err := l.scryptKey(password, []byte(f[1]), logN, nrp[1], nrp[2], len(want))
		if err != nil {
			return false, err
		}
		return equal(got, want), nil
	case "sha1", "md5":
		// sha1$salt$hex(sha1(salt+password)); an empty salt is Django's
		// unsalted_sha1 / unsalted_md5 alternative form.
		salt, sum, ok := strings.Cut(rest, "$")
		if !ok {
			return false, fmt.Errorf("%w: %s layout", ErrMalformed, alg)
		}
		spec := Digest{Algorithm: alg, Salt: salt, SaltPosition: "prefix"}
		return VerifyDigest(spec, sum, password)
	}
	return false, fmt.Errorf("%w: %q", ErrUnknownFormat, alg)
}
