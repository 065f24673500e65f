package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SourceFilter selects OAuth sources for ListSources. Each non-nil field
// must equal the source's field of the same name.
type SourceFilter struct {
	Name, Slug, ProviderType, ConsumerKey, AdditionalScopes       *string
	RequestTokenURL, AuthorizationURL, AccessTokenURL, ProfileURL *string
	AuthenticationFlow, EnrollmentFlow                            *string
	PolicyEngineMode, UserMatchingMode, GroupMatchingMode         *string
	Enabled                                                       *bool
	// HasJWKS selects sources with (true) or without (false) JWKS data.
	HasJWKS *bool
	// PBMUUID selects the source of that pk (authentik's pbm_uuid).
	PBMUUID *string
	// ProviderTypes keeps the sources of these provider types (nil: any).
	ProviderTypes []string
	// MaxURL keeps the sources whose four OAuth URLs have at most that
	// many characters each (0: any).
	MaxURL int
	// Search matches name or slug, ignoring case.
	Search string
	// Ordering holds API ordering fields; unknown fields are ignored.
	Ordering []string
}

// equalities pairs each set field of f with its column.
func (f SourceFilter) equalities() []clause.Eq {
	return equalities("",
		eq{"access_token_url", f.AccessTokenURL}, eq{"additional_scopes", f.AdditionalScopes},
		eq{"authentication_flow", f.AuthenticationFlow}, eq{"authorization_url", f.AuthorizationURL},
		eq{"consumer_key", f.ConsumerKey}, eq{"enabled", f.Enabled}, eq{"enrollment_flow", f.EnrollmentFlow},
		eq{"group_matching_mode", f.GroupMatchingMode}, eq{"name", f.Name}, eq{"id", f.PBMUUID},
		eq{"policy_engine_mode", f.PolicyEngineMode}, eq{"profile_url", f.ProfileURL},
		eq{"provider_type", f.ProviderType}, eq{"request_token_url", f.RequestTokenURL},
		eq{"slug", f.Slug}, eq{"user_matching_mode", f.UserMatchingMode})
}

var sourceOrderColumns = map[string]clause.Column{
	"pk":                 {Name: "id"},
	"name":               {Name: "name"},
	"slug":               {Name: "slug"},
	"enabled":            {Name: "enabled"},
	"provider_type":      {Name: "provider_type"},
	"policy_engine_mode": {Name: "policy_engine_mode"},
	"user_matching_mode": {Name: "user_matching_mode"},
}

// GetSourceBySlug returns the OAuth source with slug, or ErrNotFound.
func (s *Store) GetSourceBySlug(ctx context.Context, slug string) (*OAuthSource, error) {
	var src OAuthSource
	if err := s.db.WithContext(ctx).Where("slug = ?", slug).Take(&src).Error; err != nil {
		return nil, fmt.Errorf("source %q: %w", slug, translate(err))
	}
	return &src, nil
}

// GetSourceByID returns the OAuth source with the given pk, or ErrNotFound.
func (s *Store) GetSourceByID(ctx context.Context, id string) (*OAuthSource, error) {
	var src OAuthSource
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&src).Error; err != nil {
		return nil, fmt.Errorf("source %s: %w", id, translate(err))
	}
	return &src, nil
}

// ListSources returns one page of the sources matching f and the number of
// all matching sources.
func (s *Store) ListSources(ctx context.Context, f SourceFilter, p Page) ([]OAuthSource, int64, error) {
	return listPage("sources", s.filterSources(s.db.WithContext(ctx).Model(&OAuthSource{}), f), find[OAuthSource], s.filterSources(s.db.WithContext(ctx), f).Order(orderBy(f.Ordering, sourceOrderColumns, []string{"name"}, "slug")), p)
}

