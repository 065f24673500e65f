package store

import (
	"context"
	"fmt"
	"sort"
	"strconv"
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
	// MaxIdentifier keeps the connections whose identifier has at most
	// that many characters (0: any).
	MaxIdentifier int
	// Ordering holds API ordering fields ("source__slug", "-pk", ...);
	// unknown fields are ignored.
	Ordering []string

	sourceID        string   // the source SourceSlug names ("" if none)
	searchSourceIDs []string // sources whose slug contains Search
	// identifierMatch and slugMatch are the conditions (and their
	// arguments) that a connection's identifier or its source's slug
	// contains Search.
	identifierMatch, slugMatch string
	identifierArgs             []any
	slugArg                    any
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
		f.identifierMatch, f.identifierArgs = s.identifierMatch(ctx, f.Search)
		f.slugMatch, f.slugArg = s.contains("slug", f.Search)
		err := s.db.WithContext(ctx).Model(&OAuthSource{}).Where(f.slugMatch, f.slugArg).Pluck("id", &f.searchSourceIDs).Error
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

// ListConnections returns one page of the connections matching f, with
// their sources, and the number of all matching connections. A page past
// the end is empty; only database failures are errors.
//
// Its cost is bounded by the page, not the table, for every list the
// admin view makes: counts of all connections or of one source's come from
// connection_counts (kept by triggers), the default order walks sources
// by slug and each source's connections by its (source_id, id) index
// (skipping whole sources by their counts), and the other orderings walk
// an index that ends in the pk.
func (s *Store) ListConnections(ctx context.Context, f ConnectionFilter, p Page) ([]Connection, int64, error) {
	if err := s.resolveSourceConditions(ctx, &f); err != nil {
		return nil, 0, err
	}
	db := s.db.WithContext(ctx)
	count, rows := s.connectionQueries(db, f)
	total, counted, err := s.countFromCounters(db, f)
	if err != nil {
		return nil, 0, fmt.Errorf("count connections: %w", translate(err))
	}
	if !counted && f.Search != "" {
		// A search finds its matches once: the page's rows carry their
		// number (a window count), instead of a count and a read each
		// looking the term up in the index.
		out, total, err := s.readCountedPage(db, rows, p)
		if err == nil && total < 0 {
			err = count.Count(&total).Error // the page lies past the end
			out = []Connection{}
		}
		if err != nil {
			return nil, 0, fmt.Errorf("list connections: %w", translate(err))
		}
		return out, total, nil
	}
	if !counted {
		if err := count.Count(&total).Error; err != nil {
			return nil, 0, fmt.Errorf("count connections: %w", translate(err))
		}
	}
	if total == 0 || int64(p.Offset) >= total {
		return []Connection{}, total, nil
	}
	var out []Connection
	if slugDesc, idDesc, ok := f.walksSources(); ok && counted && f.SourceSlug == nil {
		out, err = s.walkSources(db, p, slugDesc, idDesc)
	} else {
		out, err = s.readConnections(db, rows.Offset(p.Offset).Limit(p.Limit))
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list connections: %w", translate(err))
	}
	return out, total, nil
}

// readCountedPage reads the page p of rows together with the number of
// all rows (COUNT(*) OVER ()). A page past the end holds no row to carry
// the number: it returns a total of -1 then (0 when the page is the
// first, since there are no rows at all).
func (s *Store) readCountedPage(db, rows *gorm.DB, p Page) ([]Connection, int64, error) {
	q, err := rows.Select(connectionColumns + ", COUNT(*) OVER ()").Offset(p.Offset).Limit(p.Limit).Rows()
	if err != nil {
		return nil, 0, err
	}
	var total int64 = -1
	if p.Offset == 0 {
		total = 0
	}
	conns, versions, err := scanConnections(q, &total)
	if err != nil {
		return nil, 0, err
	}
	return conns, total, s.attachSources(db, conns, versions)
}

// countFromCounters reads the number of connections f selects from
// connection_counts when f's only condition is a source (or none), and
// reports whether it could.
func (s *Store) countFromCounters(db *gorm.DB, f ConnectionFilter) (int64, bool, error) {
	if !f.Scope.All || f.UserID != nil || f.Search != "" || f.MaxIdentifier > 0 {
		return 0, false, nil
	}
	scope := ""
	if f.SourceSlug != nil {
		if f.sourceID == "" {
			return 0, true, nil // no such source
		}
		scope = f.sourceID
	}
	var n int64
	err := db.Raw("SELECT COALESCE(SUM(n), 0) FROM connection_counts WHERE scope = ?", scope).Scan(&n).Error
	return n, true, err
}

// walksSources reports whether f's ordering is by source slug and then
// pk, each way, the order walkSources can serve.
func (f ConnectionFilter) walksSources() (slugDesc, idDesc, ok bool) {
	cols := orderBy(f.orderFields(), connectionOrderColumns, defaultConnectionOrdering, "pk").Columns
	if len(cols) != 2 || cols[0].Column != connectionOrderColumns["source__slug"] || cols[1].Column != connectionOrderColumns["pk"] {
		return false, false, false
	}
	return cols[0].Desc, cols[1].Desc, true
}

// walkSources reads the page p of all connections ordered by source slug
// and then id: it lists the sources in slug order with their counts, skips
// the sources wholly before the page, and reads each source the page
// touches by its (source_id, id) index, from the offset within it.
func (s *Store) walkSources(db *gorm.DB, p Page, slugDesc, idDesc bool) ([]Connection, error) {
	slugOrder, idOrder := "ASC", "ASC"
	if slugDesc {
		slugOrder = "DESC"
	}
	if idDesc {
		idOrder = "DESC"
	}
	var sources []struct {
		ID string
		N  int64
	}
	// Each source's count by the counters' primary key (a correlated
	// subquery), never a join the planner may answer by scanning the
	// counters, whose every write leaves a dead row on PostgreSQL.
	err := db.Raw(`SELECT src.id AS id, (SELECT COALESCE(SUM(cc.n), 0) FROM connection_counts cc WHERE cc.scope = src.id) AS n
		FROM oauth_sources src ORDER BY src.slug ` + slugOrder).Scan(&sources).Error
	if err != nil {
		return nil, err
	}
	// One range read per source the page touches, in one statement.
	var parts []string
	var args []any
	rank := map[string]int{}
	skip, need := int64(p.Offset), int64(p.Limit)
	for _, src := range sources {
		if need == 0 {
			break
		}
		if skip >= src.N {
			skip -= src.N
			continue
		}
		take := min(need, src.N-skip)
		rank[src.ID] = len(parts)
		parts = append(parts, "SELECT * FROM (SELECT "+connectionColumns+" FROM connections JOIN oauth_sources src ON src.id = connections.source_id"+
			" WHERE "+oneSource+" ORDER BY connections.source_id "+idOrder+", connections.id "+idOrder+" LIMIT ? OFFSET ?) AS p"+strconv.Itoa(len(parts)))
		args = append(args, src.ID, src.ID, take, skip)
		need -= take
		skip = 0
	}
	if len(parts) == 0 {
		return []Connection{}, nil
	}
	out, err := s.readConnections(db, db.Raw(strings.Join(parts, " UNION ALL "), args...))
	if err != nil {
		return nil, err
	}
	// UNION ALL keeps no order: put the sources back in theirs.
	sort.SliceStable(out, func(i, j int) bool {
		if ri, rj := rank[out[i].SourceID], rank[out[j].SourceID]; ri != rj {
			return ri < rj
		}
		return (out[i].ID < out[j].ID) != idDesc
	})
	return out, nil
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
	ob := orderBy(order, connectionOrderColumns, defaultConnectionOrdering, "pk")
	if f.SourceSlug != nil && len(ob.Columns) == 1 && ob.Columns[0].Column == connectionOrderColumns["pk"] {
		// Every row has the one source: ordered by (source_id, pk), which is
		// the same order, only the (source_id, id) index serves it. Ordered
		// by pk alone, PostgreSQL walked the primary key filtering by source
		// (it cannot know that a source's connections cluster), reading
		// 300,000 rows for the first 100 of the fourth source.
		ob.Columns = append([]clause.OrderByColumn{{Column: clause.Column{Table: "connections", Name: "source_id"}, Desc: ob.Columns[0].Desc}}, ob.Columns...)
	}
	return count, filterConnections(from(db), f).Order(ob)
}

// oneSource selects one source's connections (its id twice) as a range,
// not an equality: with an equality PostgreSQL takes source_id for a
// constant, drops it from ORDER BY source_id, id and walks the primary key
// instead of the (source_id, id) index, filtering out every other
// source's rows on the way (docs/QUERY_PLANS.md). The range leaves it the index,
// whose walk stops at the page. Same rows on both backends.
const oneSource = "connections.source_id >= ? AND connections.source_id <= ?"

func filterConnections(q *gorm.DB, f ConnectionFilter) *gorm.DB {
	q = scopeConnections(q, f.Scope)
	if f.UserID != nil {
		q = q.Where("connections.user_id = ?", *f.UserID)
	}
	if f.MaxIdentifier > 0 {
		q = q.Where("length(connections.identifier) <= ?", f.MaxIdentifier)
	}
	// Source conditions arrive resolved to source ids (resolveSourceConditions),
	// so counting needs no join and the planner sees plain values it can
	// match to the (source_id, id) index and, on PostgreSQL, OR with the
	// trigram index on identifier.
	if f.SourceSlug != nil {
		q = q.Where(oneSource, f.sourceID, f.sourceID)
	}
	if f.Search != "" {
		switch n := len(f.searchSourceIDs); {
		case n > maxResolvedSources:
			// Too many to bind: let the database match the slugs itself.
			q = q.Where(`connections.source_id IN (SELECT id FROM oauth_sources WHERE `+f.slugMatch+`) OR `+f.identifierMatch, append([]any{f.slugArg}, f.identifierArgs...)...)
		case n > 0:
			q = q.Where(`connections.source_id IN ? OR `+f.identifierMatch, append([]any{f.searchSourceIDs}, f.identifierArgs...)...)
		default:
			q = q.Where(f.identifierMatch, f.identifierArgs...)
		}
	}
	return q
}
