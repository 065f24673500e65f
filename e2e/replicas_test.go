package e2e_test

import (
	"fmt"
	"net/http"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// Two server processes on one PostgreSQL database, started together: a
// write through one is visible through the other on the next request, and
// deleting a source through one removes its connections for both.
func TestTwoReplicas(t *testing.T) {
	database := testenv.DatabaseURL(t, store.Postgres)
	type started struct {
		p   *proc
		err error
	}
	ready := make(chan started, 2)
	for i := 0; i < 2; i++ {
		go func() { // both migrate and bootstrap at once
			p, err := launch(t, database)
			ready <- started{p, err}
		}()
	}
	var replicas []*proc
	for i := 0; i < 2; i++ {
		s := <-ready
		if s.err != nil {
			t.Fatal(s.err)
		}
		replicas = append(replicas, s.p)
	}
	a, b := replicas[0], replicas[1]

	src := a.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{
		"name": "GitHub", "slug": "github", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
	conn := a.must(http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src["pk"], "identifier": "gh-1"})
	path := fmt.Sprintf("/sources/user_connections/oauth/%v/", conn["pk"])

	got := b.must(http.StatusOK, "GET", path, nil)
	if got["identifier"] != "gh-1" {
		t.Fatalf("replica b reads %v", got)
	}
	b.must(http.StatusOK, "PATCH", path, map[string]any{"identifier": "gh-2"})
	if got := a.must(http.StatusOK, "GET", path, nil); got["identifier"] != "gh-2" {
		t.Fatalf("replica a reads %v after b's update", got)
	}

	b.must(http.StatusNoContent, "DELETE", "/sources/oauth/github/", nil)
	a.must(http.StatusNotFound, "GET", path, nil)
	for _, p := range []*proc{a, b} {
		list := p.must(http.StatusOK, "GET", "/sources/user_connections/oauth/", nil)
		if n := list["pagination"].(map[string]any)["count"].(float64); n != 0 {
			t.Fatalf("a replica still lists %v connections", n)
		}
	}
}
