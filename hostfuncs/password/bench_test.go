package password

import "testing"

func benchmarkVerify(b *testing.B, encoded, password string) {
	b.Helper()
	for b.Loop() {
		if ok, err := Verify(encoded, password); err != nil || !ok {
			b.Fatalf("Verify = %v, %v", ok, err)
		}
	}
}

// BenchmarkVerifyBcrypt10 verifies the Openwall cost-10 vector.
func BenchmarkVerifyBcrypt10(b *testing.B) {
	benchmarkVerify(b, "$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq", "abcdefghijklmnopqrstuvwxyz")
}

// BenchmarkVerifyArgon2idDefault verifies a hash made with Hash's argon2id
// parameters (m=64 MiB, t=3, p=4).
func BenchmarkVerifyArgon2idDefault(b *testing.B) {
	h, err := Hash(Argon2id, "benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	benchmarkVerify(b, h, "benchmark password")
}
