package password

import (
	"crypto/md5"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"hash"
	"strconv"
	"strings"

	xcrypt "github.com/go-crypt/x/crypt"
	"github.com/go-crypt/x/yescrypt"
)

// ---- SHA-crypt ($5$, $6$), Ulrich Drepper's specification ----

const (
	shaCryptDefaultRounds = 5000
	shaCryptMinRounds     = 1000
	shaCryptMaxRounds     = 999_999_999
	shaCryptMaxSalt       = 16
	shaCryptHashRounds    = 656_000 // passlib's default for sha512_crypt
)

func (l verifier) verifySHACrypt(e, password string) (bool, error) {
	h, sumLen := sha256.New, 43
	if e[1] == '6' {
		h, sumLen = sha512.New, 86
	}
	rest := e[3:]
	rounds := shaCryptDefaultRounds
	if r, ok := strings.CutPrefix(rest, "rounds="); ok {
		num, after, ok := strings.Cut(r, "$")
		n, err := strconv.ParseUint(num, 10, 64)
		if !ok || err != nil || num == "" || num[0] == '+' {
			return false, fmt.Errorf("%w: sha-crypt rounds", ErrMalformed)
		}
		// The specification clamps rounds into [1000, 999999999].
		rounds = int(min(max(n, shaCryptMinRounds), shaCryptMaxRounds))
		rest = after
	}
	salt, sum, ok := strings.Cut(rest, "$")
	if !ok || len(sum) != sumLen || strings.Contains(sum, "$") {
		return false, fmt.Errorf("%w: sha-crypt layout", ErrMalformed)
	}
	if len(salt) > shaCryptMaxSalt {
		salt = salt[:shaCryptMaxSalt]
	}
	if rounds > l.MaxSHACryptRounds {
		return false, over("sha-crypt rounds", int64(rounds), int64(l.MaxSHACryptRounds))
	}
	if err := l.checkSHACryptWork(h, rounds, len(password)); err != nil {
		return false, err
	}
	var got []byte
	if err := l.run(0, func() { got = xcrypt.KeySHACrypt(h, []byte(password), []byte(salt), rounds) }); err != nil {
		return false, err
	}
	return equal(got, []byte(sum)), nil
}

// shaCryptRoundBytes bounds the bytes one SHA-crypt round hashes for a
// password of n bytes, in whole blocks of the digest: the previous
// digest, the password about twice, the salt (at most 16 bytes) two
// times in three, the padding.
func shaCryptRoundBytes(h func() hash.Hash, n int) int64 {
	d := h()
	bs := int64(d.BlockSize())
	b := int64(2*n+d.Size()+shaCryptMaxSalt) + 17
	return (b + bs - 1) / bs * bs
}

// checkSHACryptWork refuses rounds whose bytes hashed, for this password,
// are over those of MaxSHACryptRounds rounds for a 16-byte password.
func (l verifier) checkSHACryptWork(h func() hash.Hash, rounds, n int) error {
	budget := int64(l.MaxSHACryptRounds) * shaCryptRoundBytes(h, 16)
	per := shaCryptRoundBytes(h, n)
	if int64(rounds)*per > budget {
		return fmt.Errorf("%w: sha-crypt rounds %d are over the host's cap of %d rounds for a %d-byte password",
			ErrLimitExceeded, rounds, budget/per, n)
	}
	return nil
}

func (l verifier) hashSHACrypt(algorithm, password string) (string, error) {
	id, h := "5", sha256.New
	if algorithm == SHA512Crypt {
		id, h = "6", sha512.New
	}
	if err := l.checkSHACryptWork(h, shaCryptHashRounds, len(password)); err != nil {
		return "", err
	}
	salt := randomString(shaCryptMaxSalt, itoa64)
	var sum []byte
	if err := l.run(0, func() { sum = xcrypt.KeySHACrypt(h, []byte(password), []byte(salt), shaCryptHashRounds) }); err != nil {
		return "", err
	}
	return fmt.Sprintf("$%s$rounds=%d$%s$%s", id, shaCryptHashRounds, salt, sum), nil
}

// ---- MD5-crypt ($1$, FreeBSD) and Apache's $apr1$ ----

const (
	md5CryptMagic = "$1$"
	apr1Magic     = "$apr1$"
)

func (l verifier) verifyMD5Crypt(e, password, magic string) (bool, error) {
	salt, sum, ok := strings.Cut(e[len(magic):], "$")
	if !ok || len(sum) != 22 {
		return false, fmt.Errorf("%w: md5-crypt layout", ErrMalformed)
	}
	if len(salt) > 8 {
		salt = salt[:8]
	}
	// 1000 rounds: a few milliseconds even for the longest password.
	var got []byte
	if err := l.run(0, func() { got = md5Crypt([]byte(password), []byte(salt), magic) }); err != nil {
		return false, err
	}
	return equal(got, []byte(sum)), nil
}

