package store

import "time"

// User is a local account. Only the fields this slice serves are modelled.
type User struct {
	ID          int64          `gorm:"primaryKey"`
	UUID        string         `gorm:"size:36;not null;uniqueIndex"`
	Username    string         `gorm:"size:150;not null;uniqueIndex"`
	Name        string         `gorm:"not null"`
	Email       string         `gorm:"size:254;not null;index"`
	IsActive    bool           `gorm:"not null"`
	IsSuperuser bool           `gorm:"not null"`
	Path        string         `gorm:"not null"`
	Type        string         `gorm:"size:32;not null"`
	Attributes  map[string]any `gorm:"serializer:json;not null"`
	DateJoined  time.Time      `gorm:"not null"`
	LastLogin   *time.Time
	// LastUpdated is the time of the user's last save, creation included
	// (authentik's auto_now); the store sets it.
	LastUpdated time.Time `gorm:"not null"`
	// PasswordChangeDate is the time the password last changed: with no
	// passwords here, the creation time (authentik's auto_now_add).
	PasswordChangeDate time.Time `gorm:"not null"`
	// Version counts the committed changes of the row (ETags).
	Version int64 `gorm:"not null;default:1"`
}

// TableName names the users table.
func (User) TableName() string { return "users" }

// Token is an API (or other intent) token of a user. Its key is kept
// sealed (KeySealed) so that view_key can reveal it; lookups go through
// KeyHash, the key's SHA-256.
type Token struct {
	ID         string `gorm:"primaryKey;size:36"`
	Identifier string `gorm:"size:255;not null;uniqueIndex"`
	// Key is the plaintext key, set only by whoever creates the token (the
	// store seals it into KeySealed); reads leave it empty.
	Key         string     `gorm:"-"`
	KeySealed   string     `gorm:"column:key;not null"`
	KeyHash     string     `gorm:"size:64;not null;uniqueIndex"`
	Intent      string     `gorm:"size:32;not null"`
	UserID      int64      `gorm:"not null;index"`
	User        User       `gorm:"constraint:OnDelete:CASCADE"`
	Description string     `gorm:"not null"`
	Expires     *time.Time `gorm:"index"`
	Expiring    bool       `gorm:"not null"`
	Managed     *string    `gorm:"uniqueIndex"`
	// Version counts the committed changes of the row (ETags).
	Version int64 `gorm:"not null;default:1"`
}

// TableName names the tokens table.
func (Token) TableName() string { return "tokens" }

