package e2e_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"akconn/store"
	"akconn/testenv"
	"akconn/testenv/pgtest"
)

// command runs the server binary as a command-line tool with env; it
// fails the test unless the command exits 0, and returns its output.
func command(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(serverBinary(t), args...)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("akconn %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// viewKey reads a token's key through the API as the bootstrap admin.
func (p *proc) viewKey(identifier string) string {
	p.t.Helper()
	out := p.must(http.StatusOK, "GET", "/core/tokens/"+identifier+"/view_key/", nil)
	return out["key"].(string)
}

// writeSecrets stores one secret of every kind through the API and one
// through the command line, and returns them (the values to look for),
// with the identifiers of the two tokens.
func writeSecrets(t *testing.T, p *proc, env []string, database string) (secrets []string, tokens []string) {
	t.Helper()
	consumerSecret := fmt.Sprintf("consumer-secret-%d-QWERTY", os.Getpid())
	accessToken := fmt.Sprintf("gho_access-token-%d-ASDFGH", os.Getpid())
	src := p.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{"name": "GitHub", "slug": "github",
		"provider_type": "github", "consumer_key": "client-id", "consumer_secret": consumerSecret})
	p.must(http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src["pk"], "identifier": "42", "access_token": accessToken})
	p.must(http.StatusCreated, "POST", "/core/tokens/", map[string]any{"identifier": "api-token", "expiring": false})
	apiKey := p.viewKey("api-token")
	out := command(t, env, "users", "create", "--database", database, "--username", "cli-admin", "--superuser", "--with-token")
	m := regexp.MustCompile(`token (\S+) key: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("users create printed no key: %s", out)
	}
	return []string{consumerSecret, accessToken, apiKey, m[2], adminKey}, []string{"api-token", m[1]}
}

// findSecrets returns the secrets that appear in data.
func findSecrets(data []byte, secrets []string) []string {
	var found []string
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			found = append(found, s)
		}
	}
	return found
}

// With no configuration, a SQLite database gets an owner-only key file
// beside it; after writes through the API and the command line and a
// clean stop, no secret is in the database, its write-ahead log or its
// shared memory, nor in any log line; a restart finds the key again and
// view_key returns the exact keys.
func TestSecretsSealedOnSQLite(t *testing.T) {
	dir := t.TempDir()
	database := filepath.Join(dir, "akconn.db")
	env := serverEnv()
	p, err := launchWith(t, serverBinary(t), database, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.logs.String(), "created the key that seals the stored secrets: "+database+".key") {
		t.Errorf("no log line says where the new key is:\n%s", p.logs)
	}
	secrets, tokens := writeSecrets(t, p, env, database)
	keys := map[string]string{}
	for _, tok := range tokens {
		keys[tok] = p.viewKey(tok)
	}
	p.stop()
	if !strings.Contains(p.logs.String(), `"msg":"request"`) {
		t.Fatalf("the log holds no request line to search:\n%s", p.logs)
	}
	for _, f := range []string{database, database + "-wal", database + "-shm"} {
		data, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if found := findSecrets(data, secrets); len(found) > 0 {
			t.Errorf("%s holds %d secrets in plaintext", filepath.Base(f), len(found))
		}
	}
	if found := findSecrets([]byte(p.logs.String()), secrets[:4]); len(found) > 0 {
		t.Errorf("the log holds %d secrets", len(found))
	}
	if info, err := os.Stat(database + ".key"); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", info, err)
	}

	p, err = launchWith(t, serverBinary(t), database, env)
	if err != nil {
		t.Fatal(err)
	}
	for tok, key := range keys {
		if got := p.viewKey(tok); got != key {
			t.Errorf("after a restart, view_key of %s is %q, want %q", tok, got, key)
		}
	}
	if strings.Contains(p.logs.String(), "created the key") {
		t.Error("a restart created another key")
	}
}

// On PostgreSQL the server needs a key (and says which variables to set),
// and a pg_dump of the database after writes holds no secret.
func TestSecretsSealedOnPostgres(t *testing.T) {
	database := testenv.DatabaseURL(t, store.Postgres)
	if _, err := launchWith(t, serverBinary(t), database, serverEnv()); err == nil || !strings.Contains(err.Error(), "SECRET_KEY") {
		t.Fatalf("PostgreSQL without a key: %v", err)
	}
	env := serverEnv("SECRET_KEY=" + testenv.SecretKey)
	p, err := launchWith(t, serverBinary(t), database, env)
	if err != nil {
		t.Fatal(err)
	}
	secrets, _ := writeSecrets(t, p, env, database)
	schema := regexp.MustCompile(`search_path=(\w+)`).FindStringSubmatch(database)[1]
	dump, err := exec.Command("pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", schema, "test").Output()
	if err != nil {
		pgtest.Missing(t, "pg_dump: %v", err)
	}
	if !bytes.Contains(dump, []byte("CREATE TABLE "+schema+".connections")) {
		t.Fatalf("the dump does not hold the schema:\n%.500s", dump)
	}
	if found := findSecrets(dump, secrets); len(found) > 0 {
		t.Errorf("pg_dump holds %d secrets in plaintext", len(found))
	}
	p.stop() // the server writes out the log lines it holds
	if !strings.Contains(p.logs.String(), `"msg":"request"`) {
		t.Fatalf("the log holds no request line to search:\n%s", p.logs)
	}
	if found := findSecrets([]byte(p.logs.String()), secrets[:4]); len(found) > 0 {
		t.Errorf("the log holds %d secrets", len(found))
	}
}

// A server given a key that cannot open the database's secrets exits
// non-zero before it serves, naming the key it needs.
func TestWrongKeyRefused(t *testing.T) {
	database := filepath.Join(t.TempDir(), "akconn.db")
	p, err := launchWith(t, serverBinary(t), database, serverEnv("SECRET_KEY="+testenv.SecretKey))
	if err != nil {
		t.Fatal(err)
	}
	p.stop()
	_, err = launchWith(t, serverBinary(t), database, serverEnv("SECRET_KEY=another-key-of-32-characters-or-more!"))
	if err == nil || !strings.Contains(err.Error(), "exit status 1") || !strings.Contains(err.Error(), "cannot open") {
		t.Fatalf("a wrong key: %v", err)
	}
	id := regexp.MustCompile(`sealed with key ([0-9a-f]{8})`).FindStringSubmatch(err.Error())
	keys := testenv.Keyring(t)
	if id == nil || id[1] != keys.SealingKeyID() {
		t.Fatalf("the refusal does not name key %s: %v", keys.SealingKeyID(), err)
	}
}

// A database written by the previous release (schema version 5, secrets
// in plaintext) is sealed when this release first opens it with a key:
// every secret reads back exactly (view_key, the store's own reads), the
// old API token still authenticates, and after a clean stop the old
// plaintext is gone from the files (SQLite) and from a dump (PostgreSQL).
func TestUpgradeSealsPlaintext(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			database := testenv.DatabaseURL(t, backend)
			if backend == store.SQLite {
				database = filepath.Join(t.TempDir(), "old.db")
			}
			const (
				oldKey    = "old-release-api-key-0123456789abcdefghijklmnopqrstuvwxyzABCD"
				oldSecret = "old-release-consumer-secret-ZXCVBN"
				oldToken  = "old-release-access-token-POIUYT"
			)
			writeOldRelease(t, database, oldKey, oldSecret, oldToken)

			env := serverEnv("SECRET_KEY=" + testenv.SecretKey)
			p, err := launchWith(t, serverBinary(t), database, env)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.viewKey("old-token"); got != oldKey {
				t.Errorf("view_key of the old token: %q", got)
			}
			req, _ := http.NewRequest(http.MethodGet, p.base+"/api/v3/core/users/me/", nil)
			req.Header.Set("Authorization", "Bearer "+oldKey)
			if resp, err := client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
				t.Errorf("the old token no longer authenticates: %v %v", resp, err)
			}
			p.stop()

			st, err := store.Open(database, store.Options{Keyring: testenv.Keyring(t)})
			if err != nil {
				t.Fatal(err)
			}
			var conn store.Connection
			var src store.OAuthSource
			if err := st.DB().Take(&conn).Error; err != nil {
				t.Fatal(err)
			}
			if err := st.DB().Take(&src).Error; err != nil {
				t.Fatal(err)
			}
			token, err := st.AccessToken(&conn)
			secret, err2 := st.ConsumerSecret(&src)
			if err != nil || err2 != nil || token == nil || *token != oldToken || secret != oldSecret {
				t.Errorf("secrets after the upgrade: %v %q %v %v", token, secret, err, err2)
			}
			if st.Dialect() == store.Postgres {
				schema := regexp.MustCompile(`search_path=(\w+)`).FindStringSubmatch(database)[1]
				_ = st.Close()
				dump, err := exec.Command("pg_dump", "-h", "127.0.0.1", "-U", "postgres", "-n", schema, "test").Output()
				if err != nil {
					pgtest.Missing(t, "pg_dump: %v", err)
				}
				if found := findSecrets(dump, []string{oldKey, oldSecret, oldToken}); len(found) > 0 {
					t.Errorf("pg_dump holds %d old secrets", len(found))
				}
				return
			}
			_ = st.Close()
			for _, f := range []string{database, database + "-wal", database + "-shm"} {
				data, err := os.ReadFile(f)
				if err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
				if found := findSecrets(data, []string{oldKey, oldSecret, oldToken}); len(found) > 0 {
					t.Errorf("%s still holds %d old secrets in plaintext", filepath.Base(f), len(found))
				}
				if bytes.Contains(data, []byte("old-release-access-token-POIUYT-")) {
					t.Errorf("%s still holds old access tokens in plaintext", filepath.Base(f))
				}
			}
		})
	}
}

// writeOldRelease makes database as the previous release left it: the
// schema of migration 5, and a user with an API token, a source and a
// connection whose secrets are plaintext.
func writeOldRelease(t *testing.T, database, key, secret, token string) {
	t.Helper()
	st, err := store.Open(database, store.Options{SkipMigrations: true, Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.MigrateTo(t.Context(), 5); err != nil {
		t.Fatal(err)
	}
	now := "2025-01-01 00:00:00"
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO users (id, uuid, username, name, email, is_active, is_superuser, path, type, attributes, date_joined)
			VALUES (1, '00000000-0000-4000-8000-000000000001', 'old-admin', 'Old', '', true, true, 'users', 'internal', '{}', ?)`, []any{now}},
		{`INSERT INTO tokens (id, identifier, key, key_hash, intent, user_id, description, expiring)
			VALUES ('00000000-0000-4000-8000-000000000002', 'old-token', ?, ?, 'api', 1, '', false)`, []any{key, store.HashKey(key)}},
		{`INSERT INTO oauth_sources (id, name, slug, enabled, user_property_mappings, group_property_mappings, policy_engine_mode,
			user_matching_mode, group_matching_mode, user_path_template, provider_type, consumer_key, consumer_secret,
			additional_scopes, oidc_well_known_url, oidc_jwks_url, oidc_jwks, created_at, updated_at)
			VALUES ('00000000-0000-4000-8000-000000000003', 'Old', 'old', true, '[]', '[]', 'any', 'identifier', 'identifier',
			'goauthentik.io/sources/%(slug)s', 'github', 'k', ?, '', '', '', '{}', ?, ?)`, []any{secret, now, now}},
		{`INSERT INTO connections (user_id, source_id, identifier, access_token, created, last_updated)
			VALUES (1, '00000000-0000-4000-8000-000000000003', 'old-ext', ?, ?, ?)`, []any{token, now, now}},
	} {
		if err := st.DB().Exec(stmt.sql, stmt.args...).Error; err != nil {
			t.Fatalf("%v\n%s", err, stmt.sql)
		}
	}
	// Many more users' connections, each token unique, so that the
	// re-sealing rewrites many pages (and splits some).
	for i := 2; i < 300; i++ {
		if err := st.DB().Exec(`INSERT INTO users (id, uuid, username, name, email, is_active, is_superuser, path, type, attributes, date_joined)
			VALUES (?, ?, ?, 'U', '', true, false, 'users', 'internal', '{}', ?)`, i, fmt.Sprintf("00000000-0000-4000-8000-%012d", i), fmt.Sprintf("u%d", i), now).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.DB().Exec(`INSERT INTO connections (user_id, source_id, identifier, access_token, created, last_updated)
			VALUES (?, '00000000-0000-4000-8000-000000000003', ?, ?, ?, ?)`, i, fmt.Sprintf("ext-%d", i), fmt.Sprintf("%s-%d", token, i), now, now).Error; err != nil {
			t.Fatal(err)
		}
	}
	// The previous release took ids from the sequences: set them past the
	// ids written here, as its own inserts would have.
	if store.IsPostgres(database) {
		for _, table := range []string{"users", "connections"} {
			if err := st.DB().Exec(fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT max(id) FROM %s))`, table, table)).Error; err != nil {
				t.Fatal(err)
			}
		}
	}
}