// md5Crypt is Poul-Henning Kamp's algorithm; it returns the 22-character sum.
func md5Crypt(pw, salt []byte, magic string) []byte {
	alt := md5.New()
	alt.Write(pw)
	alt.Write(salt)
	alt.Write(pw)
	final := alt.Sum(nil)

	ctx := md5.New()
	ctx.Write(pw)
	ctx.Write([]byte(magic))
	ctx.Write(salt)
	for n := len(pw); n > 0; n -= 16 {
		ctx.Write(final[:min(n, 16)])
	}
	for i := len(pw); i > 0; i >>= 1 {
		if i&1 != 0 {
			ctx.Write([]byte{0})
		} else {
			ctx.Write(pw[:1])
		}
	}
	final = ctx.Sum(nil)

	for i := 0; i < 1000; i++ {
		c := md5.New()
		if i&1 != 0 {
			c.Write(pw)
		} else {
			c.Write(final)
		}
		if i%3 != 0 {
			c.Write(salt)
		}
		if i%7 != 0 {
			c.Write(pw)
		}
		if i&1 != 0 {
			c.Write(final)
		} else {
			c.Write(pw)
		}
		final = c.Sum(final[:0])
	}

	out := make([]byte, 0, 22)
	to64 := func(v uint32, n int) {
		for ; n > 0; n-- {
			out = append(out, itoa64[v&0x3f])
			v >>= 6
		}
	}
	for _, g := range [][3]int{{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}} {
		to64(uint32(final[g[0]])<<16|uint32(final[g[1]])<<8|uint32(final[g[2]]), 4)
	}
	to64(uint32(final[11]), 2)
	return out
}

// ---- phpass ($P$ WordPress, $H$ phpBB 3) ----

func (l verifier) verifyPHPass(e, password string) (bool, error) {
	if len(e) != 34 {
		return false, fmt.Errorf("%w: phpass length", ErrMalformed)
	}
	logN := atoi64(e[3])
	if logN < 7 || logN > 30 {
		return false, fmt.Errorf("%w: phpass count", ErrMalformed)
	}
	if logN > l.MaxPHPassLog2 {
		return false, over("phpass log2 count", int64(logN), int64(l.MaxPHPassLog2))
	}
	// Each iteration hashes the digest and the password: for a password
	// over 487 bytes (eight MD5 blocks) the iterations allowed shrink.
	blocks := int64(md5.Size+len(password)+9+63) / 64
	if budget := int64(8) << l.MaxPHPassLog2; blocks<<logN > budget {
		return false, fmt.Errorf("%w: phpass count 2^%d is over the host's cap of %d iterations for a %d-byte password",
			ErrLimitExceeded, logN, budget/blocks, len(password))
	}
	salt := e[4:12]
	var sum [md5.Size]byte
	err := l.run(0, func() {
		sum = md5.Sum([]byte(salt + password))
		buf := make([]byte, 0, md5.Size+len(password))
		for n := 1 << logN; n > 0; n-- {
			buf = append(append(buf[:0], sum[:]...), password...)
			sum = md5.Sum(buf)
		}
	})
	if err != nil {
		return false, err
	}
	return equal(cryptB64LE(sum[:]), []byte(e[12:])), nil
}

// ---- yescrypt ($y$), as libxcrypt writes it ----

func (l verifier) verifyYescrypt(e, password string) (bool, error) {
	if strings.Count(e, "$") != 4 {
		return false, fmt.Errorf("%w: yescrypt layout", ErrMalformed)
	}
	if len(e) < 8 || e[3] != 'j' || e[6] != '$' {
		return false, fmt.Errorf("%w: yescrypt parameters other than libxcrypt's default form", ErrUnsupported)
	}
	logN, r := atoi64(e[4])+1, atoi64(e[5])+1
	if logN < 1 || r < 1 {
		return false, fmt.Errorf("%w: yescrypt parameters", ErrMalformed)
	}
	if err := l.checkScrypt(int64(logN), int64(r), 1); err != nil {
		return false, err
	}
	var got []byte
	var err error
	if rerr := l.run(128*int64(r)<<logN, func() { got, err = yescrypt.Hash([]byte(password), []byte(e)) }); rerr != nil {
		return false, rerr
	}
	if err != nil {
		return false, fmt.Errorf("%w: yescrypt: %v", ErrUnsupported, err)
	}
	return equal(got, []byte(e)), nil
}

// digestFunc returns the constructor of a plain digest by name.
func digestFunc(name string) func() hash.Hash {
	switch name {
	case "md5":
		return md5.New
	case "sha256":
		return sha256.New
	case "sha512":
		return sha512.New
	}
	return pbkdf2Digest(name) // sha1, or nil
}
