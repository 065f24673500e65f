package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Token intents, as in authentik.
const (
	IntentAPI = "api"
)

// keyAlphabet and keyLength follow authentik's generate_id(): 60
// characters of [a-zA-Z0-9], about 357 bits.
const (
	keyAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	keyLength   = 60
)

// NewKey returns a fresh token key from the system's CSPRNG.
func NewKey() string {
	b := make([]byte, keyLength)
	limit := byte(256 - 256%len(keyAlphabet)) // reject bytes that would bias the draw
	for i := 0; i < keyLength; {
		var buf [64]byte
		if _, err := rand.Read(buf[:]); err != nil {
			panic("crypto/rand: " + err.Error())
		}
		for _, c := range buf {
			if c < limit && i < keyLength {
				b[i] = keyAlphabet[int(c)%len(keyAlphabet)]
				i++
			}
		}
	}
	return string(b)
}

// HashKey returns the lookup hash of a token key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Authenticate returns the active owner of the unexpired API token whose
// key is key, and when that token expires (nil: never), or ErrNotFound.
// The token is found by the SHA-256 of the key; the sealed key is never
// opened for it.
func (s *Store) Authenticate(ctx context.Context, key string, now time.Time) (*User, *time.Time, error) {
	var t Token
	err := s.db.WithContext(ctx).Joins("User").
		Where("tokens.key_hash = ? AND tokens.intent = ?", HashKey(key), IntentAPI).
		Take(&t).Error
	if err != nil {
		return nil, nil, fmt.Errorf("token: %w", translate(err))
	}
	var expires *time.Time
	if t.Expiring && t.Expires != nil {
		if !t.Expires.After(now) {
			return nil, nil, fmt.Errorf("token expired: %w", ErrNotFound)
		}
		expires = t.Expires
	}
	if !t.User.IsActive {
		return nil, nil, fmt.Errorf("token of inactive user: %w", ErrNotFound)
	}
	return &t.User, expires, nil
}

// CreateToken inserts t, deriving its lookup hash from its key. It
// returns a *ConflictError (UniqueTokenIdentifier, UniqueTokenKey,
// UniqueTokenManaged), or ErrReference when its user no longer exists.
func (s *Store) CreateToken(ctx context.Context, t *Token) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	if err := s.sealKey(t); err != nil {
		return err
	}
	err := s.writeLeavingConnections(ctx, func(tx *writeTx) error {
		if err := tx.db.Omit("User").Create(t).Error; err != nil {
			return err
		}
		return tx.record(ActionModelCreated, t, nil)
	})
	if err != nil {
		return fmt.Errorf("create token: %w", translate(err))
	}
	return nil
}

// sealKey derives t's lookup hash from its plaintext key and seals the
// key into KeySealed.
func (s *Store) sealKey(t *Token) error {
	t.KeyHash = HashKey(t.Key)
	sealed, err := s.seal(tokenKeys, t.ID, t.Key)
	t.KeySealed = sealed
	return err
}

// tokenKeys is the sealed column of token keys.
var tokenKeys = sealedColumns[2]

// TokenKey opens t's sealed key (view_key). It returns ErrKeyUnavailable
// when this server lacks the key that sealed it.
func (s *Store) TokenKey(t *Token) (string, error) {
	return s.open(tokenKeys, t.ID, t.KeySealed)
}

// TokenFilter selects tokens for ListTokens. Each non-nil field must
// equal the token's field of the same name.
type TokenFilter struct {
	Scope                            Scope
	Identifier, Description, Managed *string
	Intent                           *string
	Expiring                         *bool
	Expires                          *time.Time
	// UserUsername is the username of the token's owner.
	UserUsername *string
	// Search matches identifier, intent, owner's username or description,
	// ignoring case.
	Search   string
	Ordering []string
}

// equalities pairs each set field of f with its column.
func (f TokenFilter) equalities() []clause.Eq {
	return equalities("tokens", eq{"description", f.Description}, eq{"expires", f.Expires}, eq{"expiring", f.Expiring},
		eq{"identifier", f.Identifier}, eq{"intent", f.Intent}, eq{"managed", f.Managed})
}

