package store

import (
	"context"
	"fmt"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ConnectionFilter selects connections for ListConnections.
type ConnectionFilter struct {
	Scope      Scope
	UserID     *int64
	SourceSlug *string
	Search     string
	// Ordering holds API ordering fields ("source__slug", "-pk", ...);
	// unknown fields are ignored.
	Ordering []string
}

// connectionOrderColumns maps API ordering fields to columns.
var connectionOrderColumns = map[string]clause.Column{
	"pk":           {Table: "connections", Name: "id"},
	"user":         {Table: "connections", Name: "user_id"},
	"source__slug": {Table: "Source", Name: "slug"},
	"identifier":   {Table: "connections", Name: "identifier"},
	"created":      {Table: "connections", Name: "created"},
}

var defaultConnectionOrdering = []string{"source__slug", "pk"}

func scopeConnections(q *gorm.DB, sc Scope) *gorm.DB {
	if sc.All {
		return q
	}
	return q.Where("connections.user_id = ?", sc.UserID)
}

// GetConnection returns the connection with id, with its source, if the
// scope may see it.
func (s *Store) GetConnection(ctx context.Context, sc Scope, id int64) (*Connection, error) {
	var c Connection
	q := scopeConnections(s.db.WithContext(ctx).Joins("Source"), sc)
	if err := q.Where("connections.id = ?", id).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("connection %d: %w", id, translate(err))
	}
	return &c, nil
}

// ListConnections returns one page of the connections matching f, with
// their sources, and the number of all matching connections.
func (s *Store) ListConnections(ctx context.Context, f ConnectionFilter, p Page) ([]Connection, int64, error) {
	var total int64
	if err := filterConnections(s.db.WithContext(ctx).Model(&Connection{}), f).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count connections: %w", translate(err))
	}
	if total == 0 || p.Offset >= int(total) {
		return []Connection{}, total, nil
	}
	q := filterConnections(s.db.WithContext(ctx).Joins("Source"), f)
	q = orderConnections(q, f.Ordering).Offset(p.Offset).Limit(p.Limit)
	var out []Connection
	if err := q.Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("list connections: %w", translate(err))
	}
	return out, total, nil
}

func filterConnections(q *gorm.DB, f ConnectionFilter) *gorm.DB {
	q = scopeConnections(q, f.Scope)
	if f.UserID != nil {
		q = q.Where("connections.user_id = ?", *f.UserID)
	}
	// Source conditions are subqueries on oauth_sources, not conditions on
	// the joined row, so that counting needs no join and each side can use
	// its own index (PostgreSQL ORs a trigram index with source_id's).
	if f.SourceSlug != nil {
		q = q.Where("connections.source_id IN (SELECT id FROM oauth_sources WHERE slug = ?)", *f.SourceSlug)
	}
	if f.Search != "" {
		pat := likePattern(f.Search)
		q = q.Where(`connections.source_id IN (SELECT id FROM oauth_sources WHERE LOWER(slug) LIKE ? ESCAPE '\') OR LOWER(connections.identifier) LIKE ? ESCAPE '\'`, pat, pat)
	}
	return q
}

func orderConnections(q *gorm.DB, fields []string) *gorm.DB {
	var cols []clause.OrderByColumn
	seen := map[string]bool{}
	add := func(fields []string) {
		for _, f := range fields {
			f = strings.TrimSpace(f)
			desc := strings.HasPrefix(f, "-")
			name := strings.TrimPrefix(f, "-")
			col, ok := connectionOrderColumns[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			cols = append(cols, clause.OrderByColumn{Column: col, Desc: desc})
		}
	}
	add(fields)
	if len(cols) == 0 {
		add(defaultConnectionOrdering)
	}
	if !seen["pk"] {
		// A total order keeps pages stable.
		add([]string{"pk"})
	}
	return q.Order(clause.OrderBy{Columns: cols})
}

// CreateConnection inserts c. c.Source must already be loaded by the caller.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	now := s.db.NowFunc()
	c.Created, c.LastUpdated = now, now
	if err := s.db.WithContext(ctx).Omit(clause.Associations).Create(c).Error; err != nil {
		return fmt.Errorf("create connection: %w", translate(err))
	}
	return nil
}

// UpdateConnection changes the connection id, if the scope may see it, in
// one transaction: it reads the row (locking it on PostgreSQL; SQLite's
// BEGIN IMMEDIATE already serialises writers), lets change modify it, and
// writes every column back, so concurrent updates never interleave.
func (s *Store) UpdateConnection(ctx context.Context, sc Scope, id int64, change func(*Connection) error) (*Connection, error) {
	var c Connection
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := scopeConnections(tx.Joins("Source"), sc).Where("connections.id = ?", id)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: "connections"}})
		}
		if err := q.Take(&c).Error; err != nil {
			return fmt.Errorf("connection %d: %w", id, translate(err))
		}
		if err := change(&c); err != nil {
			return err
		}
		c.LastUpdated = s.db.NowFunc()
		err := tx.Model(&Connection{}).Where("id = ?", id).Updates(map[string]any{
			"user_id":      c.UserID,
			"source_id":    c.SourceID,
			"identifier":   c.Identifier,
			"access_token": c.AccessToken,
			"expires":      c.Expires,
			"last_updated": c.LastUpdated,
		}).Error
		if err != nil {
			return fmt.Errorf("update connection %d: %w", id, translate(err))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// DeleteConnection removes the connection with id if the scope may see it.
func (s *Store) DeleteConnection(ctx context.Context, sc Scope, id int64) error {
	res := scopeConnections(s.db.WithContext(ctx), sc).Where("connections.id = ?", id).Delete(&Connection{})
	if res.Error != nil {
		return fmt.Errorf("delete connection %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("delete connection %d: %w", id, ErrNotFound)
	}
	return nil
}

// ConnectionsOfSource lists the connections of a source that the scope may
// see, ordered by id.
func (s *Store) ConnectionsOfSource(ctx context.Context, sc Scope, sourceID string) ([]Connection, error) {
	var out []Connection
	q := scopeConnections(s.db.WithContext(ctx), sc).Where("connections.source_id = ?", sourceID).Order("connections.id")
	if err := q.Find(&out).Error; err != nil {
		return nil, fmt.Errorf("connections of source: %w", translate(err))
	}
	return out, nil
}
