package password

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns wraps exactly one of
// them, so callers can map it with errors.Is.
var (
	// ErrUnknownFormat: the encoded string is not a format Verify recognises.
	ErrUnknownFormat = errors.New("password: unknown hash format")
	// ErrMalformed: the format was recognised but the string is damaged
	// (bad base64, missing field, impossible parameter, wrong length).
	ErrMalformed = errors.New("password: malformed hash")
	// ErrUnsupported: a recognised format in a variant this package does not
	// implement (argon2 version 0x10, bcrypt $2x$, ...).
	ErrUnsupported = errors.New("password: unsupported hash variant")
	// ErrLimitExceeded: the hash asks for more work or memory than Limits allow.
	ErrLimitExceeded = errors.New("password: hash work factor over limit")
	// ErrUnknownAlgorithm: Hash was asked for an algorithm it does not produce.
	ErrUnknownAlgorithm = errors.New("password: unknown algorithm")
	// ErrInvalidSpec: a Digest spec that is incomplete or contradictory.
	ErrInvalidSpec = errors.New("password: invalid digest spec")
)

// Limits caps the work a stored hash may demand of the host. A hash over any
// limit is refused with ErrLimitExceeded before any hashing is done.
type Limits struct {
	// MaxBcryptCost is the highest bcrypt cost (log2 rounds) accepted.
	MaxBcryptCost int
	// MaxArgon2MemoryKiB, MaxArgon2Time and MaxArgon2Threads cap argon2's
	// m (KiB), t and p; m*t is also capped at 4*MaxArgon2MemoryKiB.
	MaxArgon2MemoryKiB uint32
	MaxArgon2Time      uint32
	MaxArgon2Threads   uint32
	// MaxScryptMemory caps scrypt's and yescrypt's memory, 128*N*r bytes,
	// and 128*N*r*p (the work) at four times that; MaxScryptParallel caps p.
	MaxScryptMemory   int64
	MaxScryptParallel int
	// MaxPBKDF2Iterations caps PBKDF2 iterations (any digest).
	MaxPBKDF2Iterations int
	// MaxSHACryptRounds caps SHA-crypt ($5$, $6$) rounds.
	MaxSHACryptRounds int
	// MaxPHPassLog2 caps phpass's iteration count, given as log2.
	MaxPHPassLog2 int
}

// DefaultLimits returns the limits Verify uses. Each allows at most about
// two seconds of one core (measured on the project's 2-core machines) and
// 256 MiB, and is well above what common software produces (bcrypt 10-12,
// argon2 m<=100 MiB, Django's 1.2M PBKDF2 iterations, passlib's 656000
// SHA-crypt rounds, phpass 2^8..2^17).
func DefaultLimits() Limits {
	return Limits{
		MaxBcryptCost:       15,
		MaxArgon2MemoryKiB:  256 * 1024,
		MaxArgon2Time:       16,
		MaxArgon2Threads:    16,
		MaxScryptMemory:     256 << 20,
		MaxScryptParallel:   16,
		MaxPBKDF2Iterations: 5_000_000,
		MaxSHACryptRounds:   5_000_000,
		MaxPHPassLog2:       20,
	}
}

// Verify reports whether password matches encoded, recognising the format
// from encoded itself, under DefaultLimits. A wrong password is (false, nil);
// an unrecognised, malformed, unsupported or too costly hash is an error
// wrapping one of the package's sentinel errors.
func Verify(encoded, password string) (bool, error) {
	return DefaultLimits().Verify(encoded, password)
}

// Verify is the package-level Verify under the limits l.
func (l Limits) Verify(encoded, password string) (bool, error) {
	return l.verify(encoded, password, 0)
}

// verify dispatches on the encoded string's prefix. depth guards the formats
// that wrap another one ({CRYPT}, Django's bcrypt$ and argon2$).
func (l Limits) verify(encoded, password string, depth int) (bool, error) {
	if depth > 1 {
		return false, fmt.Errorf("%w: nested wrapper", ErrMalformed)
	}
	e := encoded
	switch {
	case e == "":
		return false, fmt.Errorf("%w: empty hash", ErrUnknownFormat)
	case strings.HasPrefix(e, "$2"):
		return l.verifyBcrypt(e, []byte(password))
	case strings.HasPrefix(e, "$argon2"):
		return l.verifyArgon2(e, password)
	case strings.HasPrefix(e, "$scrypt$"):
		return l.verifyScryptPHC(e, password)
	case strings.HasPrefix(e, "$7$"):
		return l.verifyScrypt7(e, password)
	case strings.HasPrefix(e, "$y$"):
		return l.verifyYescrypt(e, password)
	case strings.HasPrefix(e, "$pbkdf2"):
		return l.verifyPBKDF2PHC(e, password)
	case strings.HasPrefix(e, "$P$"), strings.HasPrefix(e, "$H$"):
		return l.verifyPHPass(e, password)
	case strings.HasPrefix(e, "$5$"), strings.HasPrefix(e, "$6$"):
		return l.verifySHACrypt(e, password)
	case strings.HasPrefix(e, "$1$"):
		return verifyMD5Crypt(e, password, md5CryptMagic)
	case strings.HasPrefix(e, "$apr1$"):
		return verifyMD5Crypt(e, password, apr1Magic)
	case strings.HasPrefix(e, "{"):
		return l.verifyLDAP(e, password, depth)
	}
	if i := strings.IndexByte(e, '$'); i > 0 {
		return l.verifyDjango(e[:i], e[i+1:], password, depth)
	}
	return false, fmt.Errorf("%w: no known prefix (plain digests need VerifyDigest)", ErrUnknownFormat)
}

// Algorithm names accepted by Hash.
const (
	Bcrypt             = "bcrypt"
	Argon2id           = "argon2id"
	Argon2i            = "argon2i"
	Scrypt             = "scrypt"
	PBKDF2SHA256       = "pbkdf2-sha256"
	PBKDF2SHA512       = "pbkdf2-sha512"
	PBKDF2SHA1         = "pbkdf2-sha1"
	DjangoPBKDF2SHA256 = "pbkdf2_sha256"
	DjangoPBKDF2SHA1   = "pbkdf2_sha1"
	SHA512Crypt        = "sha512-crypt"
	SHA256Crypt        = "sha256-crypt"
)

// Hash returns a fresh, randomly salted, standard encoding of password's hash
// under algorithm (one of the constants above; see the package doc for the
// parameters of each). An unknown algorithm is ErrUnknownAlgorithm.
func Hash(algorithm, password string) (string, error) {
	switch algorithm {
	case Bcrypt:
		return hashBcrypt(password)
	case Argon2id, Argon2i:
		return hashArgon2(algorithm, password)
	case Scrypt:
		return hashScrypt(password)
	case PBKDF2SHA256, PBKDF2SHA512, PBKDF2SHA1:
		return hashPBKDF2PHC(algorithm, password)
	case DjangoPBKDF2SHA256, DjangoPBKDF2SHA1:
		return hashPBKDF2Django(algorithm, password)
	case SHA512Crypt, SHA256Crypt:
		return hashSHACrypt(algorithm, password)
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, algorithm)
}

func over(what string, got, max int64) error {
	return fmt.Errorf("%w: %s %d > %d", ErrLimitExceeded, what, got, max)
}
