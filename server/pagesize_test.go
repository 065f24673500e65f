package server_test

import (
	"net/http"
	"testing"

	"akconn/store"
)

// page_size is capped at 1000 (an addition to authentik's contract).
func TestPageSizeCap(t *testing.T) {
	v := newEnv(t)
	if err := v.Store.Seed(t.Context(), store.SeedOptions{Users: 101, Sources: 10, Connections: 1005}); err != nil {
		t.Fatal(err)
	}
	r := v.do(http.MethodGet, connections+"?page_size=5000", adminKey, nil)
	expect(t, r, http.StatusOK)
	body := r.JSON(t)
	p := body["pagination"].(map[string]any)
	if n := len(body["results"].([]any)); n != 1000 || p["count"].(float64) != 1005 || p["total_pages"].(float64) != 2 || p["end_index"].(float64) != 1000 {
		t.Fatalf("page of %d results, pagination %v", n, p)
	}
}
