package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// itoa64 is the alphabet of crypt(3)'s base64 (md5-crypt, SHA-crypt, phpass,
// scrypt $7$).
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func atoi64(c byte) int {
	return strings.IndexByte(itoa64, c)
}

// cryptB64LE encodes src the phpass/$7$ way: each group of up to three bytes,
// read little-endian, gives six-bit digits least significant first.
func cryptB64LE(src []byte) []byte {
	out := make([]byte, 0, (len(src)*8+5)/6)
	for i := 0; i < len(src); i += 3 {
		n := len(src) - i
		if n > 3 {
			n = 3
		}
		var v uint32
		for j := 0; j < n; j++ {
			v |= uint32(src[i+j]) << (8 * j)
		}
		for k := 0; k < (n*8+5)/6; k++ {
			out = append(out, itoa64[v&0x3f])
			v >>= 6
		}
	}
	return out
}

// decodeB64 decodes standard base64 with or without padding, and passlib's
// "adapted" variant ('.' for '+').
func decodeB64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	s = strings.ReplaceAll(s, ".", "+")
	b, err := base64.RawStdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: bad base64: %v", ErrMalformed, err)
	}
	return b, nil
}

// ab64 is passlib's adapted base64: standard alphabet, '.' for '+', no padding.
func ab64(b []byte) string {
	return strings.ReplaceAll(base64.RawStdEncoding.EncodeToString(b), "+", ".")
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	// crypto/rand.Read never returns an error (Go 1.24+); it crashes the
	// program rather than hand out weak randomness.
	_, _ = rand.Read(b)
	return b
}

// randomString returns n characters drawn uniformly from alphabet.
func randomString(n int, alphabet string) string {
	out := make([]byte, n)
	limit := 256 - 256%len(alphabet)
	for i := 0; i < n; {
		for _, c := range randomBytes(n) {
			if int(c) >= limit {
				continue
			}
			out[i] = alphabet[int(c)%len(alphabet)]
			i++
			if i == n {
				break
			}
		}
	}
	return string(out)
}

func equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}
