package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"gorm.io/gorm"
)

func scopeConnections(q *gorm.DB, sc Scope) *gorm.DB {
	if sc.All {
		return q
	}
	return q.Where("connections.user_id = ?", sc.UserID)
}

// GetConnection returns the connection with id, with its source, if the
// scope may see it. It returns ErrNotFound when there is none or the scope
// may not see it.
//
// It is the API's hottest read, so it runs one of two statements written
// and prepared once (byIDStatements) instead of building one with GORM.
func (s *Store) GetConnection(ctx context.Context, sc Scope, id int64) (*Connection, error) {
	if s.byID.all == nil {
		return nil, fmt.Errorf("connection %d: the database has no connections table (apply the migrations)", id)
	}
	stmt, args := s.byID.all, []any{id}
	if !sc.All {
		stmt, args = s.byID.owned, append(args, sc.UserID)
	}
	// A point read by primary key is short: it runs without the request's
	// cancellation, which costs SQLite's driver a goroutine per row.
	rows, err := stmt.QueryContext(context.WithoutCancel(ctx), args...)
	if err != nil {
		return nil, fmt.Errorf("connection %d: %w", id, translate(err))
	}
	list, versions, err := scanConnections(rows)
	if err == nil {
		// Without the request's context too: a source is read only when
		// the cache lacks its version, and a GORM session made for every
		// read would cost every read.
		err = s.attachSources(s.db, list, versions)
	}
	if err != nil {
		return nil, fmt.Errorf("connection %d: %w", id, translate(err))
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("connection %d: %w", id, ErrNotFound)
	}
	return &list[0], nil
}

// byIDStatements are the prepared point reads: one connection, with its
// source, by id (of anyone, or of one owner), and a source's version.
type byIDStatements struct {
	all, owned, sourceVersion *sql.Stmt
}

// prepareByID prepares the point reads (byIDStatements).
func (s *Store) prepareByID(sqlDB *sql.DB) error {
	query := "SELECT " + connectionColumns + " FROM connections JOIN oauth_sources src ON src.id = connections.source_id WHERE connections.id = "
	owner := " AND connections.user_id = "
	version := "SELECT version FROM oauth_sources WHERE id = "
	if s.dialect == Postgres {
		query, owner, version = query+"$1", owner+"$2", version+"$1"
	} else {
		query, owner, version = query+"?", owner+"?", version+"?"
	}
	var err error
	if s.byID.all, err = sqlDB.Prepare(query); err != nil {
		return fmt.Errorf("prepare connection read: %w", err)
	}
	if s.byID.owned, err = sqlDB.Prepare(query + owner); err != nil {
		return fmt.Errorf("prepare connection read: %w", err)
	}
	if s.byID.sourceVersion, err = sqlDB.Prepare(version); err != nil {
		return fmt.Errorf("prepare source version read: %w", err)
	}
	return nil
}

// connectionByID selects the connection with id, joined to its source, if
// the scope may see it.
func connectionByID(db *gorm.DB, sc Scope, id int64) *gorm.DB {
	return scopeConnections(withSource(db), sc).Where("connections.id = ?", id)
}

