package e2e_test

import (
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// A database moves between a build with FTS5 (make build) and a plain
// `go build .` without losing search: the plain build warns at start,
// scans, and lets writes through; the FTS5 build then rebuilds its index,
// so that what was written meanwhile is found.
func TestSearchWithAndWithoutFTS5(t *testing.T) {
	database := filepath.Join(t.TempDir(), "akconn.db")
	withFTS, plain := binaryWithTags(t, "sqlite_fts5"), binaryWithTags(t, "")
	search := func(p *proc, term string) []string {
		t.Helper()
		out := p.must(http.StatusOK, "GET", "/sources/user_connections/oauth/?page_size=1000&search="+term, nil)
		var ids []string
		for _, r := range out["results"].([]any) {
			ids = append(ids, r.(map[string]any)["identifier"].(string))
		}
		sort.Strings(ids)
		return ids
	}
	const warning = "SQLite without FTS5"

	p, err := launchBinary(t, withFTS, database)
	if err != nil {
		t.Fatal(err)
	}
	src := p.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{"name": "S", "slug": "s", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
	// Each user links itself: a connection's user is the user who creates it.
	for i := 0; i < 5; i++ {
		_, key := p.userWithKey(fmt.Sprintf("u%d", i))
		p.mustAs(key, http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src["pk"], "identifier": fmt.Sprintf("Acct-%d", i)})
	}
	if got := search(p, "acct"); len(got) != 5 || strings.Contains(p.logs.String(), warning) {
		t.Fatalf("FTS5 build: found %v; log:\n%s", got, p.logs)
	}
	p.kill()

	p, err = launchBinary(t, plain, database)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.logs.String(), warning) {
		t.Errorf("the plain build does not warn that search scans:\n%s", p.logs)
	}
	_, key := p.userWithKey("late")
	p.mustAs(key, http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src["pk"], "identifier": "ACCT-late"})
	p.must(http.StatusNoContent, "DELETE", "/sources/user_connections/oauth/1/", nil)
	want := []string{"ACCT-late", "Acct-1", "Acct-2", "Acct-3", "Acct-4"}
	if got := search(p, "acct"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("plain build: found %v, want %v", got, want)
	}
	p.kill()

	p, err = launchBinary(t, withFTS, database)
	if err != nil {
		t.Fatal(err)
	}
	if got := search(p, "acct"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("FTS5 build after the plain one: found %v, want %v", got, want)
	}
}
