package password

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strconv"
	"strings"

	xargon2 "github.com/go-crypt/x/argon2"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// Parameters of the hashes Hash produces.
const (
	bcryptCost = 10

	argon2Memory  = 64 * 1024 // KiB: 64 MiB
	argon2Time    = 3
	argon2Threads = 4
	argon2SaltLen = 16
	argon2KeyLen  = 32

	scryptLogN    = 16 // N = 65536: 64 MiB with r = 8
	scryptR       = 8
	scryptP       = 1
	scryptSaltLen = 16
	scryptKeyLen  = 32

	pbkdf2Iterations = 600_000
	pbkdf2SaltLen    = 16

	maxKeyLen = 1024 // longest derived key / checksum accepted from a hash

	bcryptMemory = 4 << 10 // bcrypt's state, for the hashing budget
)

// ---- bcrypt ----

func (l verifier) verifyBcrypt(e string, pw []byte) (bool, error) {
	if len(e) < 7 || e[0] != '$' || e[1] != '2' {
		return false, fmt.Errorf("%w: bcrypt prefix", ErrMalformed)
	}
	switch e[2] {
	case 'a', 'b', 'y':
	case 'x', '$':
		return false, fmt.Errorf("%w: bcrypt $2%c$", ErrUnsupported, e[2])
	default:
		return false, fmt.Errorf("%w: bcrypt version", ErrMalformed)
	}
	if len(e) != 60 || e[3] != '$' || e[6] != '$' {
		return false, fmt.Errorf("%w: bcrypt length or layout", ErrMalformed)
	}
	for i := 7; i < len(e); i++ {
		if atoi64(e[i]) < 0 {
			return false, fmt.Errorf("%w: bcrypt character %q", ErrMalformed, e[i])
		}
	}
	cost, err := strconv.Atoi(e[4:6])
	if err != nil || cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return false, fmt.Errorf("%w: bcrypt cost %q", ErrMalformed, e[4:6])
	}
	if cost > l.MaxBcryptCost {
		return false, over("bcrypt cost", int64(cost), int64(l.MaxBcryptCost))
	}
	// CompareHashAndPassword compares in constant time. Like OpenBSD's, it
	// uses at most the first 72 bytes of the password.
	if rerr := l.run(bcryptMemory, func() { err = bcrypt.CompareHashAndPassword([]byte(e), pw) }); rerr != nil {
		return false, rerr
	}
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
}

func (l verifier) hashBcrypt(password string) (string, error) {
	var h []byte
	var err error
	if rerr := l.run(bcryptMemory, func() { h, err = bcrypt.GenerateFromPassword([]byte(password), bcryptCost) }); rerr != nil {
		return "", rerr
	}
	if err != nil {
		return "", fmt.Errorf("password: bcrypt: %w", err)
	}
	return string(h), nil
}

// ---- argon2 (PHC string) ----

