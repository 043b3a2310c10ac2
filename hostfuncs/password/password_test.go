package password

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestHashRoundTrip(t *testing.T) {
	algorithms := []struct {
		name, prefix string
	}{
		{Bcrypt, "$2a$10$"},
		{Argon2id, "$argon2id$v=19$m=65536,t=3,p=4$"},
		{Argon2i, "$argon2i$v=19$m=65536,t=3,p=4$"},
		{Scrypt, "$scrypt$ln=16,r=8,p=1$"},
		{PBKDF2SHA256, "$pbkdf2-sha256$600000$"},
		{PBKDF2SHA512, "$pbkdf2-sha512$600000$"},
		{PBKDF2SHA1, "$pbkdf2$600000$"},
		{DjangoPBKDF2SHA256, "pbkdf2_sha256$600000$"},
		{DjangoPBKDF2SHA1, "pbkdf2_sha1$600000$"},
		{SHA512Crypt, "$6$rounds=656000$"},
		{SHA256Crypt, "$5$rounds=656000$"},
	}
	for _, a := range algorithms {
		t.Run(a.name, func(t *testing.T) {
			const pw = "correct horse battery staple ✓"
			h, err := Hash(a.name, pw)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if !strings.HasPrefix(h, a.prefix) {
				t.Fatalf("Hash = %q, want prefix %q", h, a.prefix)
			}
			if ok, err := Verify(h, pw); err != nil || !ok {
				t.Fatalf("Verify(right) = %v, %v", ok, err)
			}
			if ok, err := Verify(h, pw+"x"); err != nil || ok {
				t.Fatalf("Verify(wrong) = %v, %v", ok, err)
			}
			h2, err := Hash(a.name, pw)
			if err != nil {
				t.Fatalf("Hash: %v", err)
			}
			if h2 == h {
				t.Fatalf("two hashes of one password are equal: salt not random")
			}
		})
	}
}

func TestHashErrors(t *testing.T) {
	if _, err := Hash("md4", "x"); !errors.Is(err, ErrUnknownAlgorithm) {
		t.Errorf("Hash(md4) error = %v, want ErrUnknownAlgorithm", err)
	}
	if _, err := Hash(Bcrypt, strings.Repeat("a", 73)); err == nil {
		t.Errorf("Hash(bcrypt, 73 bytes) succeeded; bcrypt would silently truncate")
	}
}

