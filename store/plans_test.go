package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"akconn/seal"
	"akconn/testenv/pgtest"
)

// planQuery is one query whose plan must use an index.
type planQuery struct {
	name string
	// build returns the query, run on a dry-run session.
	build func(db *gorm.DB) *gorm.DB
	// scanOK allows a scan of the table (documented exceptions).
	scanOK bool
	// sortOK allows sorting the rows found, when an equality on an index
	// bounds them to a handful (one user's connections).
	sortOK bool
	// pgScanOK and pgSortOK are PostgreSQL's exceptions: COUNT(*) over a
	// large share of the table reads the table (or a parallel scan the
	// planner prefers to the index), and ORDER BY source slug, pk is an
	// incremental sort of the first source's rows (docs/QUERY_PLANS.md).
	pgScanOK, pgSortOK bool
}

func connectionPlanQueries(s *Store, userID int64, slug string) []planQuery {
	list := func(f ConnectionFilter) func(db *gorm.DB) *gorm.DB {
		if err := s.resolveSourceConditions(context.Background(), &f); err != nil {
			panic(err)
		}
		return func(db *gorm.DB) *gorm.DB {
			_, rows := s.connectionQueries(db, f)
			return rows.Offset(0).Limit(100).Find(&[]map[string]any{})
		}
	}
	count := func(f ConnectionFilter) func(db *gorm.DB) *gorm.DB {
		if err := s.resolveSourceConditions(context.Background(), &f); err != nil {
			panic(err)
		}
		return func(db *gorm.DB) *gorm.DB {
			var n int64
			count, _ := s.connectionQueries(db, f)
			return count.Count(&n)
		}
	}
	all := Scope{All: true}
	qs := []planQuery{
		{name: "retrieve by id", build: func(db *gorm.DB) *gorm.DB {
			return connectionByID(db, Scope{UserID: userID}, 12345).Limit(1).Find(&[]map[string]any{})
		}},
		{name: "list (superuser, default order)", build: list(ConnectionFilter{Scope: all}), pgSortOK: true},
		{name: "count (superuser)", build: count(ConnectionFilter{Scope: all}), pgScanOK: true},
		{name: "list (ordinary user: owner filter)", build: list(ConnectionFilter{Scope: Scope{UserID: userID}}), sortOK: true},
		{name: "count (ordinary user: owner filter)", build: count(ConnectionFilter{Scope: Scope{UserID: userID}})},
		{name: "list ?user=", build: list(ConnectionFilter{Scope: all, UserID: &userID}), sortOK: true},
		{name: "list ?source__slug=", build: list(ConnectionFilter{Scope: all, SourceSlug: &slug})},
		{name: "count ?source__slug=", build: count(ConnectionFilter{Scope: all, SourceSlug: &slug}), pgScanOK: true},
		{name: "list ?search=", build: list(ConnectionFilter{Scope: all, Search: "ext-4242"}), scanOK: s.dialect == SQLite, sortOK: true},
		{name: "count ?search=", build: count(ConnectionFilter{Scope: all, Search: "ext-4242"}), scanOK: s.dialect == SQLite},
	}
	// Ordered by pk, SQLite walks the table itself in rowid order: a scan
	// that LIMIT stops after 100 rows.
	for _, o := range []string{"pk", "-pk"} {
		qs = append(qs, planQuery{name: "list ?ordering=" + o, build: list(ConnectionFilter{Scope: all, Ordering: []string{o}}), scanOK: s.dialect == SQLite})
	}
	for _, o := range []string{"user", "-user", "source__slug", "-source__slug", "identifier", "-identifier", "created", "-created"} {
		qs = append(qs, planQuery{name: "list ?ordering=" + o, build: list(ConnectionFilter{Scope: all, Ordering: []string{o}}), pgSortOK: strings.Contains(o, "source__slug")})
	}
	return qs
}

