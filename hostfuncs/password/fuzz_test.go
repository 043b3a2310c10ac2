package password

import (
	"errors"
	"testing"
)

// FuzzVerify checks that no encoded string makes Verify panic, and that every
// failure is one of the package's sentinel errors. Limits are lowered so the
// fuzzer does not spend its time in legitimately slow hashes.
func FuzzVerify(f *testing.F) {
	for _, v := range vectors {
		f.Add(v.encoded, v.password)
	}
	for _, s := range []string{"", "$", "$$", "$2a$", "$argon2id$v=19$", "$7$", "$y$", "{", "{CRYPT}", "a$b", "$pbkdf2-sha256$i=1,l=1$$"} {
		f.Add(s, "x")
	}
	l := Limits{
		MaxBcryptCost: 5, MaxArgon2MemoryKiB: 1024, MaxArgon2Time: 2, MaxArgon2Threads: 2,
		MaxScryptMemory: 1 << 20, MaxScryptParallel: 2, MaxPBKDF2Iterations: 2000,
		MaxSHACryptRounds: 5000, MaxPHPassLog2: 11,
	}
	sentinels := []error{ErrUnknownFormat, ErrMalformed, ErrUnsupported, ErrLimitExceeded, ErrInvalidSpec}
	f.Fuzz(func(t *testing.T, encoded, password string) {
		ok, err := l.Verify(encoded, password)
		if err == nil {
			return
		}
		if ok {
			t.Fatalf("Verify(%q) = true with error %v", encoded, err)
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("Verify(%q) error %v wraps no sentinel", encoded, err)
	})
}
