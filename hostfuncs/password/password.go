package password

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
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
	// ErrLimitExceeded: the hash (or the password's length) asks for more
	// work or memory than Limits allow; the message names the parameter
	// and the cap.
	ErrLimitExceeded = errors.New("password: work factor over the host's cap")
	// ErrUnknownAlgorithm: Hash was asked for an algorithm it does not produce.
	ErrUnknownAlgorithm = errors.New("password: unknown algorithm")
	// ErrInvalidSpec: a Digest spec that is incomplete or contradictory.
	ErrInvalidSpec = errors.New("password: invalid digest spec")
)

// Limits caps the work a stored hash (and the password's length) may demand
// of the host. A hash over any limit is refused with ErrLimitExceeded before
// any hashing is done.
type Limits struct {
	// Budget is the hashing budget hashes run in (NewBudget); nil runs
	// them without one, each still returning at its context's end.
	Budget *Budget
	// Tenant is whose hashes these are: the budget is shared fairly
	// between tenants (see Budget).
	Tenant string
	// OnWork, when set, is told the CPU time of each hash run within
	// the Budget: how long it ran times the cores its share stands for.
	// It is called when the hash ends, from the hash's goroutine, also
	// after its caller gave up. It is an upper bound of the CPU the hash
	// used: its run time includes time it waited for a core.
	OnWork func(cpu time.Duration)
	// MaxPasswordBytes caps the password's length, for every scheme.
	MaxPasswordBytes int
	// MaxBcryptCost is the highest bcrypt cost (log2 rounds) accepted.
	MaxBcryptCost int
	// MaxArgon2MemoryKiB, MaxArgon2Time and MaxArgon2Threads cap argon2's
	// m (KiB), t and p; m*t is also capped at 3*MaxArgon2MemoryKiB.
	MaxArgon2MemoryKiB uint32
	MaxArgon2Time      uint32
	MaxArgon2Threads   uint32
	// MaxScryptMemory caps scrypt's and yescrypt's memory, 128*N*r bytes,
	// and 128*N*r*p (the work) at that too; MaxScryptParallel caps p.
	MaxScryptMemory   int64
	MaxScryptParallel int
	// MaxPBKDF2Iterations caps PBKDF2 iterations (any digest).
	MaxPBKDF2Iterations int
	// MaxSHACryptRounds caps SHA-crypt ($5$, $6$) rounds for a password of
	// up to 16 bytes; a longer password makes each round hash more, and
	// the rounds allowed shrink to keep the bytes hashed the same.
	MaxSHACryptRounds int
	// MaxPHPassLog2 caps phpass's iteration count, given as log2, for a
	// password of up to 487 bytes (the cost of each iteration grows with
	// the password beyond that).
	MaxPHPassLog2 int
}

// DefaultLimits returns the limits Verify and Hash use. Each allows at most
// about one second of one core (measured on the project's 2-core machines:
// bcrypt 14 1.0 s, argon2 m=256 MiB t=3 about 1 s, scrypt 256 MiB 0.8 s,
// PBKDF2-SHA512 2,000,000 iterations 1.1 s, SHA-512-crypt 2,000,000
// rounds 1.0 s, phpass 2^20 0.1 s) and 256 MiB, and is above what common
// software produces (bcrypt 10-12, argon2 m<=100 MiB, Django's 1.2M PBKDF2
// iterations, OWASP's 1.3M for SHA-1, passlib's 656000 SHA-crypt rounds,
// phpass 2^8..2^17, libsodium's "moderate" scrypt).
func DefaultLimits() Limits {
	return Limits{
		MaxPasswordBytes:    1024,
		MaxBcryptCost:       14,
		MaxArgon2MemoryKiB:  256 * 1024,
		MaxArgon2Time:       16,
		MaxArgon2Threads:    16,
		MaxScryptMemory:     256 << 20,
		MaxScryptParallel:   16,
		MaxPBKDF2Iterations: 2_000_000,
		MaxSHACryptRounds:   2_000_000,
		MaxPHPassLog2:       20,
	}
}