func (l verifier) verifyArgon2(e, password string) (bool, error) {
	f := strings.Split(e, "$")
	if len(f) != 5 && len(f) != 6 {
		return false, fmt.Errorf("%w: argon2 field count", ErrMalformed)
	}
	variant := f[1]
	switch variant {
	case "argon2id", "argon2i", "argon2d":
	default:
		return false, fmt.Errorf("%w: argon2 variant %q", ErrUnsupported, variant)
	}
	rest := f[2:]
	if len(f) == 5 {
		if strings.HasPrefix(rest[0], "v=") {
			return false, fmt.Errorf("%w: argon2 field count", ErrMalformed)
		}
		// No v= field means version 0x10, which x/crypto does not implement.
		return false, fmt.Errorf("%w: argon2 version 16 (no v= field)", ErrUnsupported)
	}
	if rest[0] != "v=19" {
		if strings.HasPrefix(rest[0], "v=") {
			return false, fmt.Errorf("%w: argon2 %s", ErrUnsupported, rest[0])
		}
		return false, fmt.Errorf("%w: argon2 version field", ErrMalformed)
	}
	params, err := phcParams(rest[1], "m", "t", "p")
	if err != nil {
		return false, err
	}
	m, t, p := params[0], params[1], params[2]
	if t < 1 || p < 1 || p > 255 || m < 8*p || m > 1<<32-1 || t > 1<<32-1 {
		return false, fmt.Errorf("%w: argon2 parameters m=%d,t=%d,p=%d", ErrMalformed, m, t, p)
	}
	switch {
	case m > int64(l.MaxArgon2MemoryKiB):
		return false, over("argon2 memory KiB", m, int64(l.MaxArgon2MemoryKiB))
	case t > int64(l.MaxArgon2Time):
		return false, over("argon2 time", t, int64(l.MaxArgon2Time))
	case p > int64(l.MaxArgon2Threads):
		return false, over("argon2 threads", p, int64(l.MaxArgon2Threads))
	case m*t > 3*int64(l.MaxArgon2MemoryKiB):
		return false, over("argon2 work m*t (KiB times passes)", m*t, 3*int64(l.MaxArgon2MemoryKiB))
	}
	salt, err := decodeB64(rest[2])
	if err != nil {
		return false, err
	}
	want, err := decodeB64(rest[3])
	if err != nil {
		return false, err
	}
	if len(salt) == 0 || len(want) < 4 || len(want) > maxKeyLen {
		return false, fmt.Errorf("%w: argon2 salt or hash length", ErrMalformed)
	}
	var got []byte
	// argon2 runs its p lanes on p goroutines: they take p shares of the
	// budget's cores, or its memory, whichever is more.
	err = l.run(max(m<<10, l.Budget.share(p)), func() {
		switch variant {
		case "argon2id":
			got = argon2.IDKey([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
		case "argon2i":
			got = argon2.Key([]byte(password), salt, uint32(t), uint32(m), uint8(p), uint32(len(want)))
		default:
			got = xargon2.DKey([]byte(password), salt, uint32(t), uint32(m), uint32(p), uint32(len(want)))
		}
	})
	if err != nil {
		return false, err
	}
	return equal(got, want), nil
}

func (l verifier) hashArgon2(variant, password string) (string, error) {
	salt := randomBytes(argon2SaltLen)
	var key []byte
	err := l.run(max(argon2Memory<<10, l.Budget.share(argon2Threads)), func() {
		if variant == Argon2id {
			key = argon2.IDKey([]byte(password), salt, argon2Time, argon2Memory, argon2Threads, argon2KeyLen)
		} else {
			key = argon2.Key([]byte(password), salt, argon2Time, argon2Memory, argon2Threads, argon2KeyLen)
		}
	})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$%s$v=19$m=%d,t=%d,p=%d$%s$%s", variant, argon2Memory, argon2Time, argon2Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// phcParams parses "k1=v1,k2=v2,..." holding exactly the given keys in order,
// each a non-negative decimal integer.
func phcParams(s string, keys ...string) ([]int64, error) {
	kv := strings.Split(s, ",")
	if len(kv) != len(keys) {
		return nil, fmt.Errorf("%w: parameters %q", ErrMalformed, s)
	}
	out := make([]int64, len(keys))
	for i, f := range kv {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k != keys[i] {
			return nil, fmt.Errorf("%w: parameter %q, want %s", ErrMalformed, f, keys[i])
		}
		n, err := parseUint(v)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

// parseUint parses a decimal without sign or leading zeros, up to 2^40.
func parseUint(s string) (int64, error) {
	if s == "" || len(s) > 12 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%w: number %q", ErrMalformed, s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: number %q", ErrMalformed, s)
		}
		n = n*10 + int64(c-'0')
	}
	return n, nil
}

// ---- scrypt ----

func (l verifier) checkScrypt(logN, r, p int64) error {
	if logN < 1 || logN > 40 || r < 1 || r > 1<<20 || p < 1 || p > 1<<20 {
		return fmt.Errorf("%w: scrypt parameters ln=%d,r=%d,p=%d", ErrMalformed, logN, r, p)
	}
	if p > int64(l.MaxScryptParallel) {
		return over("scrypt p", p, int64(l.MaxScryptParallel))
	}
	// 128*N*r; logN <= 40 and r <= 2^20 cannot overflow when checked in steps.
	if logN > 31 {
		return over("scrypt memory bytes", 1<<62, l.MaxScryptMemory)
	}
	mem := 128 * r << logN
	if mem > l.MaxScryptMemory {
		return over("scrypt memory bytes", mem, l.MaxScryptMemory)
	}
	if work := mem * p; work > l.MaxScryptMemory {
		return over("scrypt work 128*N*r*p bytes", work, l.MaxScryptMemory)
	}
	return nil
}

// scryptKey runs scrypt; checkScrypt must have passed.
func (l verifier) scryptKey(password string, salt []byte, logN, r, p int64, keyLen int) ([]byte, error) {
	var k []byte
	var err error
	if rerr := l.run(128*r<<logN, func() { k, err = scrypt.Key([]byte(password), salt, 1<<logN, int(r), int(p), keyLen) }); rerr != nil {
		return nil, rerr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: scrypt: %v", ErrMalformed, err)
	}
	return k, nil
}

// verifyScryptPHC handles passlib's $scrypt$ln=..,r=..,p=..$salt$hash.
func (l verifier) verifyScryptPHC(e, password string) (bool, error) {
	f := strings.Split(e, "$")
	if len(f) != 5 {
		return false, fmt.Errorf("%w: scrypt field count", ErrMalformed)
	}
	params, err := phcParams(f[2], "ln", "r", "p")
	if err != nil {
		return false, err
	}
	if err := l.checkScrypt(params[0], params[1], params[2]); err != nil {
		return false, err
	}
	salt, err := decodeB64(f[3])
	if err != nil {
		return false, err
	}
	want, err := decodeB64(f[4])
	if err != nil {
		return false, err
	}
	if len(want) < 1 || len(want) > maxKeyLen {
		return false, fmt.Errorf("%w: scrypt hash length", ErrMalformed)
	}
	got, err := l.scryptKey(password, salt, params[0], params[1], params[2], len(want))
	if err != nil {
		return false, err
	}
	return equal(got, want), nil
}

// verifyScrypt7 handles the crypt(3) form $7$ of libxcrypt and libsodium:
// one itoa64 digit log2(N), five for r and five for p (30-bit little-endian),
// the salt as literal text, then '$' and 43 characters for a 32-byte key.
func (l verifier) verifyScrypt7(e, password string) (bool, error) {
	end := strings.LastIndexByte(e, '$')
	if end < 14 || len(e)-end-1 != 43 {
		return false, fmt.Errorf("%w: $7$ layout", ErrMalformed)
	}
	logN := int64(atoi64(e[3]))
	r, okR := decode30(e[4:9])
	p, okP := decode30(e[9:14])
	if logN < 0 || !okR || !okP {
		return false, fmt.Errorf("%w: $7$ parameters", ErrMalformed)
	}
	if err := l.checkScrypt(logN, r, p); err != nil {
		return false, err
	}
	key, err := l.scryptKey(password, []byte(e[14:end]), logN, r, p, 32)
	if err != nil {
		return false, err
	}
	return equal(cryptB64LE(key), []byte(e[end+1:])), nil
}

func decode30(s string) (int64, bool) {
	var v int64
	for i := 0; i < len(s); i++ {
		d := atoi64(s[i])
		if d < 0 {
			return 0, false
		}
		v |= int64(d) << (6 * i)
	}
	return v, true
}

func (l verifier) hashScrypt(password string) (string, error) {
	salt := randomBytes(scryptSaltLen)
	key, err := l.scryptKey(password, salt, scryptLogN, scryptR, scryptP, scryptKeyLen)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("$scrypt$ln=%d,r=%d,p=%d$%s$%s", scryptLogN, scryptR, scryptP,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// ---- PBKDF2 ----

func pbkdf2Digest(name string) func() hash.Hash {
	switch name {
	case "sha1":
		return sha1.New
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return nil
}

func (l verifier) pbkdf2Check(password string, h func() hash.Hash, salt []byte, iter int64, want []byte) (bool, error) {
	if iter < 1 {
		return false, fmt.Errorf("%w: pbkdf2 iterations %d", ErrMalformed, iter)
	}
	if iter > int64(l.MaxPBKDF2Iterations) {
		return false, over("pbkdf2 iterations", iter, int64(l.MaxPBKDF2Iterations))
	}
	if len(want) < 1 || len(want) > maxKeyLen {
		return false, fmt.Errorf("%w: pbkdf2 hash length", ErrMalformed)
	}
	var got []byte
	var err error
	if rerr := l.run(0, func() { got, err = pbkdf2.Key(h, password, salt, int(iter), len(want)) }); rerr != nil {
		return false, rerr
	}
	if err != nil {
		return false, fmt.Errorf("%w: pbkdf2: %v", ErrUnsupported, err)
	}
	return equal(got, want), nil
}

// verifyPBKDF2PHC handles passlib's $pbkdf2[-sha256|-sha512]$rounds$salt$hash
// (adapted base64) and the PHC form $pbkdf2-sha256$i=N[,l=L]$salt$hash.
func (l verifier) verifyPBKDF2PHC(e, password string) (bool, error) {
	f := strings.Split(e, "$")
	if len(f) != 5 {
		return false, fmt.Errorf("%w: pbkdf2 field count", ErrMalformed)
	}
	name := "sha1"
	if f[1] != "pbkdf2" {
		n, ok := strings.CutPrefix(f[1], "pbkdf2-")
		if !ok || pbkdf2Digest(n) == nil {
			return false, fmt.Errorf("%w: %q", ErrUnsupported, f[1])
		}
		name = n
	}
	var iter, keyLen int64 = 0, -1
	if strings.HasPrefix(f[2], "i=") {
		params, err := phcParams(f[2], "i")
		if err != nil {
			params, err = phcParams(f[2], "i", "l")
			if err != nil {
				return false, err
			}
			keyLen = params[1]
		}
		iter = params[0]
	} else {
		n, err := parseUint(f[2])
		if err != nil {
			return false, err
		}
		iter = n
	}
	salt, err := decodeB64(f[3])
	if err != nil {
		return false, err
	}
	want, err := decodeB64(f[4])
	if err != nil {
		return false, err
	}
	if keyLen >= 0 && keyLen != int64(len(want)) {
		return false, fmt.Errorf("%w: pbkdf2 l=%d but hash has %d bytes", ErrMalformed, keyLen, len(want))
	}
	return l.pbkdf2Check(password, pbkdf2Digest(name), salt, iter, want)
}

func (l verifier) hashPBKDF2PHC(algorithm, password string) (string, error) {
	name := strings.TrimPrefix(algorithm, "pbkdf2-")
	h := pbkdf2Digest(name)
	salt := randomBytes(pbkdf2SaltLen)
	var key []byte
	var err error
	if rerr := l.run(0, func() { key, err = pbkdf2.Key(h, password, salt, pbkdf2Iterations, h().Size()) }); rerr != nil {
		return "", rerr
	}
	if err != nil {
		return "", fmt.Errorf("password: pbkdf2: %w", err)
	}
	id := algorithm
	if name == "sha1" {
		id = "pbkdf2" // passlib's identifier for PBKDF2-HMAC-SHA1
	}
	return fmt.Sprintf("$%s$%d$%s$%s", id, pbkdf2Iterations, ab64(salt), ab64(key)), nil
}

const djangoSaltChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

func (l verifier) hashPBKDF2Django(algorithm, password string) (string, error) {
	name := strings.TrimPrefix(algorithm, "pbkdf2_")
	h := pbkdf2Digest(name)
	salt := randomString(22, djangoSaltChars)
	var key []byte
	var err error
	if rerr := l.run(0, func() { key, err = pbkdf2.Key(h, password, []byte(salt), pbkdf2Iterations, h().Size()) }); rerr != nil {
		return "", rerr
	}
	if err != nil {
		return "", fmt.Errorf("password: pbkdf2: %w", err)
	}
	return fmt.Sprintf("%s$%d$%s$%s", algorithm, pbkdf2Iterations, salt, base64.StdEncoding.EncodeToString(key)), nil
}
