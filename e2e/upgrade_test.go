package e2e_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to restore the dump

	"akconn/seal"
	"akconn/store"
	"akconn/testenv"
)

// upgradeFixture is the directory scripts/upgrade-fixture.sh wrote from
// release e3ef6f3: its databases, sealing key and manifest.
const upgradeFixture = "testdata/upgrade-e3ef6f3"

// upgradeManifest is manifest.json: what the release answered for every
// row it wrote, per backend.
type upgradeManifest struct {
	Release       string `json:"release"`
	SecretKeyFile string `json:"secret_key_file"`
	AdminKey      string `json:"admin_key"`
	SQLite        fixtureDatabase
	Postgres      fixtureDatabase
}

type fixtureDatabase struct {
	Database string `json:"database"`
	Schema   string `json:"schema"`
	// Lists holds each list's whole answer (page_size=1000), by resource.
	Lists map[string]map[string]any `json:"lists"`
	// TokenKeys holds each token's key (view_key), by identifier.
	TokenKeys map[string]string `json:"token_keys"`
	// Me holds what users/me answered with each token's key.
	Me map[string]struct {
		Status int `json:"status"`
		Body   any `json:"body"`
	} `json:"me"`
	CLITokenKey string `json:"cli_token_key"`
	// Secrets holds the consumer secrets (by source slug) and access tokens
	// (by connection identifier) the release sealed; connections not named
	// have none.
	Secrets struct {
		ConsumerSecrets map[string]string `json:"consumer_secrets"`
		AccessTokens    map[string]string `json:"access_tokens"`
	} `json:"secrets"`
}

// upgradeLists names each list of the manifest: its path, and the field
// of an item its retrieve path ends with.
var upgradeLists = map[string]struct{ path, key string }{
	"users":       {"/core/users/", "pk"},
	"tokens":      {"/core/tokens/", "identifier"},
	"sources":     {"/sources/oauth/", "slug"},
	"connections": {"/sources/user_connections/oauth/", "pk"},
	"events":      {"/events/events/", "pk"},
}

