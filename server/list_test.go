package server_test

import (
	"fmt"
	"net/http"
	"testing"
)

// ids returns the connection pks of a list response, in order.
func ids(t *testing.T, r response) []int {
	t.Helper()
	var out []int
	for _, item := range r.JSON(t)["results"].([]any) {
		out = append(out, int(item.(map[string]any)["pk"].(float64)))
	}
	return out
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListFiltersSearchAndOrdering(t *testing.T) {
	v := newEnv(t)
	gh := v.createSource("github")
	gl := v.createSource("gitlab")
	a1 := v.createConnection(aliceKey, gl, "Alice-GL")
	a2 := v.createConnection(aliceKey, gh, "alice-gh")
	b1 := v.createConnection(bobKey, gh, "bob-gh")

	for _, tc := range []struct {
		key, query string
		want       []int
	}{
		{adminKey, "", []int{a2, b1, a1}}, // default order: source__slug, pk
		{aliceKey, "", []int{a2, a1}},     // owner filter
		{adminKey, fmt.Sprintf("?user=%d", v.Bob.ID), []int{b1}},
		{aliceKey, fmt.Sprintf("?user=%d", v.Bob.ID), nil},
		{adminKey, "?source__slug=gitlab", []int{a1}},
		{adminKey, "?search=ALICE", []int{a2, a1}}, // case-insensitive identifier
		{adminKey, "?search=lab", []int{a1}},       // source slug
		{adminKey, "?search=%25", nil},             // LIKE wildcards are literal
		{adminKey, "?ordering=-pk", []int{b1, a2, a1}},
		{adminKey, "?ordering=identifier", []int{a1, a2, b1}},
		{adminKey, "?ordering=-source__slug,-pk", []int{a1, b1, a2}},
		{adminKey, "?ordering=nonsense", []int{a2, b1, a1}}, // unknown fields ignored
		{adminKey, "?ordering=user,-created", []int{a2, a1, b1}},
	} {
		r := v.do(http.MethodGet, connections+tc.query, tc.key, nil)
		expect(t, r, http.StatusOK)
		if got := ids(t, r); !equalInts(got, tc.want) {
			t.Errorf("%s as %s: got %v, want %v", tc.query, tc.key, got, tc.want)
		}
	}
}

func TestListPagination(t *testing.T) {
	v := newEnv(t)
	var want []int
	for i := 0; i < 5; i++ {
		src := v.createSource(fmt.Sprintf("s%d", i))
		want = append(want, v.createConnection(aliceKey, src, fmt.Sprintf("id-%d", i)))
	}
	r := v.do(http.MethodGet, connections+"?page=2&page_size=2", aliceKey, nil)
	expect(t, r, http.StatusOK)
	p := r.JSON(t)["pagination"].(map[string]any)
	wantP := map[string]float64{"next": 3, "previous": 1, "count": 5, "current": 2, "total_pages": 3, "start_index": 3, "end_index": 4}
	for k, w := range wantP {
		if p[k].(float64) != w {
			t.Errorf("pagination %s = %v, want %v", k, p[k], w)
		}
	}
	if got := ids(t, r); !equalInts(got, want[2:4]) {
		t.Errorf("page 2: %v, want %v", got, want[2:4])
	}
	r = v.do(http.MethodGet, connections+"?page=3&page_size=2", aliceKey, nil)
	p = r.JSON(t)["pagination"].(map[string]any)
	if p["next"].(float64) != 0 || p["end_index"].(float64) != 5 || !equalInts(ids(t, r), want[4:]) {
		t.Errorf("last page: %s", r.Body)
	}
	for _, q := range []string{"?page=4&page_size=2", "?page=0", "?page=-1"} {
		r = v.do(http.MethodGet, connections+q, aliceKey, nil)
		expect(t, r, http.StatusNotFound)
		if r.JSON(t)["detail"] != "Invalid page." {
			t.Errorf("%s: %s", q, r.Body)
		}
	}
	// page_size is capped and falls back to the default when not positive.
	r = v.do(http.MethodGet, connections+"?page_size=5000", aliceKey, nil)
	expect(t, r, http.StatusOK)
	r = v.do(http.MethodGet, connections+"?page_size=0", aliceKey, nil)
	expect(t, r, http.StatusOK)
	if len(ids(t, r)) != 5 {
		t.Errorf("page_size=0: %s", r.Body)
	}
	// An empty list still has page 1.
	r = v.do(http.MethodGet, connections, bobKey, nil)
	expect(t, r, http.StatusOK)
	p = r.JSON(t)["pagination"].(map[string]any)
	if p["count"].(float64) != 0 || p["current"].(float64) != 1 || p["start_index"].(float64) != 0 || p["end_index"].(float64) != 0 {
		t.Errorf("empty list: %s", r.Body)
	}
	for q, field := range map[string]string{"?page=x": "page", "?page_size=1.5": "page_size", "?user=me": "user"} {
		r = v.do(http.MethodGet, connections+q, aliceKey, nil)
		expect(t, r, http.StatusBadRequest)
		if msg := r.JSON(t)[field].([]any)[0]; msg != "A valid integer is required." {
			t.Errorf("%s: %s", q, r.Body)
		}
	}
}