// maxMemory is the most memory one hash may need under l.
func (l Limits) maxMemory() int64 {
	return max(int64(l.MaxArgon2MemoryKiB)<<10, l.MaxScryptMemory)
}

// Verify reports whether password matches encoded, recognising the format
// from encoded itself, under DefaultLimits. A wrong password is (false, nil);
// an unrecognised, malformed, unsupported or too costly hash is an error
// wrapping one of the package's sentinel errors.
func Verify(encoded, password string) (bool, error) {
	return DefaultLimits().VerifyContext(context.Background(), encoded, password)
}

// VerifyContext is Verify until ctx ends: then it returns ErrCanceled at
// once, the hash running on to its end in the background.
func VerifyContext(ctx context.Context, encoded, password string) (bool, error) {
	return DefaultLimits().VerifyContext(ctx, encoded, password)
}

// Verify is the package-level Verify under the limits l.
func (l Limits) Verify(encoded, password string) (bool, error) {
	return l.VerifyContext(context.Background(), encoded, password)
}

// VerifyContext is VerifyContext under the limits l.
func (l Limits) VerifyContext(ctx context.Context, encoded, password string) (bool, error) {
	if ctx.Err() != nil {
		return false, canceled(ctx)
	}
	if err := l.checkPassword(password); err != nil {
		return false, err
	}
	return verifier{l, ctx}.verify(encoded, password, 0)
}

func (l Limits) checkPassword(password string) error {
	if l.MaxPasswordBytes > 0 && len(password) > l.MaxPasswordBytes {
		return fmt.Errorf("%w: the password is %d bytes, over the host's cap of %d", ErrLimitExceeded, len(password), l.MaxPasswordBytes)
	}
	return nil
}

// verifier is one Verify: the limits, and the context its hashing honours.
type verifier struct {
	Limits
	ctx context.Context
}

// run runs the hash f needing about mem bytes (see run).
func (l verifier) run(mem int64, f func()) error {
	return l.Budget.run(l.ctx, l.Tenant, mem, l.OnWork, f)
}

// verify dispatches on the encoded string's prefix. depth guards the formats
// that wrap another one ({CRYPT}, Django's bcrypt$ and argon2$).
func (l verifier) verify(encoded, password string, depth int) (bool, error) {
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
		return l.verifyMD5Crypt(e, password, md5CryptMagic)
	case strings.HasPrefix(e, "$apr1$"):
		return l.verifyMD5Crypt(e, password, apr1Magic)
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
	return HashContext(context.Background(), algorithm, password)
}

// HashContext is Hash until ctx ends: then it returns ErrCanceled at once,
// the hash running on to its end in the background. The password's length
// is capped as Verify's (DefaultLimits).
func HashContext(ctx context.Context, algorithm, password string) (string, error) {
	return DefaultLimits().HashContext(ctx, algorithm, password)
}

// HashContext is HashContext under the limits l (of which only the
// password cap and the budget apply: new hashes use fixed parameters).
func (l Limits) HashContext(ctx context.Context, algorithm, password string) (string, error) {
	if ctx.Err() != nil {
		return "", canceled(ctx)
	}
	lv := verifier{l, ctx}
	if err := lv.checkPassword(password); err != nil {
		return "", err
	}
	switch algorithm {
	case Bcrypt:
		return lv.hashBcrypt(password)
	case Argon2id, Argon2i:
		return lv.hashArgon2(algorithm, password)
	case Scrypt:
		return lv.hashScrypt(password)
	case PBKDF2SHA256, PBKDF2SHA512, PBKDF2SHA1:
		return lv.hashPBKDF2PHC(algorithm, password)
	case DjangoPBKDF2SHA256, DjangoPBKDF2SHA1:
		return lv.hashPBKDF2Django(algorithm, password)
	case SHA512Crypt, SHA256Crypt:
		return lv.hashSHACrypt(algorithm, password)
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownAlgorithm, algorithm)
}

// over is the error of a parameter over the host's cap.
func over(what string, got, max int64) error {
	return fmt.Errorf("%w: %s %d is over the host's cap of %d", ErrLimitExceeded, what, got, max)
}
