package e2e_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// adversarialClients is how many clients send adversarial bodies at once.
const adversarialClients = 100

// TestAdversarialBodiesMemory sends, from 100 clients at once, 1 MiB
// bodies built to cost the most once decoded (huge arrays and strings in
// members the server ignores, too many values in a member it keeps, deep
// nesting) to writes the caller may make, on each backend. Every request
// is answered (200 or a 4xx) and the server's peak resident memory
// (VmHWM) rises by less than 150 MiB over its warmed-up idle peak.
func TestAdversarialBodiesMemory(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			p := start(t, testenv.DatabaseURL(t, backend))
			src := p.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{
				"name": "GitHub", "slug": "github", "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
			conn := p.must(http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src["pk"], "identifier": "x"})
			user := p.must(http.StatusCreated, "POST", "/core/users/", map[string]any{"username": "target", "name": "target"})
			connPath := fmt.Sprintf("/api/v3/sources/user_connections/oauth/%v/", conn["pk"])
			userPath := fmt.Sprintf("/api/v3/core/users/%v/", user["pk"])

			const size = 1<<20 - 64
			zeros := func(prefix, suffix string) []byte {
				n := (size - len(prefix) - len(suffix)) / 2
				return []byte(prefix + strings.Repeat("0,", n-1) + "0" + suffix)
			}
			attacks := []struct {
				path string
				body []byte
				want int
			}{
				{connPath, zeros(`{"identifier":"x","zz":[`, `]}`), http.StatusOK},
				{connPath, []byte(`{"identifier":"x","zz":"` + strings.Repeat("a", size-30) + `"}`), http.StatusOK},
				{userPath, zeros(`{"attributes":{"k":[`, `]}}`), http.StatusBadRequest},
				{connPath, []byte(`{"zz":` + strings.Repeat("[", size/2-10) + strings.Repeat("]", size/2-10) + `}`), http.StatusBadRequest},
			}
			for i := 0; i < 20; i++ { // warm up: pools, caches, prepared statements
				p.must(http.StatusOK, "PATCH", strings.TrimPrefix(connPath, "/api/v3"), map[string]any{"identifier": "x"})
			}
			idle := vmHWM(t, p)

			var wg sync.WaitGroup
			var mu sync.Mutex
			statuses := map[int]int{}
			for c := 0; c < adversarialClients; c++ {
				wg.Add(1)
				go func(c int) {
					defer wg.Done()
					for round := 0; round < 2; round++ {
						a := attacks[(c+round)%len(attacks)]
						req, _ := http.NewRequest(http.MethodPatch, p.base+a.path, bytes.NewReader(a.body))
						req.Header.Set("Authorization", "Bearer "+adminKey)
						req.Header.Set("Content-Type", "application/json")
						status := 0
						if resp, err := adversarialClient.Do(req); err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							status = resp.StatusCode
							if status != a.want {
								status = -status
							}
						}
						mu.Lock()
						statuses[status]++
						mu.Unlock()
					}
				}(c)
			}
			wg.Wait()
			peak := vmHWM(t, p)
			t.Logf("%s: VmHWM idle %d MiB, under %d adversarial clients %d MiB (+%d MiB); statuses %v",
				backend, idle>>10, adversarialClients, peak>>10, (peak-idle)>>10, statuses)
			for status, n := range statuses {
				if status != http.StatusOK && status != http.StatusBadRequest {
					t.Errorf("%d requests answered %d (negative: not the expected status)", n, status)
				}
			}
			if rise := (peak - idle) >> 10; rise >= 150 {
				t.Errorf("peak memory rose by %d MiB (limit 150)", rise)
			}
		})
	}
}

var adversarialClient = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: adversarialClients}}

// vmHWM is the process's peak resident set size, in KiB.
func vmHWM(t *testing.T, p *proc) int {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Skipf("no /proc to read memory from: %v", err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatal(err)
			}
			return kb
		}
	}
	t.Fatal("no VmHWM")
	return 0
}
