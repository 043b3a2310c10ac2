package store

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"strings"
)

// sealer encrypts secrets with AES-256-GCM under the master key. Each value
// gets a random 96-bit nonce; the additional data binds it to its tenant,
// connection and field so a value cannot be moved to another row or field.
type sealer struct{ aead cipher.AEAD }

const sealedPrefix = "v1."

func newSealer(key []byte) (*sealer, error) {
	if len(key) != MasterKeySize {
		return nil, fmt.Errorf("store: master key is %d bytes, want %d", len(key), MasterKeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("store: master key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("store: master key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func secretAD(tenant, conn, field string) []byte {
	return []byte(tenant + "\x00" + conn + "\x00" + field)
}

// seal encrypts plaintext; the empty string stays empty.
func (s *sealer) seal(tenant, conn, field, plaintext string) (string, error) {
	if plaintext == "" {
		return "", nil
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("store: nonce: %w", err)
	}
	out := s.aead.Seal(nonce, nonce, []byte(plaintext), secretAD(tenant, conn, field))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out), nil
}

func (s *sealer) open(tenant, conn, field, sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", fmt.Errorf("%w: %s: unknown format", ErrSecret, field)
	}
	b, err := base64.RawStdEncoding.DecodeString(raw)
	if err != nil || len(b) < s.aead.NonceSize() {
		return "", fmt.Errorf("%w: %s: malformed", ErrSecret, field)
	}
	ns := s.aead.NonceSize()
	pt, err := s.aead.Open(nil, b[:ns], b[ns:], secretAD(tenant, conn, field))
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrSecret, field)
	}
	return string(pt), nil
}
