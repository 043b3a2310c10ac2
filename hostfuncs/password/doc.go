// Package password verifies and creates password hashes natively on the host,
// for connectors whose legacy user databases store hashes of many kinds
// (the guest reaches it through the password.* host calls).
//
// # Verify
//
// Verify(encoded, password) recognises the format from the encoded string
// and compares in constant time. A wrong password is (false, nil). Any other
// failure wraps one sentinel: ErrUnknownFormat (not a format listed below),
// ErrMalformed (recognised but damaged), ErrUnsupported (a recognised
// variant not implemented), ErrLimitExceeded (work factor, or the password's
// length, over Limits), ErrCanceled (VerifyContext: the context ended).
//
//	bcrypt          $2a$ $2b$ $2y$ (the password's first 72 bytes, as OpenBSD);
//	                $2x$ and $2$ are ErrUnsupported
//	argon2          $argon2id$ $argon2i$ $argon2d$ PHC strings with v=19
//	                ($argon2id$v=19$m=65536,t=3,p=4$salt$hash, base64 without
//	                padding, padding tolerated); no v= (version 0x10) is
//	                ErrUnsupported
//	scrypt          passlib's PHC form $scrypt$ln=16,r=8,p=1$salt$hash and the
//	                crypt(3) form $7$ of libxcrypt/libsodium
//	yescrypt        $y$j..$ as libxcrypt writes it by default
//	PBKDF2          passlib $pbkdf2$ (SHA-1), $pbkdf2-sha256$, $pbkdf2-sha512$
//	                with rounds$salt$hash in adapted base64, and the PHC form
//	                $pbkdf2-sha256$i=4096[,l=32]$salt$hash; Atlassian {PKCS5S2}
//	phpass          $P$ (WordPress, Drupal 6) and $H$ (phpBB 3)
//	SHA-crypt       $5$ and $6$, with or without rounds= (clamped to
//	                1000..999999999 as the specification says)
//	MD5-crypt       $1$ (FreeBSD) and Apache's $apr1$
//	Django          pbkdf2_sha256$, pbkdf2_sha1$, argon2$, bcrypt$,
//	                bcrypt_sha256$, scrypt$, sha1$salt$hex, md5$salt$hex
//	                (an empty salt is unsalted_sha1 / unsalted_md5)
//	LDAP (RFC 2307) {MD5} {SMD5} {SHA} {SSHA} {SHA256} {SSHA256} {SHA512}
//	                {SSHA512} (salt after the digest), {CRYPT} + any crypt
//	                form above
//
// A bare hex or base64 digest carries no mark of its scheme; Verify answers
// ErrUnknownFormat for it and VerifyDigest handles it.
//
// # Limits
//
// A stored hash chooses its own work factor, so a hostile one could make the
// host burn minutes or gigabytes. Verify refuses, before hashing, anything
// over DefaultLimits: passwords over 1024 bytes; bcrypt cost 14; argon2 m
// 256 MiB, t 16, p 16 and m*t 768 MiB; scrypt/yescrypt 128*N*r 256 MiB,
// p 16 and 128*N*r*p 256 MiB; PBKDF2 2,000,000 iterations; SHA-crypt
// 2,000,000 rounds for passwords up to 16 bytes, fewer for longer ones
// (each round hashes the password: the bytes hashed stay the same);
// phpass 2^20 iterations, fewer for passwords over 487 bytes. Each is at
// most about one second of one core. Other limits are used with
// Limits.Verify. Hash produces fixed parameters, within the same caps.
//
// # Deadlines
//
// VerifyContext and HashContext return ErrCanceled as soon as their
// context ends. A hash cannot be interrupted: it runs on to its end in
// the background. With a Budget in Limits (hostfuncs.Manager makes one
// per host) every hash runs within it: at most one hash per core at once
// (an argon2 hash counts once per lane) and 1 GiB of their memory; a hash
// queues for it as long as its context allows, fairly between the
// tenants named in Limits.Tenant (a tenant's queued hashes wait behind
// its own, not another's), and an abandoned hash
// keeps its share until it ends, so abandoned work is bounded: at most
// that many hashes, each within the limits above. The package functions
// (Verify, VerifyContext, Hash, HashContext) run without a budget.
//
// # VerifyDigest and the Digest spec
//
// VerifyDigest(spec, encoded, password) checks a single-pass digest
// described by a Digest, which arrives from the connector as JSON:
//
//	{"algorithm":   "md5" | "sha1" | "sha256" | "sha512",
//	 "encoding":    "hex" (default, any case) | "base64" (std or URL-safe, padding optional),
//	 "salt":        "...",            (omit for unsalted)
//	 "saltEncoding":"raw" (default: the string's bytes) | "hex" | "base64",
//	 "saltPosition":"prefix" (digest of salt+password) | "suffix" (password+salt) | "none"}
//
// saltPosition is required when salt is set. Examples:
// md5(password) hex is {"algorithm":"md5"}; sha256(salt+password) hex is
// {"algorithm":"sha256","salt":S,"saltPosition":"prefix"}; sha1(password+salt)
// base64 is {"algorithm":"sha1","encoding":"base64","salt":S,"saltPosition":"suffix"}.
// A bad spec is ErrInvalidSpec; an encoded value that does not decode, or has
// the wrong length for the algorithm, is ErrMalformed.
//
// # Hash
//
// Hash(algorithm, password) returns a new hash with a random salt from
// crypto/rand:
//
//	bcrypt         $2a$10$...                          cost 10
//	argon2id       $argon2id$v=19$m=65536,t=3,p=4$...  64 MiB, 3 passes, 4 lanes,
//	argon2i        (same parameters)                   16-byte salt, 32-byte key (RFC 9106)
//	scrypt         $scrypt$ln=16,r=8,p=1$...           N=65536 (64 MiB), 16-byte salt, 32-byte key
//	pbkdf2-sha256  $pbkdf2-sha256$600000$salt$key      passlib form, adapted base64,
//	pbkdf2-sha512, pbkdf2-sha1 ($pbkdf2$)              16-byte salt, key of the digest's size
//	pbkdf2_sha256  pbkdf2_sha256$600000$salt$key       Django form, 22-character salt
//	pbkdf2_sha1    pbkdf2_sha1$600000$salt$key
//	sha512-crypt   $6$rounds=656000$salt$...           16-character salt
//	sha256-crypt   $5$rounds=656000$salt$...
//
// bcrypt refuses passwords over 72 bytes rather than silently truncating.
// The weak legacy forms (MD5-crypt, phpass, plain digests) are verified but
// never produced. An unknown algorithm is ErrUnknownAlgorithm.
//
// SHA-crypt and argon2d use github.com/go-crypt/x; bcrypt, argon2i/id and
// scrypt use golang.org/x/crypto; PBKDF2 uses crypto/pbkdf2; MD5-crypt and
// phpass are implemented here from their reference algorithms.
package password
