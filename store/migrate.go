package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

//go:embed migrations
var migrations embed.FS

// Migration directions and queries for Migrate.
const (
	MigrateUp     = "up"
	MigrateDown   = "down"
	MigrateStatus = "status"
)

// provider returns goose's migration runner for this store's dialect, on
// the embedded SQL files of that dialect.
func (s *Store) provider() (*goose.Provider, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return nil, err
	}
	dir, err := fs.Sub(migrations, "migrations/"+s.dialect)
	if err != nil {
		return nil, err
	}
	dialect := goose.DialectSQLite3
	var opts []goose.ProviderOption
	if s.dialect == Postgres {
		dialect = goose.DialectPostgres
		// Replicas starting together take turns.
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	return goose.NewProvider(dialect, sqlDB, dir, opts...)
}

// MigrateTo applies the pending migrations up to version and no further
// (as an older release would have left the schema); tests of upgrades use
// it.
func (s *Store) MigrateTo(ctx context.Context, version int64) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		return fmt.Errorf("migrate up to %d: %w", version, err)
	}
	return nil
}

// Migrate applies all pending migrations (MigrateUp), rolls back the
// latest one (MigrateDown), or reports each migration's state
// (MigrateStatus). It returns one line per migration touched or listed.
func (s *Store) Migrate(ctx context.Context, direction string) ([]string, error) {
	p, err := s.provider()
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	var out []string
	switch direction {
	case MigrateUp:
		results, err := p.Up(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate up: %w", err)
		}
		for _, r := range results {
			out = append(out, fmt.Sprintf("applied %s (%s)", r.Source.Path, r.Duration))
		}
		if err := s.ready(ctx); err != nil {
			return out, err
		}
	case MigrateDown:
		r, err := p.Down(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate down: %w", err)
		}
		// The search index is derived from connections (prepareSearch):
		// it goes with them.
		if s.search.fts && !s.db.Migrator().HasTable(&Connection{}) {
			if err := s.db.WithContext(ctx).Exec("DROP TABLE IF EXISTS connection_search").Error; err != nil {
				return nil, fmt.Errorf("drop the search index: %w", err)
			}
		}
		out = append(out, fmt.Sprintf("rolled back %s (%s)", r.Source.Path, r.Duration))
	case MigrateStatus:
		status, err := p.Status(ctx)
		if err != nil {
			return nil, fmt.Errorf("migration status: %w", err)
		}
		for _, st := range status {
			applied := "pending"
			if st.State == goose.StateApplied {
				applied = "applied " + st.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			out = append(out, fmt.Sprintf("%05d %-28s %s", st.Source.Version, st.Source.Path, applied))
		}
	default:
		return nil, fmt.Errorf("unknown migration command %q: want up, down or status", direction)
	}
	return out, nil
}
