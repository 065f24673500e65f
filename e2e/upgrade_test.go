package e2e_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", to restore the dump

	"akconn/seal"
	"akconn/server"
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
// with its default flags, migrating at start or by `akconn migrate up`
// first. Through the API, on both mounts: on /compat/2024.8/api/v3/ every
// list answers exactly what the release answered (every row, every field)
// and every row reads back alone the same; on /api/v3/, which speaks
// authentik 2026.8, every list and row is what the release answered in
// that contract's shape, with the documented backfill
// (docs/COMPATIBILITY.md: the users' dates, the sources' defaults, azuread
// as entraid). Each old API token authenticates on both and its sealed key
// opens; the new columns hold the backfill; and writes after the upgrade
// work, through both mounts.
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
				joined := storedDatesJoined(t, database, secretKey)
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
				checkFixtureServed(t, p, fx, newExpect2026(t, p, joined, migrated, ready))
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

// The mounts the upgraded server is read through: /api/v3/, which speaks
// the current contract (authentik 2026.8) with the default flags, and the
// mount of the release's contract.
var (
	currentMount = server.BaseURL
	compatMount  = server.CompatBase("2024.8")
)

// call sends a request with key to path under mount; it returns the
// status and the body.
func call(t *testing.T, p *proc, mount, key, method, path string, body any) (int, []byte) {
	t.Helper()
	status, raw, err := p.sendTo(mount, key, method, path, body)
	if err != nil {
		t.Fatalf("%s %s%s: %v", method, mount, path, err)
	}
	return status, raw
}

// getJSON is a GET with key of path under mount that must answer 200.
func getJSON(t *testing.T, p *proc, mount, key, path string) any {
	t.Helper()
	status, raw := call(t, p, mount, key, "GET", path, nil)
	if status != http.StatusOK {
		t.Fatalf("GET %s%s: %d %s", mount, path, status, raw)
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("GET %s%s: %v", mount, path, err)
	}
	return v
}

