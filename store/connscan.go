package store

import (
	"database/sql"
	"fmt"
	"sync"

	"gorm.io/gorm"
)

// connectionColumns are what connection reads select, in scanConnections'
// order: the connection (but its sealed access token, which reads do not
// need and which may be large), and the version of its source, whose fields come
// from the store's cache of sources (sourceCache) checked against it.
// Reading the eleven source columns of every row would cost more than the
// rest of a retrieve's row: a cgo call and an allocation per column.
const connectionColumns = "connections.id, connections.user_id, connections.source_id, connections.identifier, " +
	"connections.expires, connections.created, connections.last_updated, connections.version, src.version"

// withSource starts a connection read joined to its source.
func withSource(q *gorm.DB) *gorm.DB {
	return q.Table("connections").Select(connectionColumns).Joins("JOIN oauth_sources src ON src.id = connections.source_id")
}

// sourcesFirst starts a connection read that walks sources first. Ordered
// by source slug, SQLite then reads sources by their slug index and each
// source's connections by (source_id, id), already in order, instead of
// sorting every row; its CROSS JOIN fixes that loop order. PostgreSQL
// chooses its own join order.
func (s *Store) sourcesFirst(q *gorm.DB) *gorm.DB {
	if s.dialect != SQLite {
		return withSource(q)
	}
	return q.Table("oauth_sources src").Select(connectionColumns).Joins("CROSS JOIN connections ON src.id = connections.source_id")
}

// readConnections runs q (built on withSource) and scans its rows by hand
// (GORM's reflective scanning was half the cost of a retrieve), then
// attaches the sources, read through db when the cache lacks them.
func (s *Store) readConnections(db, q *gorm.DB) ([]Connection, error) {
	rows, err := q.Rows()
	if err != nil {
		return nil, err
	}
	conns, versions, err := scanConnections(rows)
	if err != nil {
		return nil, err
	}
	return conns, s.attachSources(db, conns, versions)
}

// scanConnections scans and closes rows selecting connectionColumns (and
// then the columns of extra, scanned into extra from every row); it returns
// the connections and the version of each one's source.
func scanConnections(rows *sql.Rows, extra ...any) (_ []Connection, _ []int64, err error) {
	defer func() {
		// What follows the rows may still fail the statement (PostgreSQL
		// reports a failure to commit, e.g. a deferred constraint, after
		// them): an error in closing is the statement's too.
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	out := []Connection{}
	var versions []int64
	for rows.Next() {
		// Scanned in place: a Connection holds its source, which is large
		// to copy into the slice.
		out, versions = append(out, Connection{}), append(versions, 0)
		c, sourceVersion := &out[len(out)-1], &versions[len(versions)-1]
		dest := []any{&c.ID, &c.UserID, &c.SourceID, &c.Identifier, &c.Expires, &c.Created, &c.LastUpdated,
			&c.Version, sourceVersion}
		if err := rows.Scan(append(dest, extra...)...); err != nil {
			return nil, nil, err
		}
	}
	return out, versions, rows.Err()
}

// readConnection is readConnections for one row, or ErrNotFound.
func (s *Store) readConnection(q *gorm.DB) (*Connection, error) {
	list, err := s.readConnections(q.Session(&gorm.Session{NewDB: true}), q.Limit(1))
	if err != nil {
		return nil, translate(err)
	}
	if len(list) == 0 {
		return nil, ErrNotFound
	}
	return &list[0], nil
}

// sourceCache keeps each OAuth source as of its latest version read.
// Sources are few and change seldom; every connection read joins in its
// source's version, so an entry is used only for the version the database
// holds, and a change made anywhere (another replica included) is seen at
// once.
type sourceCache struct {
	mu      sync.RWMutex
	entries map[string]*OAuthSource // by id
}

// maxCachedSources bounds the cache; when full it starts over.
const maxCachedSources = 10000

func (c *sourceCache) get(id string, version int64) (*OAuthSource, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	src, ok := c.entries[id]
	return src, ok && src.Version == version
}

// latest returns the cached source with id, whatever its version.
func (c *sourceCache) latest(id string) (*OAuthSource, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	src, ok := c.entries[id]
	return src, ok
}

func (c *sourceCache) put(src *OAuthSource) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= maxCachedSources {
		c.entries = map[string]*OAuthSource{}
	}
	if old, ok := c.entries[src.ID]; !ok || old.Version <= src.Version {
		c.entries[src.ID] = src
	}
}

// attachSources sets each connection's Source: the cached source when the
// cache holds the version its row joined, else the source read through db
// (the caller's transaction, if any, so that its own changes are seen) and
// cached. The rows must be closed first: a read that waited for a second
// pool connection while holding one could wait for ever.
func (s *Store) attachSources(db *gorm.DB, conns []Connection, versions []int64) error {
	for i := range conns {
		c := &conns[i]
		src, ok := s.sources.get(c.SourceID, versions[i])
		if !ok {
			var fresh OAuthSource
			if err := db.Session(&gorm.Session{NewDB: true}).Where("id = ?", c.SourceID).Take(&fresh).Error; err != nil {
				return fmt.Errorf("source %s: %w", c.SourceID, translate(err))
			}
			src = &fresh
			s.sources.put(src)
		}
		c.Source = *src
	}
	return nil
}
