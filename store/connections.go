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

	sourceID        string   // the source SourceSlug names ("" if none)
	searchSourceIDs []string // sources whose slug contains Search
	// identifierMatch and slugMatch are the conditions that a connection's
	// identifier or its source's slug contains Search (Store.contains).
	identifierMatch, slugMatch string
	searchArg                  any
}

// resolveSourceConditions looks up, in the small sources table, the
// sources that the slug filter and the search name.
func (s *Store) resolveSourceConditions(ctx context.Context, f *ConnectionFilter) error {
	if f.SourceSlug != nil {
		var ids []string
		if err := s.db.WithContext(ctx).Model(&OAuthSource{}).Where("slug = ?", *f.SourceSlug).Pluck("id", &ids).Error; err != nil {
			return fmt.Errorf("resolve source slug: %w", translate(err))
		}
		if len(ids) == 1 {
			f.sourceID = ids[0]
		}
	}
	if f.Search != "" {
		f.identifierMatch, f.searchArg = s.contains("connections.identifier", f.Search)
		f.slugMatch, _ = s.contains("slug", f.Search)
		err := s.db.WithContext(ctx).Model(&OAuthSource{}).Where(f.slugMatch, f.searchArg).Pluck("id", &f.searchSourceIDs).Error
		if err != nil {
			return fmt.Errorf("resolve search: %w", translate(err))
		}
	}
	return nil
}

// connectionOrderColumns maps API ordering fields to columns.
var connectionOrderColumns = map[string]clause.Column{
	"pk":           {Table: "connections", Name: "id"},
	"user":         {Table: "connections", Name: "user_id"},
	"source__slug": {Table: "src", Name: "slug"},
	"identifier":   {Table: "connections", Name: "identifier"},
	"created":      {Table: "connections", Name: "created"},
}

var defaultConnectionOrdering = []string{"source__slug", "pk"}

// maxResolvedSources bounds the source ids a search binds as parameters.
const maxResolvedSources = 100

// orderFields is the ordering to apply. Under a source__slug filter every
// row has the same slug, so ordering by it is dropped: the rows then come
// in pk order straight from the (source_id, id) index instead of a sort.
func (f ConnectionFilter) orderFields() []string {
	fields := f.Ordering
	if len(fields) == 0 {
		fields = defaultConnectionOrdering
	}
	if f.SourceSlug == nil {
		return fields
	}
	var out []string
	for _, o := range fields {
		if strings.TrimPrefix(strings.TrimSpace(o), "-") != "source__slug" {
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		out = []string{"pk"}
	}
	return out
}

func scopeConnections(q *gorm.DB, sc Scope) *gorm.DB {
	if sc.All {
		return q
	}
	return q.Where("connections.user_id = ?", sc.UserID)
}

// GetConnection returns the connection with id, with its source, if the
// scope may see it. It returns ErrNotFound when there is none or the scope
// may not see it.
func (s *Store) GetConnection(ctx context.Context, sc Scope, id int64) (*Connection, error) {
	c, err := readConnection(connectionByID(s.db.WithContext(ctx), sc, id))
	if err != nil {
		return nil, fmt.Errorf("connection %d: %w", id, err)
	}
	return c, nil
}

// connectionByID selects the connection with id, joined to its source, if
// the scope may see it.
func connectionByID(db *gorm.DB, sc Scope, id int64) *gorm.DB {
	return scopeConnections(withSource(db), sc).Where("connections.id = ?", id)
}

// ListConnections returns one page of the connections matching f, with
// their sources, and the number of all matching connections. A page past
// the end is empty; only database failures are errors.
func (s *Store) ListConnections(ctx context.Context, f ConnectionFilter, p Page) ([]Connection, int64, error) {
	if err := s.resolveSourceConditions(ctx, &f); err != nil {
		return nil, 0, err
	}
	count, rows := s.connectionQueries(s.db.WithContext(ctx), f)
	return listPage("connections", count, readConnections, rows, p)
}

// connectionQueries builds, on db, the statements of a connection list:
// the count of the rows f selects, and their read in order (unpaged). f's
// source conditions must be resolved first (resolveSourceConditions).
func (s *Store) connectionQueries(db *gorm.DB, f ConnectionFilter) (count, rows *gorm.DB) {
	count = filterConnections(db.Model(&Connection{}), f)
	order := f.orderFields()
	from := withSource
	if strings.TrimPrefix(order[0], "-") == "source__slug" {
		from = s.sourcesFirst
	}
	return count, orderConnections(filterConnections(from(db), f), order)
}

func filterConnections(q *gorm.DB, f ConnectionFilter) *gorm.DB {
	q = scopeConnections(q, f.Scope)
	if f.UserID != nil {
		q = q.Where("connections.user_id = ?", *f.UserID)
	}
	// Source conditions arrive resolved to source ids (resolveSourceConditions),
	// so counting needs no join and the planner sees plain values it can
	// match to the (source_id, id) index and, on PostgreSQL, OR with the
	// trigram index on identifier.
	if f.SourceSlug != nil {
		q = q.Where("connections.source_id = ?", f.sourceID)
	}
	if f.Search != "" {
		switch n := len(f.searchSourceIDs); {
		case n > maxResolvedSources:
			// Too many to bind: let the database match the slugs itself.
			q = q.Where(`connections.source_id IN (SELECT id FROM oauth_sources WHERE `+f.slugMatch+`) OR `+f.identifierMatch, f.searchArg, f.searchArg)
		case n > 0:
			q = q.Where(`connections.source_id IN ? OR `+f.identifierMatch, f.searchSourceIDs, f.searchArg)
		default:
			q = q.Where(f.identifierMatch, f.searchArg)
		}
	}
	return q
}

func orderConnections(q *gorm.DB, fields []string) *gorm.DB {
	return q.Order(orderBy(fields, connectionOrderColumns, defaultConnectionOrdering, "pk"))
}

// CreateConnection inserts c. c.Source must already be loaded by the
// caller. It returns a *ConflictError (UniqueConnectionUserSource or
// UniqueConnectionSourceIdentifier), or ErrReference when the user or
// source no longer exists.
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
// writes every column back, so concurrent updates never interleave. It
// returns ErrNotFound (none, or not in scope), change's own error, a
// *ConflictError or ErrReference, and writes nothing then.
func (s *Store) UpdateConnection(ctx context.Context, sc Scope, id int64, change func(*Connection) error) (*Connection, error) {
	return updateLocked(s, ctx, fmt.Sprintf("connection %d", id),
		func(tx *gorm.DB) *gorm.DB { return connectionByID(tx, sc, id) },
		readConnection, change,
		func(tx *gorm.DB, c *Connection) error {
			c.LastUpdated = s.db.NowFunc()
			return tx.Model(&Connection{}).Where("id = ?", c.ID).Updates(map[string]any{
				"user_id":      c.UserID,
				"source_id":    c.SourceID,
				"identifier":   c.Identifier,
				"access_token": c.AccessToken,
				"expires":      c.Expires,
				"last_updated": c.LastUpdated,
			}).Error
		})
}

// DeleteConnection removes the connection with id if the scope may see
// it, or returns ErrNotFound.
func (s *Store) DeleteConnection(ctx context.Context, sc Scope, id int64) error {
	return deleted(fmt.Sprintf("connection %d", id), scopeConnections(s.db.WithContext(ctx), sc).Where("connections.id = ?", id).Delete(&Connection{}))
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