func TestVerifyErrors(t *testing.T) {
	tests := []struct {
		name, encoded string
		want          error
	}{
		{"empty", "", ErrUnknownFormat},
		{"plain hex md5", "5f4dcc3b5aa765d61d8327deb882cf99", ErrUnknownFormat},
		{"unknown crypt id", "$9$abc$def", ErrUnknownFormat},
		{"unknown django algorithm", "lolcat$salt$hash", ErrUnknownFormat},
		{"unknown ldap scheme", "{NOPE}abc", ErrUnknownFormat},
		{"ldap without brace", "{SSHA", ErrUnknownFormat},

		{"bcrypt short", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOe", ErrMalformed},
		{"bcrypt bad cost", "$2a$0x$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrMalformed},
		{"bcrypt cost 3", "$2a$03$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrMalformed},
		{"bcrypt bad base64", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyO!W", ErrMalformed},
		{"bcrypt 2x", "$2x$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrUnsupported},
		{"bcrypt over limit", "$2a$16$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW", ErrLimitExceeded},

		{"argon2 missing hash", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ", ErrMalformed},
		{"argon2 bad param", "$argon2id$v=19$m=banana,t=2,p=1$c29tZXNhbHQ$AAAAAAAA", ErrMalformed},
		{"argon2 param order", "$argon2id$v=19$t=2,m=65536,p=1$c29tZXNhbHQ$AAAAAAAA", ErrMalformed},
		{"argon2 bad base64", "$argon2i$v=19$m=65536,t=3,p=1$notbase64!!$alsonotbase64!!", ErrMalformed},
		{"argon2 empty salt", "$argon2i$v=19$m=65536,t=2,p=1$$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ", ErrMalformed},
		{"argon2 t=0", "$argon2id$v=19$m=65536,t=0,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformed},
		{"argon2 m<8p", "$argon2id$v=19$m=8,t=1,p=2$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrMalformed},
		{"argon2 version 16", "$argon2i$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ", ErrUnsupported},
		{"argon2 v=16", "$argon2i$v=16$m=65536,t=2,p=1$c29tZXNhbHQ$9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ", ErrUnsupported},
		{"django argon2 version 16", "argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg", ErrUnsupported},
		{"argon2 memory over limit", "$argon2id$v=19$m=1048576,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrLimitExceeded},
		{"argon2 time over limit", "$argon2id$v=19$m=65536,t=4000000000,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrLimitExceeded},
		{"argon2 work over limit", "$argon2id$v=19$m=262144,t=16,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc", ErrLimitExceeded},

		{"scrypt bad params", "$scrypt$ln=16,r=8$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrMalformed},
		{"scrypt ln=0", "$scrypt$ln=0,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrMalformed},
		{"scrypt memory over limit", "$scrypt$ln=20,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrLimitExceeded},
		{"scrypt huge ln", "$scrypt$ln=40,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrLimitExceeded},
		{"scrypt p over limit", "$scrypt$ln=10,r=8,p=17$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E", ErrLimitExceeded},
		{"$7$ short hash", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn", ErrMalformed},
		{"$7$ bad param char", "$7$C6..!./....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", ErrMalformed},
		{"$7$ memory over limit", "$7$K6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D", ErrLimitExceeded},
		{"django scrypt N not power of 2", "scrypt$1000$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw==", ErrMalformed},

		{"pbkdf2 zero-padded rounds", "$pbkdf2$01212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", ErrMalformed},
		{"pbkdf2 empty rounds", "$pbkdf2$$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", ErrMalformed},
		{"pbkdf2 extra field", "$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc$", ErrMalformed},
		{"pbkdf2 unknown digest", "$pbkdf2-md4$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc", ErrUnsupported},
		{"pbkdf2 phc wrong l", "$pbkdf2-sha256$i=4096,l=16$c2FsdA$xeR41ZKIyEGqUw22hFxMjZYok6ABzk4RpJY4c6qYE0o", ErrMalformed},
		{"pbkdf2 over limit", "$pbkdf2-sha256$99000000$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ", ErrLimitExceeded},
		{"django pbkdf2 bad base64", "pbkdf2_sha256$10000$seasalt$!!!", ErrMalformed},
		{"django pbkdf2 zero iterations", "pbkdf2_sha256$0$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY=", ErrMalformed},

		{"phpass short", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L", ErrMalformed},
		{"phpass count too low", "$P$4IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", ErrMalformed},
		{"phpass over limit", "$P$JIQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", ErrLimitExceeded},

		{"sha-crypt bad rounds", "$5$rounds=xyz$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", ErrMalformed},
		{"sha-crypt short sum", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY", ErrMalformed},
		{"sha-crypt no sum", "$6$saltstring", ErrMalformed},
		{"sha-crypt over limit", "$6$rounds=999999999$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", ErrLimitExceeded},
		{"md5-crypt short", "$1$12345678$aIccj83HRDBo6ux1bVx7D", ErrMalformed},
		{"md5-crypt no sum", "$1$12345678", ErrMalformed},

		{"yescrypt other params", "$y$jD5.7$LdJMENpBABJJ3hIHjB1Bi.$HboGM6qPrsK.StKYGt6KErmUYtioHreJd98oIugoNB6", ErrUnsupported},
		{"yescrypt missing hash", "$y$j9T$Qeof7nTZR1kT1cFwdlZqd0", ErrMalformed},

		{"ldap bad base64", "{SSHA}!!!", ErrMalformed},
		{"ldap wrong length", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9", ErrMalformed},
		{"ldap crypt nested", "{CRYPT}{CRYPT}$1$12345678$f8QoJuo0DpBRfQSD0vglc1", ErrMalformed},
		{"django sha1 bad hex", "sha1$seasalt$zz", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := Verify(tt.encoded, "password")
			if ok || !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%q) = %v, %v; want false, %v", tt.encoded, ok, err, tt.want)
			}
		})
	}
}

func TestLimitsConfigurable(t *testing.T) {
	l := DefaultLimits()
	l.MaxBcryptCost = 4
	const h = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"
	if _, err := l.Verify(h, "U*U"); !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("cost 5 under MaxBcryptCost 4: err = %v, want ErrLimitExceeded", err)
	}
	l.MaxBcryptCost = 5
	if ok, err := l.Verify(h, "U*U"); err != nil || !ok {
		t.Fatalf("cost 5 under MaxBcryptCost 5: %v, %v", ok, err)
	}
}

func TestVerifyDigest(t *testing.T) {
	sum := func(h []byte) string { return hex.EncodeToString(h) }
	s1 := sha1.Sum([]byte("hunter2" + "NaCl"))
	s256 := sha256.Sum256([]byte("NaCl" + "hunter2"))
	s512 := sha512.Sum512(append([]byte("hunter2"), 0xde, 0xad, 0xbe, 0xef))
	tests := []struct {
		name     string
		spec     Digest
		encoded  string
		password string
		want     bool
	}{
		// md5("password") and friends: the digests published by every
		// "common passwords" table; Django's unsalted_md5 vector.
		{"md5 hex", Digest{Algorithm: "md5"}, "5f4dcc3b5aa765d61d8327deb882cf99", "password", true},
		{"md5 hex upper", Digest{Algorithm: "MD5"}, "5F4DCC3B5AA765D61D8327DEB882CF99", "password", true},
		{"md5 hex wrong", Digest{Algorithm: "md5"}, "5f4dcc3b5aa765d61d8327deb882cf99", "Password", false},
		{"django unsalted_md5", Digest{Algorithm: "md5"}, "88a434c88cca4e900f7874cd98123f43", "lètmein", true},
		{"sha1 hex", Digest{Algorithm: "sha1"}, "5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8", "password", true},
		{"sha256 hex", Digest{Algorithm: "sha256"}, "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "password", true},
		// Django's sha1$seasalt$...: sha1(salt+password), hex.
		{"sha1 prefix salt", Digest{Algorithm: "sha1", Salt: "seasalt", SaltPosition: "prefix"}, "cff36ea83f5706ce9aa7454e63e431fc726b2dc8", "lètmein", true},
		{"sha1 prefix salt wrong", Digest{Algorithm: "sha1", Salt: "seasalt", SaltPosition: "prefix"}, "cff36ea83f5706ce9aa7454e63e431fc726b2dc8", "lètmeinz", false},
		{"sha1 suffix salt base64", Digest{Algorithm: "sha1", Encoding: "base64", Salt: "NaCl", SaltPosition: "suffix"}, base64.StdEncoding.EncodeToString(s1[:]), "hunter2", true},
		{"sha1 suffix salt base64 unpadded", Digest{Algorithm: "sha1", Encoding: "base64", Salt: "NaCl", SaltPosition: "suffix"}, base64.RawStdEncoding.EncodeToString(s1[:]), "hunter2", true},
		{"sha256 prefix salt", Digest{Algorithm: "sha256", Salt: "NaCl", SaltPosition: "prefix"}, sum(s256[:]), "hunter2", true},
		{"sha256 salt on wrong side", Digest{Algorithm: "sha256", Salt: "NaCl", SaltPosition: "suffix"}, sum(s256[:]), "hunter2", false},
		{"sha512 hex salt suffix", Digest{Algorithm: "sha512", Salt: "deadbeef", SaltEncoding: "hex", SaltPosition: "suffix"}, sum(s512[:]), "hunter2", true},
		{"sha512 base64 salt suffix", Digest{Algorithm: "sha512", Salt: "3q2+7w==", SaltEncoding: "base64", SaltPosition: "suffix"}, sum(s512[:]), "hunter2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := VerifyDigest(tt.spec, tt.encoded, tt.password)
			if err != nil || got != tt.want {
				t.Fatalf("VerifyDigest = %v, %v; want %v, nil", got, err, tt.want)
			}
		})
	}
}

func TestVerifyDigestErrors(t *testing.T) {
	tests := []struct {
		name    string
		spec    Digest
		encoded string
		want    error
	}{
		{"unknown algorithm", Digest{Algorithm: "md4"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"salt without position", Digest{Algorithm: "md5", Salt: "x"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"bad position", Digest{Algorithm: "md5", Salt: "x", SaltPosition: "middle"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"bad encoding", Digest{Algorithm: "md5", Encoding: "base32"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"bad salt encoding", Digest{Algorithm: "md5", Salt: "x", SaltEncoding: "rot13", SaltPosition: "prefix"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"salt not hex", Digest{Algorithm: "md5", Salt: "xyz", SaltEncoding: "hex", SaltPosition: "prefix"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrInvalidSpec},
		{"not hex", Digest{Algorithm: "md5"}, "not hex at all", ErrMalformed},
		{"wrong length", Digest{Algorithm: "sha256"}, "5f4dcc3b5aa765d61d8327deb882cf99", ErrMalformed},
		{"not base64", Digest{Algorithm: "sha1", Encoding: "base64"}, "***", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := VerifyDigest(tt.spec, tt.encoded, "password")
			if ok || !errors.Is(err, tt.want) {
				t.Fatalf("VerifyDigest = %v, %v; want false, %v", ok, err, tt.want)
			}
		})
	}
}

func TestDigestJSONTags(t *testing.T) {
	// The spec arrives from connectors as JSON; the field names are part of
	// the contract.
	spec, err := decodeDigestJSON(`{"algorithm":"sha256","encoding":"hex","salt":"NaCl","saltEncoding":"raw","saltPosition":"prefix"}`)
	if err != nil {
		t.Fatal(err)
	}
	want := Digest{Algorithm: "sha256", Encoding: "hex", Salt: "NaCl", SaltEncoding: "raw", SaltPosition: "prefix"}
	if spec != want {
		t.Fatalf("decoded %+v, want %+v", spec, want)
	}
}
