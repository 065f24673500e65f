// Package seal encrypts secrets stored in the database (connection access
// tokens, OAuth source consumer secrets, API token keys) with authenticated
// encryption, so that a copy of the database alone does not reveal them.
//
// A Keyring holds one or more keys. The first key seals new values; every
// key opens values sealed by it. A sealed value is text safe for a TEXT
// column:
//
//	v1:<key id>:<base64url(nonce || ciphertext || tag)>
//
// where the key id is 8 lower-case hex characters derived from the key, the
// nonce is 12 random bytes, and the cipher is AES-256-GCM. Every value is
// bound to the place it is stored in (AssociatedData: table, column, row):
// a value copied to another row, column or table does not open.
//
// docs/SEALING.md describes the format, the key derivation and how keys are
// checked at start.
package seal

import (
	"crypto/cipher"
	"encoding/base64"
	"encoding/binary"
	"errors"
)

// Format constants of a v1 sealed value.
const (
	prefix     = "v1:"
	keyIDLen   = 8                                 // hex characters of a key id
	headerLen  = len(prefix) + keyIDLen + len(":") // "v1:0123abcd:"
	nonceLen   = 12                                // AES-GCM random nonce
	tagLen     = 16                                // AES-GCM tag
	overhead   = nonceLen + tagLen                 // bytes added to a plaintext
	minBodyLen = (overhead*8 + 5) / 6              // base64url characters of an empty plaintext
	adPrefix   = "akconn/seal/v1\x00"              // domain of the associated data
	checkTable = "akconn/check"                    // table of check values (see CheckValue)
	checkText  = "akconn seal check value; if this opens, the key is right"
)

// enc is the text encoding of the body: URL-safe, unpadded, canonical
// (trailing bits must be zero), so a value has exactly one spelling.
var enc = base64.RawURLEncoding.Strict()

// Errors returned (wrapped) by Open and Verify. None of them, nor any
// other error of this package, contains a plaintext, a key or a ciphertext.
var (
	// ErrNotSealed means the value does not have the form of a sealed value
	// (IsSealed is false for it): plaintext, truncated or malformed.
	ErrNotSealed = errors.New("seal: value is not sealed")
	// ErrUnknownKey means the value was sealed by a key that is not in the
	// keyring; errors.As with *UnknownKeyError gives its id.
	ErrUnknownKey = errors.New("seal: sealing key is not in the keyring")
	// ErrTampered means the value did not authenticate: it was altered, it
	// was copied from another row, column or table, or the key is wrong.
	ErrTampered = errors.New("seal: sealed value does not authenticate (altered, moved from another row or column, or wrong key)")
	// ErrAssociatedData means Seal or Open was given AssociatedData with an
	// empty field.
	ErrAssociatedData = errors.New("seal: associated data must name the table, the column and the row")
)

// UnknownKeyError names the key a value (or check value) needs that the
// keyring lacks. It unwraps to ErrUnknownKey.
type UnknownKeyError struct {
	// KeyID is the id of the missing key (8 hex characters).
	KeyID string
}

// Error names the missing key.
func (e *UnknownKeyError) Error() string {
	return "seal: key " + e.KeyID + " is not in the keyring"
}

// Unwrap lets errors.Is(err, ErrUnknownKey) hold.
func (e *UnknownKeyError) Unwrap() error { return ErrUnknownKey }

// AssociatedData is where a sealed value is stored. It is authenticated but
// not encrypted: a value opens only with the AssociatedData it was sealed
// with. ID must be the row's immutable primary key (not a name that an
// update may change), in its canonical text form (e.g. strconv.FormatInt).
type AssociatedData struct {
	Table  string // e.g. "connections"
	Column string // e.g. "access_token"
	ID     string // primary key of the row, e.g. "42" or a UUID
}

func (ad AssociatedData) valid() bool {
	return ad.Table != "" && ad.Column != "" && ad.ID != ""
}

