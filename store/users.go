package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// Token intents, as in authentik.
const (
	IntentAPI = "api"
)

// HashKey returns the lookup hash of a token key.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// GetUser returns the user with id.
func (s *Store) GetUser(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("user %d: %w", id, translate(err))
	}
	return &u, nil
}

// Authenticate returns the active owner of the unexpired API token whose
// key is key, or ErrNotFound. The stored key is compared in constant time.
func (s *Store) Authenticate(ctx context.Context, key string, now time.Time) (*User, error) {
	var t Token
	err := s.db.WithContext(ctx).Joins("User").
		Where("tokens.key_hash = ? AND tokens.intent = ?", HashKey(key), IntentAPI).
		Take(&t).Error
	if err != nil {
		return nil, fmt.Errorf("token: %w", translate(err))
	}
	if subtle.ConstantTimeCompare([]byte(t.Key), []byte(key)) != 1 {
		return nil, fmt.Errorf("token: %w", ErrNotFound)
	}
	if t.Expiring && t.Expires != nil && !t.Expires.After(now) {
		return nil, fmt.Errorf("token expired: %w", ErrNotFound)
	}
	if !t.User.IsActive {
		return nil, fmt.Errorf("token of inactive user: %w", ErrNotFound)
	}
	return &t.User, nil
}

// NewUser fills the fields authentik derives for a new user.
func NewUser(username string, superuser bool) *User {
	return &User{
		UUID:        uuid.NewString(),
		Username:    username,
		Name:        username,
		IsActive:    true,
		IsSuperuser: superuser,
		Path:        "users",
		Type:        "internal",
		Attributes:  "{}",
		DateJoined:  time.Now().UTC().Truncate(time.Microsecond),
	}
}

// Bootstrap creates, once, the superuser akadmin and a non-expiring API
// token with key, as authentik does for AUTHENTIK_BOOTSTRAP_TOKEN. Running
// it again with the same key changes nothing.
func (s *Store) Bootstrap(ctx context.Context, key string) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var u User
		err := tx.Where("username = ?", "akadmin").Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u = *NewUser("akadmin", true)
			u.Name = "authentik Default Admin"
			if err := tx.Create(&u).Error; err != nil {
				return fmt.Errorf("create akadmin: %w", translate(err))
			}
		case err != nil:
			return fmt.Errorf("find akadmin: %w", err)
		}
		managed := "goauthentik.io/core/token/bootstrap"
		var t Token
		err = tx.Where("managed = ?", managed).Take(&t).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			t = Token{ID: uuid.NewString(), Identifier: "authentik-bootstrap-token", Managed: &managed,
				Intent: IntentAPI, UserID: u.ID, Description: "Bootstrap token"}
		case err != nil:
			return fmt.Errorf("find bootstrap token: %w", err)
		}
		t.Key, t.KeyHash, t.Expiring, t.Expires = key, HashKey(key), false, nil
		if err := tx.Omit("User").Save(&t).Error; err != nil {
			return fmt.Errorf("save bootstrap token: %w", translate(err))
		}
		return nil
	})
}

// CreateUser inserts u.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	if err := s.db.WithContext(ctx).Create(u).Error; err != nil {
		return fmt.Errorf("create user: %w", translate(err))
	}
	return nil
}

// CreateToken inserts t, deriving its lookup hash from its key.
func (s *Store) CreateToken(ctx context.Context, t *Token) error {
	if t.ID == "" {
		t.ID = uuid.NewString()
	}
	t.KeyHash = HashKey(t.Key)
	if err := s.db.WithContext(ctx).Omit("User").Create(t).Error; err != nil {
		return fmt.Errorf("create token: %w", translate(err))
	}
	return nil
}
