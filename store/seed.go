package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// SeedOptions says how much scale data Seed loads.
type SeedOptions struct {
	Users, Sources, Connections int
	// Events is the number of audit events to load: model_created,
	// model_updated and model_deleted of connections in turn, by the seeded
	// users in turn, evenly over the last 300 days.
	Events int
	// Tokens gives each seeded user i (0-based) an API token, identifier
	// SeedTokenIdentifier(Prefix, i) and key SeedTokenKey(Prefix, i), for
	// load that acts as many users (benchmarks only: the keys are known).
	Tokens bool
	// Batch is the number of rows per transaction (default 5000).
	Batch int
	// Prefix keeps names unique across runs (default "seed").
	Prefix string
	// Progress, when set, hears how far each table has come.
	Progress Progress
}

// Seed loads users, OAuth sources and connections fast: multi-row INSERTs,
// one transaction per batch. Connection i belongs to user i mod Users and
// source (i div Users) mod Sources, so Connections may be at most
// Users×Sources.
func (s *Store) Seed(ctx context.Context, o SeedOptions) error {
	if o.Batch <= 0 {
		o.Batch = 5000
	}
	if o.Prefix == "" {
		o.Prefix = "seed"
	}
	if o.Users < 1 || o.Sources < 1 || o.Connections > o.Users*o.Sources {
		return fmt.Errorf("seed: need users ≥ 1, sources ≥ 1 and connections ≤ users × sources")
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := s.checkEventSeed(ctx, o, now); err != nil {
		return err
	}
	userIDs := make([]int64, 0, o.Users)
	err := s.batches(ctx, o.Users, o.Batch, o.Progress, "users",
		[]string{"uuid", "username", "name", "email", "is_active", "is_superuser", "path", "type", "attributes", "date_joined",
			"last_updated", "password_change_date"},
		func(i int) []any {
			name := fmt.Sprintf("%s-user-%d", o.Prefix, i)
			return []any{uuid.NewString(), name, name, name + "@example.com", true, false, "users", "internal", "{}", now, now, now}
		})
	if err != nil {
		return err
	}
	if err := s.db.WithContext(ctx).Model(&User{}).Where("username LIKE ?", o.Prefix+"-user-%").Order("id").Pluck("id", &userIDs).Error; err != nil {
		return fmt.Errorf("seed: read user ids: %w", err)
	}
	if o.Tokens {
		if err := s.seedTokens(ctx, o, userIDs); err != nil {
			return err
		}
	}
	sourceIDs := make([]string, o.Sources)
	secrets := make([]string, o.Sources)
	for i := range sourceIDs {
		sourceIDs[i] = uuid.NewString()
		if secrets[i], err = s.seal(consumerSecrets, sourceIDs[i], "secret"); err != nil {
			return err
		}
	}
	err = s.batches(ctx, o.Sources, o.Batch, o.Progress, "oauth_sources",
		[]string{"id", "name", "slug", "enabled", "user_property_mappings", "group_property_mappings", "policy_engine_mode",
			"user_matching_mode", "group_matching_mode", "user_path_template", "provider_type", "consumer_key", "consumer_secret",
			"additional_scopes", "oidc_well_known_url", "oidc_jwks_url", "oidc_jwks", "created_at", "updated_at"},
		func(i int) []any {
			slug := fmt.Sprintf("%s-src-%d", o.Prefix, i)
			return []any{sourceIDs[i], "Source " + slug, slug, true, "[]", "[]", "any", "identifier", "identifier",
				"goauthentik.io/sources/%(slug)s", "github", "key", secrets[i], "", "", "", "{}", now, now}
		})
	if err != nil {
		return err
	}
	err = s.batches(ctx, o.Connections, o.Batch, o.Progress, "connections",
		[]string{"user_id", "source_id", "identifier", "created", "last_updated"},
		func(i int) []any {
			user := userIDs[i%len(userIDs)]
			source := sourceIDs[(i/len(userIDs))%len(sourceIDs)]
			return []any{user, source, fmt.Sprintf("%s-ext-%d", o.Prefix, i), now, now}
		})
	if err != nil {
		return err
	}
	// Bulk inserts add no search index entries: the index is built again.
	if err := s.db.WithContext(ctx).Transaction(s.rebuildSearch); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if err := s.seedEvents(ctx, o, userIDs, now); err != nil {
		return err
	}
	// After a bulk load: fresh planner statistics, and on PostgreSQL the
	// trigram indexes' pending entries merged (VACUUM), as an operator
	// would do.
	analyze := "ANALYZE"
	if s.dialect == Postgres {
		analyze = "VACUUM ANALYZE users, oauth_sources, connections, connection_counts, events, event_counts"
	}
	if err := s.db.WithContext(ctx).Exec(analyze).Error; err != nil {
		return fmt.Errorf("seed: %s: %w", analyze, err)
	}
	return nil
}

// SeedTokenKey is the API key Seed gives user i (0-based) of prefix with
// Tokens.
func SeedTokenKey(prefix string, i int) string { return fmt.Sprintf("%s-key-%d", prefix, i) }

// SeedTokenIdentifier is the identifier of that token.
func SeedTokenIdentifier(prefix string, i int) string { return fmt.Sprintf("%s-token-%d", prefix, i) }

// seedTokens gives each seeded user a non-expiring API token.
func (s *Store) seedTokens(ctx context.Context, o SeedOptions, userIDs []int64) error {
	if _, err := s.seal(tokenKeys, "check", "check"); err != nil {
		return err
	}
	return s.batches(ctx, len(userIDs), o.Batch, o.Progress, "tokens",
		[]string{"id", "identifier", "key", "key_hash", "intent", "user_id", "description", "expiring"},
		func(i int) []any {
			t := Token{ID: uuid.NewString(), Key: SeedTokenKey(o.Prefix, i)}
			if err := s.sealKey(&t); err != nil {
				panic(err) // the sealing key is held: Seed opened the store with it
			}
			return []any{t.ID, SeedTokenIdentifier(o.Prefix, i), t.KeySealed, t.KeyHash, "api", userIDs[i], "", false}
		})
}

// eventSpacing is the time between two of n seeded events: they are
// spread over the last 300 days, so that none has expired under the
// default retention.
func eventSpacing(n int) time.Duration { return 300 * 24 * time.Hour / time.Duration(max(n, 1)) }

// checkEventSeed refuses, on SQLite, to seed events older than one already
// stored: SQLite numbers events in created order (migration 00013).
func (s *Store) checkEventSeed(ctx context.Context, o SeedOptions, now time.Time) error {
	if s.dialect != SQLite || o.Events <= 0 {
		return nil
	}
	last, err := lastEventCreated(s.db.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("seed events: %w", err)
	}
	if first := now.Add(-time.Duration(o.Events) * eventSpacing(o.Events)); last.Valid && !last.Time.Before(first) {
		return fmt.Errorf("seed events: this SQLite database holds events newer than the oldest to seed (%s): "+
			"seed events into a database without any", first.Format(time.RFC3339))
	}
	return nil
}

// seedEvents loads o.Events events (see SeedOptions).
func (s *Store) seedEvents(ctx context.Context, o SeedOptions, userIDs []int64, now time.Time) error {
	actions := []string{ActionModelCreated, ActionModelUpdated, ActionModelDeleted}
	spacing := eventSpacing(o.Events)
	err := s.batches(ctx, o.Events, o.Batch, o.Progress, "events",
		[]string{"event_uuid", "user_pk", "username", `"user"`, "action", "app", "context", "client_ip", "created", "expires",
			"brand", "model_app", "model_name", "model_pk", "authorized_app", "brand_name"},
		func(i int) []any {
			user := userIDs[i%len(userIDs)]
			username := fmt.Sprintf("%s-user-%d", o.Prefix, i%len(userIDs))
			pk := i/3 + 1
			created := now.Add(-time.Duration(o.Events-i) * spacing)
			details := fmt.Sprintf(`{"model":{"app":"authentik_sources_oauth","model_name":"useroauthsourceconnection","pk":%d,`+
				`"name":"User-source connection (user=%d)"},"http_request":{"path":"/api/v3/sources/user_connections/oauth/",`+
				`"method":"POST","args":{},"user_agent":"seed","request_id":"%s-%d"}}`, pk, user, o.Prefix, i)
			userJSON := fmt.Sprintf(`{"pk":%d,"username":%q,"email":"%s@example.com"}`, user, username, username)
			return []any{NewEventUUID(), user, username, userJSON, actions[i%3], "authentik_sources_oauth", details,
				fmt.Sprintf("192.0.2.%d", i%250), created, created.Add(365 * 24 * time.Hour), "{}",
				"authentik_sources_oauth", "useroauthsourceconnection", fmt.Sprint(pk), "", ""}
		})
	if err != nil {
		return err
	}
	return s.RecountEvents(ctx)
}

// batches inserts n rows into table, batch rows per transaction, several
// rows per statement (within SQLite's limit on bound variables).
func (s *Store) batches(ctx context.Context, n, batch int, progress Progress, table string, columns []string, row func(i int) []any) error {
	perStatement := max(1, 30000/len(columns))
	for start := 0; start < n; start += batch {
		end := min(n, start+batch)
		err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for i := start; i < end; i += perStatement {
				j := min(end, i+perStatement)
				var sb strings.Builder
				args := make([]any, 0, (j-i)*len(columns))
				sb.WriteString("INSERT INTO " + table + " (" + strings.Join(columns, ", ") + ") VALUES ")
				placeholders := valuesRow(len(columns))
				for k := i; k < j; k++ {
					if k > i {
						sb.WriteString(", ")
					}
					sb.WriteString(placeholders)
					args = append(args, row(k)...)
				}
				if err := tx.Exec(sb.String(), args...).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seed %s: %w", table, translate(err))
		}
		if progress != nil {
			progress(table, int64(end), int64(n))
		}
	}
	return nil
}