// checkFixtureServed: every list and every row as the release served it,
// on both mounts (exp gives the current contract's shape of each); then,
// on both, every token's key still opens and still authenticates. Keys
// are read last: view_key writes an event, which the events list shows.
func checkFixtureServed(t *testing.T, p *proc, fx fixtureDatabase, exp *expect2026) {
	t.Helper()
	if len(fx.Lists) != len(upgradeLists) {
		t.Fatalf("the manifest has lists %v", reflect.ValueOf(fx.Lists).MapKeys())
	}
	for _, mount := range []string{currentMount, compatMount} {
		for name, list := range upgradeLists {
			want := fx.Lists[name]
			if n, _ := want["pagination"].(map[string]any)["count"].(float64); n < 2 {
				t.Fatalf("the manifest's %s: %v rows; a fixture of at least 2", name, n)
			}
			got := getJSON(t, p, mount, adminKey, list.path+"?page_size=1000")
			if diffs := exp.match(mount, name, got, want); len(diffs) > 0 {
				t.Errorf("%s on %s after the upgrade: %s\n got %s\nwant (as the release answered) %s",
					name, mount, strings.Join(diffs, "; "), compact(got), compact(want))
			}
			for _, item := range want["results"].([]any) {
				row := item.(map[string]any)
				path := list.path + jsonText(row[list.key]) + "/"
				got := getJSON(t, p, mount, adminKey, path)
				if diffs := exp.match(mount, name+"/", got, item); len(diffs) > 0 {
					t.Errorf("GET %s%s after the upgrade: %s\n got %s\nwant (as the release answered) %s",
						mount, path, strings.Join(diffs, "; "), compact(got), compact(item))
				}
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
		for _, mount := range []string{currentMount, compatMount} {
			got := getJSON(t, p, mount, adminKey, "/core/tokens/"+identifier+"/view_key/")
			if got.(map[string]any)["key"] != key {
				t.Errorf("view_key of %s on %s after the upgrade: %v, want the key it had", identifier, mount, got)
			}
			// users/me with the old key: the release's answer (the user, or
			// 403 when the owner is inactive).
			status, raw := call(t, p, mount, key, "GET", "/core/users/me/", nil)
			var body any
			_ = json.Unmarshal(raw, &body)
			want := fx.Me[identifier]
			if diffs := exp.match(mount, "me", body, want.Body); status != want.Status || len(diffs) > 0 {
				t.Errorf("users/me on %s with the key of %s after the upgrade: %d %s, want %d (the release answered %s): %s",
					mount, identifier, status, raw, want.Status, compact(want.Body), strings.Join(diffs, "; "))
			}
		}
	}
	if !cli {
		t.Error("the key `akconn users create --with-token` printed is not among the tokens' keys")
	}
}

// storedDatesJoined reads, before the upgrade, when each user the release
// wrote joined (by pk): the release stored it without serving it; the
// current contract serves it as date_joined and, this server having no
// passwords, as password_change_date.
func storedDatesJoined(t *testing.T, database, secretKey string) map[float64]time.Time {
	t.Helper()
	st := openStored(t, database, secretKey)
	defer st.Close()
	var rows []struct {
		ID         int64
		DateJoined time.Time
	}
	if err := st.DB().Raw("SELECT id, date_joined FROM users").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	joined := map[float64]time.Time{}
	for _, r := range rows {
		if r.DateJoined.IsZero() {
			t.Fatalf("user %d: no date_joined stored by the release", r.ID)
		}
		joined[float64(r.ID)] = r.DateJoined
	}
	return joined
}

// expect2026 gives what the upgraded server answers for a row the release
// wrote: on the release's mount, exactly what the release answered; on
// /api/v3/, that answer in authentik 2026.8's shape, as docs/upstream/
// 2024.8-to-2026.8.md describes it, with the backfill of
// docs/COMPATIBILITY.md.
type expect2026 struct {
	t               testing.TB
	joined          map[float64]time.Time // each user's date_joined, as the release stored it
	migrated, ready time.Time             // the migration happened in between
	lastUpdated     map[float64]string    // each user's last_updated, as first served
	entraidType     any                   // the source type of entraid on /api/v3/
}

func newExpect2026(t *testing.T, p *proc, joined map[float64]time.Time, migrated, ready time.Time) *expect2026 {
	t.Helper()
	types, _ := getJSON(t, p, currentMount, adminKey, "/sources/oauth/source_types/?name=entraid").([]any)
	if len(types) != 1 || types[0].(map[string]any)["name"] != "entraid" {
		t.Fatalf("source_types?name=entraid on %s: %v", currentMount, types)
	}
	return &expect2026{t: t, joined: joined, migrated: migrated, ready: ready, lastUpdated: map[float64]string{},
		entraidType: types[0]}
}

// match compares got, read through mount, with want, what the release
// answered for a resource (a list name; with "/", one of its rows; "me"
// for users/me): it returns the differences.
func (e *expect2026) match(mount, resource string, got, want any) []string {
	if mount == currentMount {
		want = e.current(resource, clone(want))
	}
	var diffs []string
	matchJSON("", got, want, &diffs)
	sort.Strings(diffs)
	return diffs
}

// current turns want, a release answer for resource, into the current
// contract's.
func (e *expect2026) current(resource string, want any) any {
	one := map[string]func(map[string]any){
		"users": e.user, "tokens": e.token, "sources": e.source, "connections": e.connection,
		"events": func(map[string]any) {}, // Event is unchanged but for its free-form members' types
	}
	obj, _ := want.(map[string]any)
	switch name, row := strings.CutSuffix(resource, "/"); {
	case resource == "me":
		// SessionUser: the user as it sees itself, now the session's
		// current user without roles, and the session's users (that one).
		if self, ok := obj["user"].(map[string]any); ok {
			self["is_current"], self["roles"] = true, []any{}
			obj["users"] = []any{clone(self)}
		}
	case row:
		one[name](obj)
	default:
		obj["autocomplete"] = map[string]any{} // no list here has query-language fields
		for _, r := range obj["results"].([]any) {
			one[name](r.(map[string]any))
		}
	}
	return obj
}

// user: the dates and roles authentik 2026.8 adds. date_joined is the one
// the release stored, and so is password_change_date (the backfill: no
// password was ever set); last_updated is the migration's time; no roles.
func (e *expect2026) user(u map[string]any) {
	pk, _ := u["pk"].(float64)
	joined, ok := e.joined[pk]
	if !ok {
		e.t.Errorf("user %v: not in the release's database", pk)
	}
	u["date_joined"], u["password_change_date"] = instant(joined), instant(joined)
	u["last_updated"] = e.backfilled(pk)
	u["roles"], u["roles_obj"] = []any{}, []any{}
	if groups, _ := u["groups_obj"].([]any); len(groups) > 0 {
		e.t.Errorf("user %v: the release served groups %v; a 2026.8 group (PartialGroup) is not derived here", pk, groups)
	}
}

// token: its user_obj is a 2026.8 User.
func (e *expect2026) token(tok map[string]any) {
	if u, ok := tok["user_obj"].(map[string]any); ok {
		e.user(u)
	}
}

// nestedSource: icon is now the reference the source was given (the
// release had none: "") and icon_url the URL the 2024.8 icon was (null);
// no themed URLs; not promoted (the backfill).
func (e *expect2026) nestedSource(src map[string]any) {
	if src["icon"] != nil {
		e.t.Errorf("source %v: the release served icon %v; it stored none", src["slug"], src["icon"])
	}
	src["icon_url"] = src["icon"]
	src["icon"], src["icon_themed_urls"], src["promoted"] = "", nil, false
}

// source: an OAuthSource, with the backfilled pkce and authorization code
// method, and azuread, which 2026.8 no longer has, as entraid (migration
// 00016) with entraid's source type.
func (e *expect2026) source(src map[string]any) {
	e.nestedSource(src)
	src["pkce"], src["authorization_code_auth_method"] = "none", "basic_auth"
	if src["provider_type"] == "azuread" {
		src["provider_type"], src["type"] = "entraid", clone(e.entraidType)
	}
}

// connection: source is the source's pk, source_obj the source; an
// unknown expiry (null in 2024.8) is left out.
func (e *expect2026) connection(conn map[string]any) {
	src, _ := conn["source"].(map[string]any)
	if src == nil {
		e.t.Errorf("connection %v: the release served no nested source", conn["pk"])
		return
	}
	conn["source"] = src["pk"]
	e.nestedSource(src)
	conn["source_obj"] = src
	if v, ok := conn["expires"]; ok && v == nil {
		delete(conn, "expires")
	}
}

// backfilled matches a user's last_updated as the backfill set it: a time
// of the migration, and the same every time the user is served.
func (e *expect2026) backfilled(pk float64) matcher {
	return func(got any) error {
		s, _ := got.(string)
		at, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return fmt.Errorf("%v is not a date-time", got)
		}
		slack := time.Second // SQLite's backfill keeps milliseconds
		if at.Before(e.migrated.Add(-slack)) || at.After(e.ready.Add(slack)) {
			return fmt.Errorf("%s is not the migration's time (%v to %v)", s, e.migrated, e.ready)
		}
		if first, seen := e.lastUpdated[pk]; seen && first != s {
			return fmt.Errorf("%s, but %s before", s, first)
		}
		e.lastUpdated[pk] = s
		return nil
	}
}

// A matcher stands in an expected value for what cannot be written out in
// advance: it checks the value got.
type matcher func(got any) error

// instant matches a date-time that is the instant at (to the microsecond,
// the API's precision).
func instant(at time.Time) matcher {
	return func(got any) error {
		s, _ := got.(string)
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil || !v.Truncate(time.Microsecond).Equal(at.Truncate(time.Microsecond)) {
			return fmt.Errorf("%v, want %s", got, at.UTC().Format(time.RFC3339Nano))
		}
		return nil
	}
}

// matchJSON compares decoded JSON got with want, whose values may be
// matchers, and appends each difference (at its path) to diffs.
func matchJSON(path string, got, want any, diffs *[]string) {
	switch w := want.(type) {
	case matcher:
		if err := w(got); err != nil {
			*diffs = append(*diffs, fmt.Sprintf("%s: %v", path, err))
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s, want an object", path, compact(got)))
			return
		}
		for k, wv := range w {
			if gv, ok := g[k]; ok {
				matchJSON(path+"/"+k, gv, wv, diffs)
			} else {
				*diffs = append(*diffs, fmt.Sprintf("%s/%s: missing", path, k))
			}
		}
		for k, gv := range g {
			if _, ok := w[k]; !ok {
				*diffs = append(*diffs, fmt.Sprintf("%s/%s: %s, unexpected", path, k, compact(gv)))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s, want %d items", path, compact(got), len(w)))
			return
		}
		for i := range w {
			matchJSON(fmt.Sprintf("%s/%d", path, i), g[i], w[i], diffs)
		}
	default:
		if !reflect.DeepEqual(got, want) {
			*diffs = append(*diffs, fmt.Sprintf("%s: %s, want %s", path, compact(got), compact(want)))
		}
	}
}

// clone is a deep copy of decoded JSON.
func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	default:
		return v
	}
}

