package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

const writers = 64

// hammer sends n requests at once and returns the responses.
func hammer(v *env, n int, req func(i int) (method, path, key string, body any)) []response {
	out := make([]response, n)
	hammerEach(n, func(i int) {
		method, path, key, body := req(i)
		out[i] = v.do(method, path, key, body)
	})
	return out
}

// hammerEach runs fn(0..n-1) at once and waits for all.
func hammerEach(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			fn(i)
		}(i)
	}
	close(start)
	wg.Wait()
}

func tally(t *testing.T, rs []response) map[int]int {
	t.Helper()
	counts := map[int]int{}
	for _, r := range rs {
		counts[r.Status]++
		if strings.Contains(r.Body, "locked") || strings.Contains(r.Body, "busy") {
			t.Errorf("the database's lock reached a client: %s", r.Body)
		}
	}
	return counts
}

// 64 concurrent creates of one (user, source): one wins, the rest get
// authentik's unique-set error; nothing fails with a 5xx.
func TestConcurrentCreatesSameUserAndSource(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	rs := hammer(v, writers, func(i int) (string, string, string, any) {
		return http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": fmt.Sprintf("ext-%d", i)}
	})
	counts := tally(t, rs)
	if counts[201] != 1 || counts[400] != writers-1 {
		t.Fatalf("statuses %v, want one 201 and %d 400", counts, writers-1)
	}
	for _, r := range rs {
		if r.Status == 400 && strings.TrimSpace(r.Body) != `{"non_field_errors":["The fields user, source must make a unique set."]}` {
			t.Fatalf("body %s", r.Body)
		}
	}
	if n := countRows(t, v.Store, connectionModel); n != 1 {
		t.Fatalf("%d connections stored", n)
	}
}

// 64 users linking the same external account: one wins.
func TestConcurrentCreatesSameSourceAndIdentifier(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	keys := make([]string, writers)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%d-key-0123456789", i)
		v.AddUser(fmt.Sprintf("user-%d", i), keys[i])
	}
	rs := hammer(v, writers, func(i int) (string, string, string, any) {
		return http.MethodPost, connections, keys[i], map[string]any{"source": src, "identifier": "the-same-account"}
	})
	counts := tally(t, rs)
	if counts[201] != 1 || counts[400] != writers-1 {
		t.Fatalf("statuses %v, want one 201 and %d 400", counts, writers-1)
	}
	for _, r := range rs {
		if r.Status == 400 && strings.TrimSpace(r.Body) != `{"non_field_errors":["The fields source, identifier must make a unique set."]}` {
			t.Fatalf("body %s", r.Body)
		}
	}
	if n := countRows(t, v.Store, connectionModel); n != 1 {
		t.Fatalf("%d connections stored", n)
	}
}

// Concurrent PATCHes of one connection, each setting two fields together:
// the stored row is exactly one writer's submission, never a mix. Then
// writers touching different fields: no update is lost.
func TestConcurrentPatchesNeverMix(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "start")
	path := fmt.Sprintf("%s%d/", connections, id)
	rs := hammer(v, writers, func(i int) (string, string, string, any) {
		return http.MethodPatch, path, aliceKey, map[string]any{
			"identifier": fmt.Sprintf("writer-%d", i), "access_token": fmt.Sprintf("token-of-writer-%d", i)}
	})
	if counts := tally(t, rs); counts[200] != writers {
		t.Fatalf("statuses %v, want %d 200", counts, writers)
	}
	stored, _ := v.storedConnection(id)
	var n int
	token := v.accessToken(stored)
	if _, err := fmt.Sscanf(stored.Identifier, "writer-%d", &n); err != nil || token != fmt.Sprintf("token-of-writer-%d", n) {
		t.Fatalf("stored a mix: identifier %q, token %q", stored.Identifier, token)
	}
	// Writers touching different fields do not lose each other's update.
	rs = hammer(v, 2*writers, func(i int) (string, string, string, any) {
		if i%2 == 0 {
			return http.MethodPatch, path, aliceKey, map[string]any{"identifier": "final-identifier"}
		}
		return http.MethodPatch, path, aliceKey, map[string]any{"expires": "2031-01-01T00:00:00Z"}
	})
	if counts := tally(t, rs); counts[200] != 2*writers {
		t.Fatalf("statuses %v", counts)
	}
	stored, _ = v.storedConnection(id)
	if stored.Identifier != "final-identifier" || stored.Expires == nil {
		t.Fatalf("an update was lost: %+v", stored)
	}
}

// Users (and, by the same store helper, sources and tokens) do not lose
// concurrent updates of different fields either.
func TestConcurrentUserUpdatesNotLost(t *testing.T) {
	v := newEnv(t)
	path := fmt.Sprintf("/core/users/%d/", v.Bob.ID)
	rs := hammer(v, writers, func(i int) (string, string, string, any) {
		if i%2 == 0 {
			return http.MethodPatch, path, adminKey, map[string]any{"name": fmt.Sprintf("name-%d", i)}
		}
		return http.MethodPatch, path, adminKey, map[string]any{"email": fmt.Sprintf("e%d@example.com", i)}
	})
	if counts := tally(t, rs); counts[200] != writers {
		t.Fatalf("statuses %v", counts)
	}
	u, err := v.Store.GetUser(t.Context(), v.Bob.ID)
	if err != nil || u.Name == "bob" || u.Email == "" {
		t.Fatalf("an update was lost: %+v %v", u, err)
	}
}