// explain returns the plan of the statement q would run.
func (s *Store) explain(ctx context.Context, q func(db *gorm.DB) *gorm.DB) (string, string, error) {
	stmt := q(s.db.WithContext(ctx).Session(&gorm.Session{DryRun: true})).Statement
	sql := stmt.SQL.String()
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		prefix = "EXPLAIN (COSTS OFF) "
	}
	rows, err := s.db.WithContext(ctx).Raw(prefix+sql, stmt.Vars...).Rows()
	if err != nil {
		return sql, "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return sql, "", err
		}
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return sql, strings.Join(lines, "\n"), rows.Err()
}

// badPlan says whether a plan reads a whole table without an index, or
// sorts the rows it found.
func badPlan(dialect, plan string, q planQuery) bool {
	for _, line := range strings.Split(plan, "\n") {
		l := strings.TrimSpace(line)
		switch dialect {
		case SQLite:
			if strings.HasPrefix(l, "SCAN connections") && !strings.Contains(l, "USING") && !q.scanOK {
				return true
			}
			if strings.Contains(l, "TEMP B-TREE") && !q.sortOK && !q.scanOK {
				return true
			}
		case Postgres:
			l = strings.TrimSpace(strings.TrimPrefix(l, "->"))
			if strings.Contains(l, "Seq Scan on connections") && !q.pgScanOK {
				return true
			}
			if (strings.HasPrefix(l, "Sort") || strings.HasPrefix(l, "Incremental Sort")) && !q.sortOK && !q.pgSortOK {
				return true
			}
		}
	}
	return false
}

// planKeys are the keys of the seeded database: SECRET_KEY, or the key
// file `akconn seed` created beside a SQLite database.
func planKeys(url string) (*seal.Keyring, error) {
	if secret := os.Getenv("SECRET_KEY"); secret != "" {
		return seal.New(secret)
	}
	return seal.LoadKeyFile(SQLitePath(url) + ".key")
}

// planStore opens AKCONN_PLANS_DATABASE, or seeds a fresh database on the
// test backend (a PostgreSQL schema of its own under
// AKCONN_TEST_BACKEND=postgres).
func planStore(t *testing.T) *Store {
	t.Helper()
	url := os.Getenv("AKCONN_PLANS_DATABASE")
	seed := url == ""
	var keys *seal.Keyring
	var err error
	if seed {
		url = filepath.Join(t.TempDir(), "plans.db")
		if pgtest.Selected() {
			url = pgtest.NewSchema(t)
		}
		keys, err = seal.New("plans-test-secret-key-0123456789abcdef")
	} else {
		keys, err = planKeys(url)
	}
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(url, Options{Keyring: keys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if seed {
		start := time.Now()
		if err := s.Seed(context.Background(), SeedOptions{Users: planConnections / 10, Sources: 10, Connections: planConnections}); err != nil {
			t.Fatal(err)
		}
		t.Logf("seeded %d connections in %s", planConnections, time.Since(start).Round(time.Millisecond))
	}
	return s
}

// planConnections is the size of the database the plan test seeds: at
// 30,000 connections PostgreSQL's planner already prefers a scan of the
// table for the default order, at 40,000 it takes the indexes; 100,000
// leaves a margin and seeds in seconds.
const planConnections = 100_000

// TestQueryPlansUseIndexes checks the plan of every connection query on
// a database it seeds itself on the test backend (planConnections rows,
// ten per user), or on AKCONN_PLANS_DATABASE when set: a SQLite path or
// postgres:// URL seeded with `akconn seed`, for the plans at full scale
// (docs/QUERY_PLANS.md).
func TestQueryPlansUseIndexes(t *testing.T) {
	s := planStore(t)
	ctx := context.Background()
	var user User
	if err := s.db.Where("username = ?", "seed-user-4242").Take(&user).Error; err != nil {
		t.Fatal(err)
	}
	for _, q := range connectionPlanQueries(s, user.ID, "seed-src-3") {
		sql, plan, err := s.explain(ctx, q.build)
		if err != nil {
			t.Fatalf("%s: %v\n%s", q.name, err, sql)
		}
		fmt.Printf("### %s\n\n```\n%s\n```\n\n", q.name, plan)
		if badPlan(s.dialect, plan, q) {
			t.Errorf("%s scans a table or sorts every row", q.name)
		}
	}
}