// writeAfterUpgrade: an old user's key creates a connection and the admin
// makes a source, through /api/v3/; the admin changes an old user through
// the release's mount, as an old client would; each is audited, and both
// mounts list what was written.
func writeAfterUpgrade(t *testing.T, p *proc, fx fixtureDatabase) {
	t.Helper()
	count := func(mount, path string) float64 {
		return getJSON(t, p, mount, adminKey, path).(map[string]any)["pagination"].(map[string]any)["count"].(float64)
	}
	events := count(currentMount, "/events/events/")
	var user string
	for _, item := range fx.Lists["users"]["results"].([]any) {
		if u := item.(map[string]any); u["username"] == "fixture-bob" {
			user = jsonText(u["pk"])
		}
	}
	write := func(mount, key, method, path string, body map[string]any, want int) map[string]any {
		t.Helper()
		status, raw := call(t, p, mount, key, method, path, body)
		if status != want {
			t.Fatalf("%s %s%s after the upgrade: %d %s, want %d", method, mount, path, status, raw, want)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return out
	}
	source := write(currentMount, adminKey, "POST", "/sources/oauth/", map[string]any{"name": "After", "slug": "after-upgrade",
		"provider_type": "github", "consumer_key": "k", "consumer_secret": "s"}, http.StatusCreated)
	write(currentMount, fx.TokenKeys["fixture-alice-api"], "POST", "/sources/user_connections/oauth/",
		map[string]any{"source": source["pk"], "identifier": "alice-after-upgrade", "access_token": "gho_new"}, http.StatusCreated)
	bob := write(compatMount, adminKey, "PATCH", "/core/users/"+user+"/", map[string]any{"name": "Bob, upgraded"}, http.StatusOK)
	if _, has := bob["last_updated"]; has || bob["name"] != "Bob, upgraded" {
		t.Errorf("PATCH of a user on %s: %v, want the 2024.8 user renamed", compatMount, bob)
	}
	writes := 3
	if got := count(currentMount, "/events/events/"); got != events+float64(writes) {
		t.Errorf("events after %d audited writes: %v, want %v", writes, got, events+float64(writes))
	}
	for _, mount := range []string{currentMount, compatMount} {
		for name, want := range map[string]float64{"connections": 1, "sources": 1, "users": 0} {
			before := fx.Lists[name]["pagination"].(map[string]any)["count"].(float64)
			if got := count(mount, upgradeLists[name].path); got != before+want {
				t.Errorf("%s on %s after the writes: %v, want %v", name, mount, got, before+want)
			}
		}
	}
}

// checkStored reads the store itself. The new columns: every user written
// by the release has password_change_date = date_joined and last_updated
// the migration's time (between migrated and ready), except the one
// updated since, whose last_updated is later; every source has authentik's
// defaults, and entraid where the release stored azuread (as /api/v3/
// shows it, while the release's mount shows azuread). The secrets the
// release sealed, which the API never shows, open to what it was sent.
func checkStored(t *testing.T, database, secretKey string, fx fixtureDatabase, migrated, ready time.Time) {
	t.Helper()
	st := openStored(t, database, secretKey)
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

// openStored opens the upgraded database as it is, without migrating it,
// with the keys that sealed its secrets.
func openStored(t *testing.T, database, secretKey string) *store.Store {
	t.Helper()
	keys, err := seal.New(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(database, store.Options{SkipMigrations: true, Keyring: keys})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