// CreateConnection inserts c, whose source c.SourceID names, and loads
// that source into c.Source. It returns a *ConflictError
// (UniqueConnectionUserSource or UniqueConnectionSourceIdentifier), or
// ErrReference when the user or the source does not exist, and writes
// nothing then.
func (s *Store) CreateConnection(ctx context.Context, c *Connection) error {
	now := s.db.NowFunc()
	c.Created, c.LastUpdated = now, now
	c.AccessTokenSealed = nil
	if s.dialect == Postgres {
		return s.createConnectionPostgres(ctx, c)
	}
	src, err := s.sourceForCreate(ctx, c.SourceID)
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	c.Source = *src
	err = s.writeLeavingConnections(ctx, func(tx *writeTx) error {
		// The token is sealed to the connection's id: a connection with one
		// takes its id first, so that its row is written once, sealed.
		if c.SetAccessToken && c.AccessToken != nil {
			id, err := tx.nextConnectionID()
			if err != nil {
				return err
			}
			c.ID = id
			if err := s.sealAccessToken(c); err != nil {
				return err
			}
		}
		// A statement of its own, not GORM's Create: the writer every write
		// waits for would otherwise build the INSERT and scan its result by
		// reflection.
		var id any // NULL: SQLite numbers the row
		if c.ID != 0 {
			id = c.ID
		}
		if err := tx.db.Raw(insertConnection, id, c.UserID, c.SourceID, c.Identifier, c.AccessTokenSealed, c.Expires,
			c.Created, c.LastUpdated).Row().Scan(&c.ID, &c.Version); err != nil {
			return err
		}
		if err := tx.addConnection(c); err != nil {
			return err
		}
		return tx.record(ActionModelCreated, c, nil)
	})
	if err != nil {
		return fmt.Errorf("create connection: %w", translate(err))
	}
	return nil
}

// insertConnection inserts a connection on SQLite and returns its id and
// version.
const insertConnection = "INSERT INTO connections (id, user_id, source_id, identifier, access_token, expires, created, last_updated) " +
	"VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, version"

// sourceForCreate returns the source with id as it is now, for a
// connection about to link to it (on SQLite, before the create is queued):
// the cached source when a prepared read of its version finds it current,
// else the source read and cached, so that a create does not read the
// whole source through GORM. It returns ErrReference when there is no
// such source.
func (s *Store) sourceForCreate(ctx context.Context, id string) (*OAuthSource, error) {
	if cached, ok := s.sources.latest(id); ok && s.byID.sourceVersion != nil {
		var version int64
		err := s.byID.sourceVersion.QueryRowContext(context.WithoutCancel(ctx), id).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("source %s: %w", id, ErrReference)
		case err != nil:
			return nil, fmt.Errorf("source %s: %w", id, translate(err))
		case version == cached.Version:
			return cached, nil
		}
	}
	return s.readSourceForCreate(ctx, id)
}

// readSourceForCreate reads the source with id and caches it. It returns
// ErrReference when there is no such source.
func (s *Store) readSourceForCreate(ctx context.Context, id string) (*OAuthSource, error) {
	src, err := s.GetSourceByID(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return nil, fmt.Errorf("source %s: %w", id, ErrReference)
	}
	if err != nil {
		return nil, err
	}
	s.sources.put(src)
	return src, nil
}

// createConnectionPostgres is CreateConnection on PostgreSQL: the
// connection (its id taken first, from the block of reserved ids) and its
// event, when ctx carries an Audit, are inserted by one statement, shared
// with the creates that arrive meanwhile (postgresCreates). The foreign
// keys check the user and the source, and the source comes from the
// store's cache (read first when the cache lacks it), so that a create
// takes one round trip. Nothing after the statement can fail a create it
// committed.
func (s *Store) createConnectionPostgres(ctx context.Context, c *Connection) error {
	src, ok := s.sources.latest(c.SourceID)
	if !ok {
		var err error
		if src, err = s.readSourceForCreate(ctx, c.SourceID); err != nil {
			return fmt.Errorf("create connection: %w", err)
		}
	}
	id, err := s.postgres.ids.reserve(ctx, s.sqlDB)
	if err != nil {
		return fmt.Errorf("create connection: %w", err)
	}
	c.ID = id
	if c.SetAccessToken && c.AccessToken != nil {
		if err := s.sealAccessToken(c); err != nil {
			return fmt.Errorf("create connection: %w", err)
		}
	}
	e := s.eventOf(auditOf(ctx), ActionModelCreated, c, nil)
	version, sourceVersion, err := s.postgres.insert(ctx, c, e)
	if err != nil {
		return fmt.Errorf("create connection: %w", translate(err))
	}
	c.Version = version
	c.Source = *src
	if sourceVersion != src.Version {
		// The source changed since it was cached: shown as it is now, or,
		// should it be gone meanwhile, as it was read.
		if fresh, err := s.GetSourceByID(context.WithoutCancel(ctx), c.SourceID); err == nil {
			c.Source = *fresh
			s.sources.put(fresh)
		}
	}
	return nil
}

