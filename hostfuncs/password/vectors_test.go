package password

import (
	"encoding/base64"
	"encoding/hex"
	"testing"
)

// vector is a published (password, encoded hash) pair. Sources are named per
// group; none of these strings were produced by this package.
type vector struct {
	name, password, encoded string
}

// upassWav is passlib's UPASS_WAV test password.
const upassWav = "\u0399\u03c9\u03b1\u03bd\u03bd\u03b7\u03c2"

var vectors = []vector{
	// SHA-256-crypt: Ulrich Drepper's SHA-crypt specification, tests2[].
	{"sha256crypt/saltstring", "Hello world!", "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5"},
	{"sha256crypt/rounds10000", "Hello world!", "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA"},
	{"sha256crypt/rounds5000", "This is just a test", "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5"},
	{"sha256crypt/rounds1400", "a very much longer text to encrypt.  This one even stretches over morethan one line.", "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1"},
	{"sha256crypt/rounds77777", "we have a short salt string but not a short password", "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/"},
	{"sha256crypt/rounds123456", "a short string", "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD"},
	{"sha256crypt/rounds1000", "the minimum number is still observed", "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},
	// The spec's input setting rounds=10 is clamped to 1000.
	{"sha256crypt/rounds10-clamped", "the minimum number is still observed", "$5$rounds=10$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC"},

	// SHA-512-crypt: the same specification.
	{"sha512crypt/saltstring", "Hello world!", "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"},
	{"sha512crypt/rounds10000", "Hello world!", "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."},
	{"sha512crypt/rounds5000", "This is just a test", "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"sha512crypt/rounds-omitted", "This is just a test", "$6$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0"},
	{"sha512crypt/rounds1400", "a very much longer text to encrypt.  This one even stretches over morethan one line.", "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1"},
	{"sha512crypt/rounds77777", "we have a short salt string but not a short password", "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0"},
	{"sha512crypt/rounds123456", "a short string", "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1"},
	{"sha512crypt/rounds1000", "the minimum number is still observed", "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX."},

	// MD5-crypt and Apache apr1: John the Ripper's MD5_fmt.c tests and musl's crypt tests.
	{"md5crypt/jtr-1", "0123456789ABCDE", "$1$12345678$aIccj83HRDBo6ux1bVx7D1"},
	{"md5crypt/jtr-2", "12345678", "$1$12345678$f8QoJuo0DpBRfQSD0vglc1"},
	{"md5crypt/empty", "", "$1$$qRPK7m23GJusamGpoGLby/"},
	{"md5crypt/no-salt", "no salt", "$1$$AuJCr07mI7DSew03TmBIv/"},
	{"md5crypt/1234", "1234", "$1$1234$BdIMOAWFOV2AQlLsrN/Sw."},
	{"md5crypt/musl-binary", "Xy01@#\x01\x02\x80\x7f\xff\r\n\x81\t !", "$1$abcd0123$9Qcg8DyviekV3tDGMZynJ1"},
	{"md5crypt/musl-empty", "", "$1$salt$UsdFqFVB.FsuinRDK5eE.."},
	{"apr1/test", "test", "$apr1$Q6ZYh...$RV6ft2bZ8j.NGrxLYaJt9."},
	{"apr1/john", "john", "$apr1$rBXqc...$NlXxN9myBOk95T0AyLAsJ0"},
	{"apr1/15chars", "15 chars is max", "$apr1$a2Jqm...$grFrwEgiQleDr0zR4Jx1b."},

	// phpass: the phpass distribution's test and passlib's phpass_test.
	{"phpass/test12345", "test12345", "$P$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0"},
	{"phpass/H-test1", "test1", "$H$9aaaaaSXBjgypwqm.JsMssPLiS8YQ00"},
	{"phpass/H-123456", "123456", "$H$9PE8jEklgZhgLmZl5.HYJAzfGCQtzi1"},
	{"phpass/longer", "thisisalongertestPW", "$P$912345678LIjjb6PhecupozNBmDndU0"},
	{"phpass/P6", "JohnRipper", "$P$612345678si5M0DDyPpmRCmcltU/YW/"},
	{"phpass/H7", "JohnRipper", "$H$712345678WhEyvy1YWzT4647jzeOmo0"},
	{"phpass/wordpress-B", "JohnRipper", "$P$B12345678L6Lpt4BxNotVIMILOa9u81"},
	{"phpass/empty", "", "$P$7JaFQsPzJSuenezefD/3jHgt5hVfNH0"},
	{"phpass/F", "compL3X!", "$P$FiS0N5L672xzQx1rt1vgdJQRYKnQM9/"},

	// bcrypt: OpenBSD / Openwall crypt_blowfish vectors.
	{"bcrypt/U*U", "U*U", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
	{"bcrypt/U*U*", "U*U*", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.VGOzA784oUp/Z0DY336zx7pLYAy0lwK"},
	{"bcrypt/U*U*U", "U*U*U", "$2a$05$XXXXXXXXXXXXXXXXXXXXXOAcXxm9kjPGEMsLznoKqmqw7tc8WCx4a"},
	{"bcrypt/empty", "", "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy"},
	{"bcrypt/over72", "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789chars after 72 are ignored", "$2a$05$abcdefghijklmnopqrstuu5s2v8.iXieOjg/.AySBTTZIIVFJeBui"},
	{"bcrypt/cost6-empty", "", "$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s."},
	{"bcrypt/cost10", "abcdefghijklmnopqrstuvwxyz", "$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq"},
	{"bcrypt/symbols", "~!@#$%^&*()      ~!@#$%^&*()PNBFRD", "$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO"},
	// For ASCII passwords $2a$, $2b$ and $2y$ are the same computation.
	{"bcrypt/2b", "U*U", "$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW"},
	{"bcrypt/2y-vapor", "Vapor3", "$2y$11$kHM/VXmCVsGXDGIVu9mD8eY/uEYI.Nva9sHgrLYuLzr0il28DDOGO"},

	// argon2: the reference implementation's src/test.c.
	{"argon2i/m65536", "password", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$wWKIMhR9lyDFvRz9YTZweHKfbftvj+qf+YFY4NeBbtA"},
	{"argon2i/m256", "password", "$argon2i$v=19$m=256,t=2,p=1$c29tZXNhbHQ$iekCn0Y3spW+sCcFanM2xBT63UP2sghkUoHLIUpWRS8"},
	{"argon2i/p2", "password", "$argon2i$v=19$m=256,t=2,p=2$c29tZXNhbHQ$T/XOJ2mh1/TIpJHfCdQan76Q5esCFVoT5MAeIM1Oq2E"},
	{"argon2i/differentpassword", "differentpassword", "$argon2i$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$FK6NoBr+qHAMI1jc73xTWNkCEoK9iGY6RWL1n7dNIu4"},
	{"argon2i/diffsalt", "password", "$argon2i$v=19$m=65536,t=2,p=1$ZGlmZnNhbHQ$sDV8zPvvkfOGCw26RHsjSMvv7K2vmQq/6cxAcmxSEnE"},
	{"argon2id/m256", "password", "$argon2id$v=19$m=256,t=2,p=1$c29tZXNhbHQ$nf65EOgLrQMR/uIPnA4rEsF5h7TKyQwu9U1bMCHGi/4"},
	{"argon2id/t1", "password", "$argon2id$v=19$m=65536,t=1,p=1$c29tZXNhbHQ$9qWtwbpyPd3vm1rB1GThgPzZ3/ydHL92zKL+15XZypg"},
	{"argon2id/t4", "password", "$argon2id$v=19$m=65536,t=4,p=1$c29tZXNhbHQ$kCXUjmjvc5XMqQedpMTsOv+zyJEf5PhtGiUghW9jFyw"},
	{"argon2id/t2", "password", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc"},
	{"argon2id/differentpassword", "differentpassword", "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$C4TWUs9rDEvq7w3+J4umqA32aWKB1+DSiRuBfYxFj94"},
	// Django's test_hashers.py (argon2$ wrapper).
	{"django-argon2i", "secret", "argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q"},
	{"django-argon2id", "secret", "argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw"},

	// scrypt: passlib's documentation; unix-scrypt ($7$) and libxcrypt's tests; Django.
	{"scrypt/passlib-ln16", "password", "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E"},
	{"scrypt/passlib-ln8", "password", "$scrypt$ln=8,r=8,p=1$WKs1xljLudd6z9kbY0wpJQ$yCR4iDZYDKv+iEJj6yHY0lv/epnfB6f/w1EbXrsJOuQ"},
	{"scrypt7/SodiumChloride", "pleaseletmein", "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D"},
	{"scrypt7/SodiumChloride-06", "pleaseletmein", "$7$06..../....SodiumChloride$ENlyo6fGw4PCcDBOFepfSZjFUnVatHzCcW55.ZGz3B0"},
	{"scrypt7/rfc7914-NaCl", "password", "$7$86....E....NaCl$xffjQo7Bm/.SKRS4B2EuynbOLjAmXU5AbDbRXhoBl64"},
	{"scrypt7/empty", "", "$7$2/..../....$rNxJWVHNv/mCNcgE/f6/L4zO6Fos5c2uTzhyzoisI62"},
	{"django-scrypt", "lètmein", "scrypt$16384$seasalt$8$1$Qj3+9PPyRjSJIebHnG81TMjsqtaIGxNQG/aEB/NYafTJ7tibgfYz71m0ldQESkXFRkdVCBhhY8mx7rQwite/Pw=="},

	// PBKDF2: passlib's test_handlers_pbkdf2; RustCrypto's PHC example; Django.
	{"pbkdf2-sha1/passlib", "password", "$pbkdf2$1212$OB.dtnSEXZK8U5cgxU/GYQ$y5LKPOplRmok7CZp/aqVDVg8zGI"},
	{"pbkdf2-sha1/passlib-wav", upassWav, "$pbkdf2$1212$THDqatpidANpadlLeTeOEg$HV3oi1k5C5LQCgG1BMOL.BX4YZc"},
	{"pbkdf2-sha256/passlib", "password", "$pbkdf2-sha256$1212$4vjV83LKPjQzk31VI4E0Vw$hsYF68OiOUPdDZ1Fg.fJPeq1h/gXXY7acBp9/6c.tmQ"},
	{"pbkdf2-sha256/passlib-wav", upassWav, "$pbkdf2-sha256$1212$3SABFJGDtyhrQMVt1uABPw$WyaUoqCLgvz97s523nF4iuOqZNbp5Nt8do/cuaa7AiI"},
	{"pbkdf2-sha512/passlib", "password", "$pbkdf2-sha512$1212$RHY0Fr3IDMSVO/RSZyb5ow$eNLfBK.eVozomMr.1gYa17k9B7KIK25NOEshvhrSX.esqY3s.FvWZViXz4KoLlQI.BzY/YTNJOiKc5gBYFYGww"},
	{"pbkdf2-sha256/phc", "password", "$pbkdf2-sha256$i=4096,l=32$c2FsdA$xeR41ZKIyEGqUw22hFxMjZYok6ABzk4RpJY4c6qYE0o"},
	{"django-pbkdf2_sha256/10000", "lètmein", "pbkdf2_sha256$10000$seasalt$CWWFdHOWwPnki7HvkcqN9iA2T3KLW1cf2uZ5kvArtVY="},
	{"django-pbkdf2_sha256/870000", "lètmein", "pbkdf2_sha256$870000$seasalt$wJSpLMQRQz0Dhj/pFpbyjMj71B2gUYp6HJS5AU+32Ac="},
	{"django-pbkdf2_sha1/600000", "lètmein", "pbkdf2_sha1$600000$seasalt2$2CLsaL1MZhq6JOG6QOHtVbiopHE="},
	{"django-pbkdf2_sha1/passlib", "not a password", "pbkdf2_sha1$10000$wz5B6WkasRoF$atJmJ1o+XfJxKq1+Nu1f1i57Z5I="},

	// Django's legacy digests (test_hashers.py).
	{"django-sha1", "lètmein", "sha1$seasalt$cff36ea83f5706ce9aa7454e63e431fc726b2dc8"},
	{"django-md5", "lètmein", "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3"},
	{"django-unsalted_md5-alt", "lètmein", "md5$$88a434c88cca4e900f7874cd98123f43"},
	{"django-unsalted_sha1", "lètmein", "sha1$$6d138ca3ae545631b3abd71a4f076ce759c5700b"},

	// RFC 2307 / OpenLDAP schemes: passlib's ldap_std documentation.
	{"ldap/MD5", "password", "{MD5}X03MO1qnZdYdgyfeuILPmQ=="},
	{"ldap/SHA", "password", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="},
	{"ldap/SMD5", "password", "{SMD5}jNoSMNY0cybfuBWiaGlFw3Mfi/U="},
	{"ldap/SSHA", "password", "{SSHA}pKqkNr1tq3wtQqk+UcPyA3HnA2NsU5NJ"},
	{"ldap/CRYPT-md5crypt", "12345678", "{CRYPT}$1$12345678$f8QoJuo0DpBRfQSD0vglc1"},

	// yescrypt: a published shadow line (its password given in the same file).
	{"yescrypt/j9T", "WA7NERURoVlDegBUVyM1Kk", "$y$j9T$Qeof7nTZR1kT1cFwdlZqd0$B5.LdYzAcE8IwmEjeOUR9RwIwpalyyj/oxaiDqnryZ/"},
}

// rfc7914Vectors are RFC 7914's scrypt test vectors (section 12), put into
// passlib's PHC encoding here.
func rfc7914Vectors(t *testing.T) []vector {
	t.Helper()
	phc := func(salt string, ln, r, p int, keyHex string) string {
		key, err := hex.DecodeString(keyHex)
		if err != nil {
			t.Fatal(err)
		}
		return "$scrypt$ln=" + itoa(ln) + ",r=" + itoa(r) + ",p=" + itoa(p) + "$" +
			base64.RawStdEncoding.EncodeToString([]byte(salt)) + "$" + base64.RawStdEncoding.EncodeToString(key)
	}
	return []vector{
		{"rfc7914/password-NaCl", "password", phc("NaCl", 10, 8, 16,
			"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")},
		{"rfc7914/pleaseletmein", "pleaseletmein", phc("SodiumChloride", 14, 8, 1,
			"7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887")},
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestVerifyPublishedVectors(t *testing.T) {
	all := append(append([]vector{}, vectors...), rfc7914Vectors(t)...)
	for _, v := range all {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ok, err := Verify(v.encoded, v.password)
			if err != nil || !ok {
				t.Fatalf("Verify(%q, right password) = %v, %v; want true, nil", v.encoded, ok, err)
			}
			ok, err = Verify(v.encoded, "!"+v.password)
			if err != nil || ok {
				t.Fatalf("Verify(%q, wrong password) = %v, %v; want false, nil", v.encoded, ok, err)
			}
		})
	}
}
