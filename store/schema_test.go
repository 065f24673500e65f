package store_test

import (
	"context"
	"maps"
	"sort"
	"strings"
	"testing"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"

	"akconn/store"
	"akconn/testenv"
)

var models = []any{&store.User{}, &store.Token{}, &store.OAuthSource{}, &store.Connection{}, &store.ConnectionCount{}, &store.SecretKey{}, &store.StoreState{}, &store.Event{}, &store.EventCount{}}

// migrationOnlyIndexes exist in the migrations but cannot be expressed in
// GORM tags (PostgreSQL trigram indexes on expressions).
var migrationOnlyIndexes = map[string]bool{"trgm_connections_identifier": true, "trgm_oauth_sources_slug": true}

// sqliteOnlyColumns and sqliteIndexes are where SQLite's events differ
// from the model, which PostgreSQL follows (migration 00013): SQLite
// numbers them in created order (seq, the rowid, which its lists order
// by), and its filter indexes key on their column alone (SQLite appends
// the rowid to every index entry).
var (
	sqliteOnlyColumns = map[string]bool{"events.seq": true}
	sqliteIndexes     = map[string]string{
		"idx_events_uuid": "unique index(event_uuid)", "idx_events_created": "index(created)", "idx_events_user": "index(user_pk)",
		"idx_events_action": "index(action)", "idx_events_username": "index(username)", "idx_events_model_pk": "index(model_pk)",
		"idx_events_client_ip": "index(client_ip)", "idx_events_model_name": "index(model_name)",
		"idx_events_model_app": "index(model_app)", "idx_events_device_pk": "index(device_pk)",
	}
)

func backends(t *testing.T, run func(t *testing.T, backend string)) {
	for _, b := range []string{store.SQLite, store.Postgres} {
		t.Run(b, func(t *testing.T) { run(t, b) })
	}
}

// TestMigratedSchemaMatchesModels fails when the models and the versioned
// migrations drift apart: every table, column (and its NULL rule), index
// (its columns and uniqueness) and foreign key the models declare must be
// what the migrations built, and the migrations build nothing else.
func TestMigratedSchemaMatchesModels(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		db, m := st.DB(), st.DB().Migrator()
		for _, model := range models {
			stmt := &gorm.Statement{DB: db}
			if err := stmt.Parse(model); err != nil {
				t.Fatal(err)
			}
			table := stmt.Schema.Table
			if !m.HasTable(model) {
				t.Errorf("table %s: in the models, not in the migrations", table)
				continue
			}
			want := map[string]*schema.Field{}
			for _, f := range stmt.Schema.Fields {
				if f.DBName != "" {
					want[f.DBName] = f
				}
			}
			cols, err := m.ColumnTypes(model)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]bool{}
			for _, c := range cols {
				got[c.Name()] = true
				f, ok := want[c.Name()]
				if !ok {
					if !(backend == store.SQLite && sqliteOnlyColumns[table+"."+c.Name()]) {
						t.Errorf("column %s.%s: in the migrations, not in the models", table, c.Name())
					}
					continue
				}
				if nullable, ok := c.Nullable(); ok && !f.PrimaryKey && nullable == f.NotNull {
					t.Errorf("column %s.%s: nullable=%v in the migrations, NOT NULL=%v in the model", table, c.Name(), nullable, f.NotNull)
				}
			}
			for name := range want {
				if !got[name] {
					t.Errorf("column %s.%s: in the models, not in the migrations", table, name)
				}
			}
			checkIndexes(t, st, model, stmt.Schema)
			for _, rel := range stmt.Schema.Relationships.Relations {
				if c := rel.ParseConstraint(); c != nil && c.Schema == stmt.Schema && !m.HasConstraint(model, c.Name) {
					t.Errorf("foreign key %s on %s: in the models, not in the migrations", c.Name, table)
				}
			}
		}
	})
}

func checkIndexes(t *testing.T, st *store.Store, model any, s *schema.Schema) {
	t.Helper()
	want := map[string]string{}
	for _, idx := range s.ParseIndexes() {
		var cols []string
		for _, f := range idx.Fields {
			cols = append(cols, f.DBName)
		}
		want[idx.Name] = describeIndex(idx.Class == "UNIQUE", cols)
	}
	if st.Dialect() == store.SQLite && s.Table == "events" {
		maps.Copy(want, sqliteIndexes)
	}
	got := builtIndexes(t, st, model, s.Table)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("index %s on %s: models want %s, migrations built %q", name, s.Table, w, got[name])
		}
	}
	for name, g := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("index %s on %s (%s): in the migrations, not in the models", name, s.Table, g)
		}
	}
}

// builtIndexes describes the indexes the migrations built on a table.
// GORM's PostgreSQL migrator reports index columns in table order, so
// PostgreSQL's own definitions are read instead.
func builtIndexes(t *testing.T, st *store.Store, model any, table string) map[string]string {
	t.Helper()
	got := map[string]string{}
	if st.Dialect() == store.SQLite {
		indexes, err := st.DB().Migrator().GetIndexes(model)
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range indexes {
			if pk, _ := idx.PrimaryKey(); pk || migrationOnlyIndexes[idx.Name()] {
				continue
			}
			unique, _ := idx.Unique()
			got[idx.Name()] = describeIndex(unique, idx.Columns())
		}
		return got
	}
	var rows []struct{ Indexname, Indexdef string }
	err := st.DB().Raw("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?", table).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if strings.HasSuffix(r.Indexname, "_pkey") || migrationOnlyIndexes[r.Indexname] {
			continue
		}
		cols := r.Indexdef[strings.LastIndex(r.Indexdef, "(")+1 : strings.LastIndex(r.Indexdef, ")")]
		got[r.Indexname] = describeIndex(strings.HasPrefix(r.Indexdef, "CREATE UNIQUE"), strings.Split(cols, ", "))
	}
	return got
}

func describeIndex(unique bool, cols []string) string {
	kind := "index"
	if unique {
		kind = "unique index"
	}
	return kind + "(" + strings.Join(cols, ",") + ")"
}

// TestMigrateUpDownUp rolls every migration back and applies them again.
func TestMigrateUpDownUp(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		status, err := st.Migrate(ctx, store.MigrateStatus)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range status {
			if !strings.Contains(line, "applied") {
				t.Fatalf("after Open: %s", line)
			}
		}
		for range status {
			if _, err := st.Migrate(ctx, store.MigrateDown); err != nil {
				t.Fatal(err)
			}
		}
		tables, _ := st.DB().Migrator().GetTables()
		sort.Strings(tables)
		for _, tbl := range tables {
			if tbl != "goose_db_version" && tbl != "sqlite_sequence" {
				t.Errorf("table %s left after migrating all the way down (%v)", tbl, tables)
			}
		}
		applied, err := st.Migrate(ctx, store.MigrateUp)
		if err != nil || len(applied) != len(status) {
			t.Fatalf("up again: %v %v", applied, err)
		}
		if !st.DB().Migrator().HasTable(&store.Connection{}) {
			t.Fatal("no connections table after migrating up again")
		}
		if again, err := st.Migrate(ctx, store.MigrateUp); err != nil || len(again) != 0 {
			t.Fatalf("up twice: %v %v", again, err)
		}
	})
}