var tokenOrderColumns = map[string]clause.Column{
	"pk":          {Table: "tokens", Name: "id"},
	"identifier":  {Table: "tokens", Name: "identifier"},
	"intent":      {Table: "tokens", Name: "intent"},
	"user":        {Table: "tokens", Name: "user_id"},
	"description": {Table: "tokens", Name: "description"},
	"expires":     {Table: "tokens", Name: "expires"},
	"expiring":    {Table: "tokens", Name: "expiring"},
	"managed":     {Table: "tokens", Name: "managed"},
}

func scopeTokens(q *gorm.DB, sc Scope) *gorm.DB {
	if sc.All {
		return q
	}
	return q.Where("tokens.user_id = ?", sc.UserID)
}

// GetToken returns the token called identifier, with its user, if the
// scope may see it, or ErrNotFound.
func (s *Store) GetToken(ctx context.Context, sc Scope, identifier string) (*Token, error) {
	var t Token
	q := scopeTokens(s.db.WithContext(ctx).Joins("User"), sc).Where("tokens.identifier = ?", identifier)
	if err := q.Take(&t).Error; err != nil {
		return nil, fmt.Errorf("token %q: %w", identifier, translate(err))
	}
	return &t, nil
}

// ListTokens returns one page of the tokens matching f, with their users,
// and the number of all matching tokens.
func (s *Store) ListTokens(ctx context.Context, f TokenFilter, p Page) ([]Token, int64, error) {
	return listPage("tokens", s.filterTokens(s.db.WithContext(ctx).Model(&Token{}).Joins("User"), f), find[Token], s.filterTokens(s.db.WithContext(ctx).Joins("User"), f).Order(orderBy(f.Ordering, tokenOrderColumns, []string{"identifier"}, "pk")), p)
}

func (s *Store) filterTokens(q *gorm.DB, f TokenFilter) *gorm.DB {
	q = scopeTokens(q, f.Scope)
	for _, eq := range f.equalities() {
		q = q.Where(eq)
	}
	if f.UserUsername != nil {
		q = q.Where(`"User".username = ?`, *f.UserUsername)
	}
	if f.Search != "" {
		q = s.searchAny(q, f.Search, "tokens.identifier", "tokens.intent", `"User".username`, "tokens.description")
	}
	return q
}

// UpdateToken changes the token called identifier, if the scope may see
// it, in one transaction, as UpdateSource does. Its key never changes. It
// returns ErrNotFound, change's own error, a *ConflictError or
// ErrReference, and writes nothing then.
func (s *Store) UpdateToken(ctx context.Context, sc Scope, identifier string, change func(*Token) error) (*Token, error) {
	return updateLocked(s, ctx, tokenRow(sc, identifier), change,
		func(tx *writeTx, t *Token) error {
			t.Version++
			return tx.db.Model(t).Omit(clause.Associations).
				Select("identifier", "intent", "user_id", "description", "expires", "expiring", "managed", "version").Updates(t).Error
		})
}

// DeleteToken removes the token called identifier if the scope may see it
// and check (nil: none) lets it, in one transaction with its event. It
// returns ErrNotFound (none, or not in scope) or check's error, and
// removes nothing then.
func (s *Store) DeleteToken(ctx context.Context, sc Scope, identifier string, check func(*Token) error) error {
	return removeLocked(s, ctx, tokenRow(sc, identifier), check, func(tx *writeTx, t *Token) error {
		return tx.db.Where("id = ?", t.ID).Delete(&Token{}).Error
	})
}

// tokenRow finds the token called identifier, with its user, if the scope
// may see it.
func tokenRow(sc Scope, identifier string) row[Token] {
	return row[Token]{
		what: fmt.Sprintf("token %q", identifier),
		find: func(tx *gorm.DB) *gorm.DB {
			return scopeTokens(tx.Joins("User"), sc).Where("tokens.identifier = ?", identifier)
		},
		read: take[Token],
	}
}