// OAuthSource is an external OAuth/OIDC provider that users link to.
type OAuthSource struct {
	ID                    string   `gorm:"primaryKey;size:36"`
	Name                  string   `gorm:"not null;index"`
	Slug                  string   `gorm:"not null;uniqueIndex"`
	Enabled               bool     `gorm:"not null"`
	AuthenticationFlow    *string  `gorm:"size:36"`
	EnrollmentFlow        *string  `gorm:"size:36"`
	UserPropertyMappings  []string `gorm:"serializer:json;not null"`
	GroupPropertyMappings []string `gorm:"serializer:json;not null"`
	PolicyEngineMode      string   `gorm:"size:8;not null"`
	UserMatchingMode      string   `gorm:"size:32;not null"`
	GroupMatchingMode     string   `gorm:"size:32;not null"`
	Managed               *string  `gorm:"uniqueIndex"`
	UserPathTemplate      string   `gorm:"not null"`
	ProviderType          string   `gorm:"size:32;not null"`
	RequestTokenURL       *string
	AuthorizationURL      *string
	AccessTokenURL        *string
	ProfileURL            *string
	ConsumerKey           string `gorm:"not null"`
	// ConsumerSecret is a new plaintext secret to store (sealed into
	// ConsumerSecretSealed); reads leave it empty.
	ConsumerSecret       string `gorm:"-"`
	ConsumerSecretSealed string `gorm:"column:consumer_secret;not null"`
	AdditionalScopes     string `gorm:"not null"`
	OIDCWellKnownURL     string `gorm:"column:oidc_well_known_url;not null"`
	OIDCJWKSURL          string `gorm:"column:oidc_jwks_url;not null"`
	OIDCJWKS             any    `gorm:"column:oidc_jwks;serializer:json;not null"`
	// PKCE is the PKCE method (none, plain, S256) and
	// AuthorizationCodeAuthMethod how the client authenticates at the token
	// endpoint (basic_auth, post_body): authentik 2026.8's fields, with its
	// defaults.
	PKCE                        string `gorm:"column:pkce;not null;default:none"`
	AuthorizationCodeAuthMethod string `gorm:"not null;default:basic_auth"`
	Promoted                    bool   `gorm:"not null"`
	// Icon is the icon's file reference (authentik 2026.8's writable icon):
	// a URL, a /static path or an uploaded file's name; "" for none.
	Icon      string `gorm:"not null"`
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version counts the committed changes of the row (ETags, and the store's cache of sources).
	Version int64 `gorm:"not null;default:1"`
}

// TableName names the OAuth sources table.
func (OAuthSource) TableName() string { return "oauth_sources" }

// Connection links a local user to their account at an OAuth source.
// A user has at most one connection per source, and an external account
// (source, identifier) belongs to at most one user.
type Connection struct {
	ID         int64       `gorm:"primaryKey;index:idx_connections_source_id_id,priority:2;index:idx_connections_user_id_id,priority:2;index:idx_connections_identifier,priority:2;index:idx_connections_created,priority:2"`
	UserID     int64       `gorm:"not null;uniqueIndex:uq_connection_user_source,priority:1;index:idx_connections_user_id_id,priority:1"`
	User       User        `gorm:"constraint:OnDelete:CASCADE"`
	SourceID   string      `gorm:"size:36;not null;uniqueIndex:uq_connection_user_source,priority:2;uniqueIndex:uq_connection_source_identifier,priority:1;index:idx_connections_source_id_id,priority:1"`
	Source     OAuthSource `gorm:"constraint:OnDelete:CASCADE"`
	Identifier string      `gorm:"not null;uniqueIndex:uq_connection_source_identifier,priority:2;index:idx_connections_identifier,priority:1"`
	// SetAccessToken asks a write to store AccessToken, a new plaintext
	// token (nil: none), sealed into AccessTokenSealed. Reads fill none of
	// the three: the API never shows the token, and a read of every list
	// row should not carry it.
	SetAccessToken    bool    `gorm:"-"`
	AccessToken       *string `gorm:"-"`
	AccessTokenSealed *string `gorm:"column:access_token"`
	Expires           *time.Time
	Created           time.Time `gorm:"not null;index:idx_connections_created,priority:1"`
	LastUpdated       time.Time `gorm:"not null"`
	// Version counts the committed changes of the row (ETags).
	Version int64 `gorm:"not null;default:1"`
}

// TableName names the connections table.
func (Connection) TableName() string { return "connections" }

// ConnectionCount is one shard of the number of connections in a scope:
// all connections (Scope "") or one source's (Scope = its id). Triggers
// keep it (migrations 00004 and 00010; on PostgreSQL each database session
// writes a shard of its own); the count of a scope is the sum of its
// shards, one of which may be negative.
type ConnectionCount struct {
	Scope string `gorm:"primaryKey"`
	Shard int    `gorm:"primaryKey;autoIncrement:false"`
	N     int64  `gorm:"not null"`
}

// TableName names the connection counts table.
func (ConnectionCount) TableName() string { return "connection_counts" }

// SecretKey records, for each key that has sealed values here, a value
// sealed with it (a check value), so that a server whose keys cannot open
// it is refused at start.
type SecretKey struct {
	KeyID      string `gorm:"primaryKey"`
	CheckValue string `gorm:"not null"`
}

// TableName names the secret keys table.
func (SecretKey) TableName() string { return "secret_keys" }

// StoreState holds named facts about the database's content that the
// store acts on at start, e.g. whether plaintext secrets remain from an
// earlier release.
type StoreState struct {
	Name  string `gorm:"primaryKey"`
	Value string `gorm:"not null"`
}

// TableName names the store state table.
func (StoreState) TableName() string { return "store_state" }