func (s *Store) filterSources(q *gorm.DB, f SourceFilter) *gorm.DB {
	for _, eq := range f.equalities() {
		q = q.Where(eq)
	}
	if f.ProviderTypes != nil {
		q = q.Where("provider_type IN ?", f.ProviderTypes)
	}
	if f.MaxURL > 0 {
		for _, col := range []string{"request_token_url", "authorization_url", "access_token_url", "profile_url"} {
			q = q.Where("("+col+" IS NULL OR length("+col+") <= ?)", f.MaxURL)
		}
	}
	if f.HasJWKS != nil {
		if *f.HasJWKS {
			q = q.Where("oidc_jwks NOT IN ('{}', 'null', '')")
		} else {
			q = q.Where("oidc_jwks IN ('{}', 'null', '')")
		}
	}
	if f.Search != "" {
		q = s.searchAny(q, f.Search, "name", "slug")
	}
	return q
}

// CreateSource inserts src. It returns a *ConflictError
// (UniqueSourceSlug, UniqueSourceManaged) when another source has its slug
// or managed name.
func (s *Store) CreateSource(ctx context.Context, src *OAuthSource) error {
	if err := s.sealConsumerSecret(src); err != nil {
		return err
	}
	err := s.writeLeavingConnections(ctx, func(tx *writeTx) error {
		if err := tx.db.Create(src).Error; err != nil {
			return err
		}
		return tx.record(ActionModelCreated, src, nil)
	})
	if err != nil {
		return fmt.Errorf("create source: %w", translate(err))
	}
	return nil
}

// consumerSecrets is the sealed column of sources' client secrets.
var consumerSecrets = sealedColumns[1]

// ConsumerSecret opens src's sealed consumer secret, for the server's own
// uses of it; the API never shows it. It returns ErrKeyUnavailable when
// this server lacks the key that sealed it.
func (s *Store) ConsumerSecret(src *OAuthSource) (string, error) {
	return s.open(consumerSecrets, src.ID, src.ConsumerSecretSealed)
}

// sealConsumerSecret seals src's plaintext consumer secret.
func (s *Store) sealConsumerSecret(src *OAuthSource) error {
	sealed, err := s.seal(consumerSecrets, src.ID, src.ConsumerSecret)
	src.ConsumerSecretSealed = sealed
	return err
}

// UpdateSource changes the source with slug in one transaction: it reads
// the row (locking it on PostgreSQL), lets change modify it, and writes
// every column back, so concurrent updates never lose one another. It
// returns ErrNotFound, change's own error or a *ConflictError, and writes
// nothing then.
func (s *Store) UpdateSource(ctx context.Context, slug string, change func(*OAuthSource) error) (*OAuthSource, error) {
	return updateLocked(s, ctx, sourceRow(slug), change,
		func(tx *writeTx, src *OAuthSource) error {
			src.Version++
			if src.ConsumerSecret != "" {
				if err := s.sealConsumerSecret(src); err != nil {
					return err
				}
			}
			return tx.db.Model(src).Select("*").Omit("id", "created_at").Updates(src).Error
		})
}

// DeleteSource removes the source with slug if check (nil: none) lets it;
// the database removes its connections in the same statement (ON DELETE
// CASCADE), and each removal has its event. It returns ErrNotFound or
// check's error, and removes nothing then.
func (s *Store) DeleteSource(ctx context.Context, slug string, check func(*OAuthSource) error) error {
	return removeLocked(s, ctx, sourceRow(slug), check, func(tx *writeTx, src *OAuthSource) error {
		if tx.audit != nil {
			conns, err := cascadedConnections(tx.db, "source_id", src.ID)
			if err != nil {
				return err
			}
			if err := tx.recordCascade(conns); err != nil {
				return err
			}
		}
		return tx.db.Where("id = ?", src.ID).Delete(&OAuthSource{}).Error
	})
}

// sourceRow finds the source with slug.
func sourceRow(slug string) row[OAuthSource] {
	return row[OAuthSource]{
		what: fmt.Sprintf("source %q", slug),
		find: func(tx *gorm.DB) *gorm.DB { return tx.Where("slug = ?", slug) },
		read: take[OAuthSource],
	}
}
