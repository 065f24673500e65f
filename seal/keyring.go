package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MinKeyLength is the fewest characters a key (a SECRET_KEY, or a line of a
// key file) may have.
const MinKeyLength = 32

// Derivation labels. Changing one changes every key id and data key, so
// they are part of the v1 format.
const (
	hkdfInfo   = "akconn seal v1 AES-256-GCM data key"
	keyIDLabel = "akconn key id"
)

// ErrShortKey means a key has fewer than MinKeyLength characters.
var ErrShortKey = fmt.Errorf("seal: a key must be at least %d characters", MinKeyLength)

var errEmpty = errors.New("seal: the keyring has no key")

// Keyring holds the keys that seal and open values. The first key seals;
// every key opens. A Keyring is safe for concurrent use; its ciphers are
// built once, when it is made.
type Keyring struct {
	keys []*key // keys[0] seals
}

// New returns a keyring of the given keys (secret strings, e.g. the value
// of SECRET_KEY), the first of which seals. Surrounding white space is
// removed from each; each must then have at least MinKeyLength characters,
// and no two may be the same key.
func New(secrets ...string) (*Keyring, error) {
	return newKeyring(secrets, func(i int) string {
		if len(secrets) == 1 {
			return "secret key"
		}
		return fmt.Sprintf("key %d of %d", i+1, len(secrets))
	})
}

// newKeyring builds a keyring; where names the i-th key in errors.
func newKeyring(secrets []string, where func(i int) string) (*Keyring, error) {
	if len(secrets) == 0 {
		return nil, errEmpty
	}
	k := &Keyring{keys: make([]*key, 0, len(secrets))}
	for i, s := range secrets {
		s = strings.TrimSpace(s)
		if n := utf8.RuneCountInString(s); n < MinKeyLength {
			return nil, fmt.Errorf("%s has %d characters: %w", where(i), n, ErrShortKey)
		}
		c, err := deriveKey(s)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where(i), err)
		}
		for j, prev := range k.keys {
			if prev.id == c.id {
				return nil, fmt.Errorf("seal: %s has the same key id (%s) as %s: remove the repeated key", where(i), c.id, where(j))
			}
		}
		k.keys = append(k.keys, c)
	}
	return k, nil
}

// deriveKey makes the key id and the AES-256-GCM cipher of a secret:
//
//	id       = hex(HMAC-SHA256(secret, "akconn key id"))[:8]
//	data key = HKDF-SHA256(secret, salt = none, info = hkdfInfo, 32 bytes)
func deriveKey(secret string) (*key, error) {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(keyIDLabel))
	id := hex.EncodeToString(mac.Sum(nil))[:keyIDLen]
	dk, err := hkdf.Key(sha256.New, []byte(secret), nil, hkdfInfo, 32)
	if err != nil {
		return nil, fmt.Errorf("seal: derive data key: %w", err)
	}
	block, err := aes.NewCipher(dk)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	if aead.Overhead() != overhead {
		return nil, fmt.Errorf("seal: AES-GCM adds %d bytes, the v1 format expects %d", aead.Overhead(), overhead)
	}
	return &key{id: id, header: prefix + id + ":", aead: aead}, nil
}

// NewSecret returns a new random key: 32 bytes from the system's CSPRNG,
// base64url-encoded (43 characters), for a key file or SECRET_KEY.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// SealingKeyID returns the id of the key that seals (the first).
func (k *Keyring) SealingKeyID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].id
}

// KeyIDs returns the ids of the keyring's keys, the sealing key first.
func (k *Keyring) KeyIDs() []string {
	if k == nil {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, c := range k.keys {
		ids[i] = c.id
	}
	return ids
}

func (k *Keyring) find(id string) *key {
	if k == nil {
		return nil
	}
	for _, c := range k.keys {
		if c.id == id {
			return c
		}
	}
	return nil
}

// String lists the key ids, never key material.
func (k *Keyring) String() string {
	return "seal.Keyring[" + strings.Join(k.KeyIDs(), " ") + "]"
}

// GoString is String, so %#v does not print the ciphers either.
func (k *Keyring) GoString() string { return k.String() }

// CheckValue returns the sealing key's id and a check value: a known
// constant sealed by that key, bound to no row. Stored in the database
// next to the id, it lets a later start prove with Verify that its keyring
// still holds the key (see docs/SEALING.md). Each call gives a different
// value (fresh nonce); any of them verifies.
func (k *Keyring) CheckValue() (keyID, value string) {
	if k == nil || len(k.keys) == 0 {
		return "", ""
	}
	c := k.keys[0]
	return c.id, c.seal(checkText, AssociatedData{Table: checkTable})
}

// Verify checks a stored check value of key keyID: the keyring must hold
// that key, and the key must open the value to the known constant. Errors
// name the key id: an *UnknownKeyError when the keyring lacks the key,
// otherwise an error wrapping ErrTampered or ErrNotSealed.
func (k *Keyring) Verify(keyID, value string) error {
	id, raw, ok := parse(value)
	switch {
	case !ok:
		return fmt.Errorf("seal: check value of key %s: %w", keyID, ErrNotSealed)
	case id != keyID:
		return fmt.Errorf("seal: check value of key %s was sealed by key %s: %w", keyID, id, ErrTampered)
	}
	c := k.find(id)
	if c == nil {
		return &UnknownKeyError{KeyID: id}
	}
	pt, err := c.open(raw, AssociatedData{Table: checkTable})
	if err != nil || pt != checkText {
		return fmt.Errorf("seal: key %s does not open its check value: %w", keyID, ErrTampered)
	}
	return nil
}