// appendTo appends the authenticated bytes: the domain, the value's header
// (so the version and key id cannot be swapped) and each field with its
// length, so that no two AssociatedData encode alike.
func (ad AssociatedData) appendTo(b []byte, header string) []byte {
	b = append(b, adPrefix...)
	b = append(b, header...)
	for _, f := range [...]string{ad.Table, ad.Column, ad.ID} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// parse splits a sealed value into its key id and raw bytes (nonce,
// ciphertext, tag); ok is false when s is not a well-formed v1 value.
func parse(s string) (keyID string, raw []byte, ok bool) {
	if len(s) < headerLen+minBodyLen || s[:len(prefix)] != prefix || s[headerLen-1] != ':' {
		return "", nil, false
	}
	keyID = s[len(prefix) : headerLen-1]
	if !isKeyID(keyID) {
		return "", nil, false
	}
	body := s[headerLen:]
	if len(body)%4 == 1 {
		return "", nil, false
	}
	// The decoder skips \r and \n; a sealed value never holds them.
	for i := 0; i < len(body); i++ {
		if !isBase64URL(body[i]) {
			return "", nil, false
		}
	}
	raw, err := enc.DecodeString(body)
	if err != nil || len(raw) < overhead {
		return "", nil, false
	}
	return keyID, raw, true
}

func isKeyID(s string) bool {
	if len(s) != keyIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func isBase64URL(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}

// IsSealed reports whether s has the form of a sealed value. It checks the
// form only (a plaintext crafted to look sealed passes, and then fails to
// open with ErrTampered); Open fails with ErrNotSealed exactly when it is
// false.
func IsSealed(s string) bool {
	_, _, ok := parse(s)
	return ok
}

// KeyID returns the id of the key that sealed s; ok is false when s is not
// a sealed value.
func KeyID(sealed string) (id string, ok bool) {
	id, _, ok = parse(sealed)
	return id, ok
}

// key is one key of a keyring, with its cipher built once.
type key struct {
	id     string
	header string // "v1:<id>:"
	aead   cipher.AEAD
}

// seal encrypts plaintext under ad with a fresh random nonce.
func (c *key) seal(plaintext string, ad AssociatedData) string {
	var adBuf [128]byte
	a := ad.appendTo(adBuf[:0], c.header)
	ct := c.aead.Seal(make([]byte, 0, len(plaintext)+overhead), nil, []byte(plaintext), a)
	out := make([]byte, len(c.header)+enc.EncodedLen(len(ct)))
	copy(out, c.header)
	enc.Encode(out[len(c.header):], ct)
	return string(out)
}

// open authenticates and decrypts raw, the body of a value sealed by c.
func (c *key) open(raw []byte, ad AssociatedData) (string, error) {
	var adBuf [128]byte
	pt, err := c.aead.Open(raw[:0], nil, raw, ad.appendTo(adBuf[:0], c.header))
	if err != nil {
		return "", ErrTampered
	}
	return string(pt), nil
}

// Seal encrypts plaintext with the keyring's first key, bound to ad, and
// returns the sealed text. Each call uses a fresh random nonce, so sealing
// the same plaintext twice gives different values.
func (k *Keyring) Seal(plaintext string, ad AssociatedData) (string, error) {
	if !ad.valid() {
		return "", ErrAssociatedData
	}
	if k == nil || len(k.keys) == 0 {
		return "", errEmpty
	}
	return k.keys[0].seal(plaintext, ad), nil
}

// Open returns the plaintext of a value sealed with ad by any key of the
// keyring. It fails with ErrNotSealed (not a sealed value), an
// *UnknownKeyError (sealed by a key the keyring lacks), ErrTampered (does
// not authenticate) or ErrAssociatedData.
func (k *Keyring) Open(sealed string, ad AssociatedData) (string, error) {
	if !ad.valid() {
		return "", ErrAssociatedData
	}
	return k.open(sealed, ad)
}

func (k *Keyring) open(sealed string, ad AssociatedData) (string, error) {
	id, raw, ok := parse(sealed)
	if !ok {
		return "", ErrNotSealed
	}
	c := k.find(id)
	if c == nil {
		return "", &UnknownKeyError{KeyID: id}
	}
	return c.open(raw, ad)
}

// NeedsReseal reports whether s should be sealed again with the first key:
// it was sealed by another (older) key, or it is not sealed at all.
func (k *Keyring) NeedsReseal(s string) bool {
	id, ok := KeyID(s)
	return !ok || k == nil || len(k.keys) == 0 || id != k.keys[0].id
}