// TestUpgradeFromReleaseE3ef6f3 loads the databases release e3ef6f3
// wrote (SQLite file; PostgreSQL dump) and runs today's server on them,
// migrating at start or by `akconn migrate up` first. Through the API,
// every list answers exactly what the release answered (every row, every
// field), every row reads back alone the same, each old API token
// authenticates and its sealed key opens; the new columns hold the
// documented backfill (docs/COMPATIBILITY.md); and writes after the
// upgrade work.
func TestUpgradeFromReleaseE3ef6f3(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(upgradeFixture, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m upgradeManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if m.AdminKey != adminKey {
		t.Fatalf("the fixture's bootstrap key %q is not the e2e tests' (%q)", m.AdminKey, adminKey)
	}
	secret, err := os.ReadFile(filepath.Join(upgradeFixture, m.SecretKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	secretKey := strings.TrimSpace(string(secret))
	for _, backend := range []string{store.SQLite, store.Postgres} {
		fx := m.SQLite
		if backend == store.Postgres {
			fx = m.Postgres
		}
		for _, how := range []string{"migrate at start", "migrate up"} {
			t.Run(backend+"/"+how, func(t *testing.T) {
				database := loadFixture(t, backend, fx)
				env := serverEnv("SECRET_KEY=" + secretKey)
				migrated := time.Now()
				var p *proc
				if how == "migrate up" {
					cmd := exec.Command(serverBinary(t), "migrate", "up", "--database", database)
					cmd.Env = env
					out, err := cmd.CombinedOutput()
					if err != nil || !strings.Contains(string(out), "applied 00014_") {
						t.Fatalf("akconn migrate up: %v\n%s", err, out)
					}
					p, err = launchWith(t, serverBinary(t), database, append(env, "NO_MIGRATE=true"))
					if err != nil {
						t.Fatal(err)
					}
				} else if p, err = launchWith(t, serverBinary(t), database, env); err != nil {
					t.Fatal(err)
				}
				ready := time.Now()
				checkFixtureServed(t, p, fx)
				writeAfterUpgrade(t, p, fx)
				p.stop()
				checkStored(t, database, secretKey, fx, migrated, ready)
			})
		}
	}
}

// loadFixture makes a fresh database of the fixture's: a copy of the
// SQLite file, or the dump restored into a schema of the test's own.
func loadFixture(t *testing.T, backend string, fx fixtureDatabase) string {
	t.Helper()
	src := filepath.Join(upgradeFixture, fx.Database)
	if backend == store.SQLite {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		database := filepath.Join(t.TempDir(), "upgraded.db")
		if err := os.WriteFile(database, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return database
	}
	database := testenv.DatabaseURL(t, store.Postgres)
	u, err := url.Parse(database)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	dump, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The dump creates and names its own schema: the test's exists already.
	text := strings.Replace(string(dump), "CREATE SCHEMA "+fx.Schema+";", "", 1)
	text = strings.ReplaceAll(text, fx.Schema, schema)
	db, err := sql.Open("pgx", database)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// Without arguments pgx sends the dump as one simple query: all its
	// statements, on one connection (the dump changes its search_path).
	if _, err := db.Exec(text); err != nil {
		t.Fatalf("restore %s: %v", src, err)
	}
	return database
}

// call sends a request with key; it returns the status and the body.
func call(t *testing.T, p *proc, key, method, path string, body any) (int, []byte) {
	t.Helper()
	status, raw, err := p.send(key, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return status, raw
}

// getJSON is a GET with key that must answer 200.
func getJSON(t *testing.T, p *proc, key, path string) any {
	t.Helper()
	status, raw := call(t, p, key, "GET", path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, status, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return v
}

// checkFixtureServed: every list and every row as the release served it;
// every token's key still opens and still authenticates.
func checkFixtureServed(t *testing.T, p *proc, fx fixtureDatabase) {
	t.Helper()
	if len(fx.Lists) != len(upgradeLists) {
		t.Fatalf("the manifest has lists %v", reflect.ValueOf(fx.Lists).MapKeys())
	}
	for name, list := range upgradeLists {
		want := fx.Lists[name]
		if n, _ := want["pagination"].(map[string]any)["count"].(float64); n < 2 {
			t.Fatalf("the manifest's %s: %v rows; a fixture of at least 2", name, n)
		}
		if got := getJSON(t, p, adminKey, list.path+"?page_size=1000"); !reflect.DeepEqual(got, any(want)) {
			t.Errorf("%s after the upgrade:\n got %s\nwant %s", name, compact(got), compact(want))
		}
		for _, item := range want["results"].([]any) {
			row := item.(map[string]any)
			path := list.path + jsonText(row[list.key]) + "/"
			if got := getJSON(t, p, adminKey, path); !reflect.DeepEqual(got, item) {
				t.Errorf("GET %s after the upgrade:\n got %s\nwant %s", path, compact(got), compact(item))
			}
		}
	}
	tokens := fx.Lists["tokens"]["results"].([]any)
	if len(fx.TokenKeys) != len(tokens) || len(fx.Me) != len(tokens) {
		t.Fatalf("the manifest has the keys of %d tokens and users/me answers for %d, its list %d tokens",
			len(fx.TokenKeys), len(fx.Me), len(tokens))
	}
	cli := false
	for identifier, key := range fx.TokenKeys {
		cli = cli || key == fx.CLITokenKey
		got := getJSON(t, p, adminKey, "/core/tokens/"+identifier+"/view_key/")
		if got.(map[string]any)["key"] != key {
			t.Errorf("view_key of %s after the upgrade: %v, want the key it had", identifier, got)
		}
		// users/me with the old key: the release's answer (the user, or
		// 403 when the owner is inactive).
		status, raw := call(t, p, key, "GET", "/core/users/me/", nil)
		var body any
		_ = json.Unmarshal(raw, &body)
		if want := fx.Me[identifier]; status != want.Status || !reflect.DeepEqual(body, want.Body) {
			t.Errorf("users/me with the key of %s after the upgrade: %d %s, want %d %s", identifier, status, raw, want.Status, compact(want.Body))
		}
	}
	if !cli {
		t.Error("the key `akconn users create --with-token` printed is not among the tokens' keys")
	}
}

// writeAfterUpgrade: an old user's key creates a connection, the admin
// changes an old user and makes a source, and each is audited.
func writeAfterUpgrade(t *testing.T, p *proc, fx fixtureDatabase) {
	t.Helper()
	count := func(path string) float64 {
		return getJSON(t, p, adminKey, path).(map[string]any)["pagination"].(map[string]any)["count"].(float64)
	}
	events := count("/events/events/")
	var user string
	for _, item := range fx.Lists["users"]["results"].([]any) {
		if u := item.(map[string]any); u["username"] == "fixture-bob" {
			user = jsonText(u["pk"])
		}
	}
	write := func(key, method, path string, body map[string]any, want int) map[string]any {
		t.Helper()
		status, raw := call(t, p, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s after the upgrade: %d %s, want %d", method, path, status, raw, want)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	source := write(adminKey, "POST", "/sources/oauth/", map[string]any{"name": "After", "slug": "after-upgrade",
		"provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}, http.StatusCreated)
	write(fx.TokenKeys["fixture-alice-api"], "POST", "/sources/user_connections/oauth/",
		map[string]any{"source": source["pk"], "identifier": "alice-after-upgrade", "access_token": "gho_new"}, http.StatusCreated)
	write(adminKey, "PATCH", "/core/users/"+user+"/", map[string]any{"name": "Bob, upgraded"}, http.StatusOK)
	writes := 3
	if got := count("/events/events/"); got != events+float64(writes) {
		t.Errorf("events after %d audited writes: %v, want %v", writes, got, events+float64(writes))
	}
	for name, want := range map[string]float64{"connections": 1, "sources": 1, "users": 0} {
		before := fx.Lists[name]["pagination"].(map[string]any)["count"].(float64)
		if got := count(upgradeLists[name].path); got != before+want {
			t.Errorf("%s after the writes: %v, want %v", name, got, before+want)
		}
	}
}

// checkStored reads what the API does not show. The new columns: every
// user written by the release has password_change_date = date_joined and
// last_updated the migration's time (between migrated and ready), except
// the one updated since, whose last_updated is later; every source has
// authentik's defaults, and entraid where the release stored azuread
// (read here: the 2024.8 contract has no entraid). The secrets the
// release sealed open to what it was sent.
func checkStored(t *testing.T, database, secretKey string, fx fixtureDatabase, migrated, ready time.Time) {
	t.Helper()
	keys, err := seal.New(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(database, store.Options{SkipMigrations: true, Keyring: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var users []store.User
	if err := st.DB().Order("id").Find(&users).Error; err != nil {
		t.Fatal(err)
	}
	slack := time.Second // SQLite's backfill keeps milliseconds
	for _, u := range users {
		if !u.PasswordChangeDate.Equal(u.DateJoined) {
			t.Errorf("user %s: password_change_date %v, want its date_joined %v", u.Username, u.PasswordChangeDate, u.DateJoined)
		}
		upgraded := !u.LastUpdated.Before(migrated.Add(-slack)) && !u.LastUpdated.After(ready.Add(slack))
		if u.Username == "fixture-bob" {
			if !u.LastUpdated.After(ready) {
				t.Errorf("user %s, updated after the upgrade: last_updated %v, want after %v", u.Username, u.LastUpdated, ready)
			}
		} else if !upgraded {
			t.Errorf("user %s: last_updated %v, want the migration's time (%v to %v)", u.Username, u.LastUpdated, migrated, ready)
		}
	}
	var sources []store.OAuthSource
	if err := st.DB().Order("slug").Find(&sources).Error; err != nil {
		t.Fatal(err)
	}
	if len(fx.Secrets.ConsumerSecrets) == 0 || len(fx.Secrets.AccessTokens) == 0 {
		t.Fatal("the manifest names no sealed secrets")
	}
	// provider_type by slug, as migration 00016 leaves what the release
	// answered: entraid for azuread.
	types, renamed := map[string]string{}, 0
	for _, item := range fx.Lists["sources"]["results"].([]any) {
		row := item.(map[string]any)
		typ, _ := row["provider_type"].(string)
		if typ == "azuread" {
			typ = "entraid"
			renamed++
		}
		types[row["slug"].(string)] = typ
	}
	if renamed == 0 {
		t.Error("the fixture has no azuread source: migration 00016 is not exercised")
	}
	opened := 0
	for _, s := range sources {
		if want, ok := types[s.Slug]; ok && s.ProviderType != want {
			t.Errorf("source %s: provider_type %q, want %q", s.Slug, s.ProviderType, want)
		}
		if s.PKCE != "none" || s.AuthorizationCodeAuthMethod != "basic_auth" || s.Promoted || s.Icon != "" {
			t.Errorf("source %s: pkce %q, authorization_code_auth_method %q, promoted %v, icon %q: want none, basic_auth, false, \"\"",
				s.Slug, s.PKCE, s.AuthorizationCodeAuthMethod, s.Promoted, s.Icon)
		}
		secret, err := st.ConsumerSecret(&s)
		want, ok := fx.Secrets.ConsumerSecrets[s.Slug]
		if err != nil || (ok && secret != want) {
			t.Errorf("source %s: consumer secret %q, %v; want %q", s.Slug, secret, err, want)
		}
		if ok {
			opened++
		}
	}
	if opened != len(fx.Secrets.ConsumerSecrets) {
		t.Errorf("%d of the %d sources whose secrets the manifest names are stored", opened, len(fx.Secrets.ConsumerSecrets))
	}
	for _, item := range fx.Lists["connections"]["results"].([]any) {
		row := item.(map[string]any)
		var c store.Connection
		if err := st.DB().Where("id = ?", row["pk"]).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		token, err := st.AccessToken(&c)
		want, ok := fx.Secrets.AccessTokens[c.Identifier]
		if err != nil || (token != nil) != ok || (ok && *token != want) {
			t.Errorf("connection %s: access token %v, %v; want %q (%v)", c.Identifier, jsonText(token), err, want, ok)
		}
	}
}

// jsonText is a JSON scalar as a path segment.
func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

func compact(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