// queryRow runs query on the pool and scans its one row into dest; a
// failure reported after the row (PostgreSQL's commit) is an error too.
func (s *Store) queryRow(ctx context.Context, query string, args []any, dest ...any) (err error) {
	rows, err := s.sqlDB.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	for rows.Next() {
	}
	return rows.Err()
}

// accessTokens is the sealed column of connections' access tokens.
var accessTokens = sealedColumns[0]

// AccessToken opens c's sealed access token (nil when it has none), for
// the server's own uses of it; the API never shows it. It returns
// ErrKeyUnavailable when this server lacks the key that sealed it.
func (s *Store) AccessToken(c *Connection) (*string, error) {
	if c.AccessTokenSealed == nil {
		return nil, nil
	}
	plain, err := s.open(accessTokens, strconv.FormatInt(c.ID, 10), *c.AccessTokenSealed)
	if err != nil {
		return nil, err
	}
	return &plain, nil
}

// sealAccessToken seals c's new plaintext access token, if it has one.
func (s *Store) sealAccessToken(c *Connection) error {
	if c.AccessToken == nil {
		c.AccessTokenSealed = nil
		return nil
	}
	sealed, err := s.seal(accessTokens, strconv.FormatInt(c.ID, 10), *c.AccessToken)
	c.AccessTokenSealed = &sealed
	return err
}

// UpdateConnection changes the connection id, if the scope may see it, in
// one transaction: it reads the row (locking it on PostgreSQL; SQLite's
// BEGIN IMMEDIATE already serialises writers), lets change modify it, and
// writes every column back, so concurrent updates never interleave. It
// returns ErrNotFound (none, or not in scope), change's own error, a
// *ConflictError or ErrReference, and writes nothing then.
func (s *Store) UpdateConnection(ctx context.Context, sc Scope, id int64, change func(*Connection) error) (*Connection, error) {
	return updateLocked(s, ctx, s.connectionRow(sc, id), change,
		func(tx *writeTx, c *Connection) error {
			c.LastUpdated = s.db.NowFunc()
			c.Version++
			columns := map[string]any{
				"user_id":      c.UserID,
				"source_id":    c.SourceID,
				"identifier":   c.Identifier,
				"expires":      c.Expires,
				"last_updated": c.LastUpdated,
				"version":      c.Version,
			}
			if c.SetAccessToken {
				if err := s.sealAccessToken(c); err != nil {
					return err
				}
				columns["access_token"] = c.AccessTokenSealed
			}
			return tx.db.Model(&Connection{}).Where("id = ?", c.ID).Updates(columns).Error
		})
}

// DeleteConnection removes the connection with id if the scope may see it
// and check (nil: none) lets it, in one transaction with its event. It
// returns ErrNotFound (none, or not in scope) or check's error, and
// removes nothing then.
func (s *Store) DeleteConnection(ctx context.Context, sc Scope, id int64, check func(*Connection) error) error {
	return removeLocked(s, ctx, s.connectionRow(sc, id), check, func(tx *writeTx, c *Connection) error {
		return tx.db.Where("id = ?", c.ID).Delete(&Connection{}).Error
	})
}

// connectionRow finds the connection with id, with its source, if the
// scope may see it.
func (s *Store) connectionRow(sc Scope, id int64) row[Connection] {
	return row[Connection]{
		what: fmt.Sprintf("connection %d", id),
		find: func(tx *gorm.DB) *gorm.DB { return connectionByID(tx, sc, id) },
		read: s.readConnection,
	}
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
