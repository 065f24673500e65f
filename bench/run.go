package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// benchDatabase measures every scenario on one backend at one size.
func benchDatabase(cfg *config, benchBin, backend string, size int) ([]row, error) {
	db, drop, err := database(cfg, backend, size)
	if err != nil {
		return nil, err
	}
	defer drop()
	say("%s: seeding %d connections", backend, size)
	start := time.Now()
	if out, err := exec.Command(cfg.server, "seed", "--database", db, "--connections", fmt.Sprint(size)).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("seed: %v\n%s", err, out)
	}
	say("%s: seeded in %s", backend, time.Since(start).Round(time.Millisecond))
	users := max(1, (size+9)/10)
	env := []string{"BOOTSTRAP_TOKEN=" + adminKey}
	var rows []row
	add := func(scenario, mode string, r result, rss float64) {
		rows = append(rows, row{Backend: backend, Size: size, Scenario: scenario, Mode: mode, Result: r, RSSMB: rss})
		say("%-8s %7d %-26s %-9s %8.0f req/s  p50 %-9s p99 %-9s errors %d %s", backend, size, scenario, mode,
			r.RPS(), r.P50.Round(time.Microsecond), r.P99.Round(time.Microsecond), r.Errors, r.FirstError)
	}
	retrieve := func(i int64) (string, string, []byte) {
		return "GET", fmt.Sprintf("/api/v3/sources/user_connections/oauth/%d/", 1+(i*7919)%int64(size)), nil
	}
	list := func(query func(i int64) string) request {
		return func(i int64) (string, string, []byte) {
			return "GET", "/api/v3/sources/user_connections/oauth/?page_size=100" + query(i), nil
		}
	}
	lists := []struct {
		name string
		req  request
	}{
		{"list (default order)", list(func(int64) string { return "" })},
		{"list ?user=", list(func(i int64) string { return fmt.Sprintf("&user=%d", 1+i%int64(users)) })},
		{"list ?source__slug=", list(func(i int64) string { return fmt.Sprintf("&source__slug=seed-src-%d", i%10) })},
		{"list ?search=", list(func(i int64) string { return fmt.Sprintf("&search=ext-%d", (i*7919)%int64(size)) })},
	}

	// Both validators on.
	srv, err := startProcess(cfg.server, env, "/-/health/ready/", "serve", "--addr", "ADDR", "--database", db,
		"--pprof-addr", "PPROF")
	if err != nil {
		return nil, err
	}
	var profile chan string
	if cfg.profile && backend == "sqlite" && size == cfg.sizes[len(cfg.sizes)-1] {
		profile = captureProfile(cfg, srv)
	}
	add("retrieve", "validated", load(srv.base, adminKey, cfg.readers, cfg.warmup, cfg.duration, retrieve), 0)
	if profile != nil {
		if text := <-profile; text != "" {
			profiles = append(profiles, text)
		}
	}
	for _, l := range lists {
		add(l.name, "validated", load(srv.base, adminKey, cfg.listers, cfg.warmup, cfg.duration, l.req), 0)
	}
	create, err := createRequests(srv, users, size, "full")
	if err != nil {
		srv.stop()
		return nil, err
	}
	add("create", "validated", load(srv.base, adminKey, cfg.writers, cfg.warmup, cfg.duration, create), 0)
	add("partial update", "validated", load(srv.base, adminKey, cfg.writers, cfg.warmup, cfg.duration,
		func(i int64) (string, string, []byte) {
			return "PATCH", fmt.Sprintf("/api/v3/sources/user_connections/oauth/%d/", 1+(i*7919)%int64(size)),
				mustJSON(map[string]any{"identifier": fmt.Sprintf("bench-updated-%d", i), "access_token": "t"})
		}), 0)
	var last struct {
		Results []struct{ Pk int64 } `json:"results"`
	}
	if err := srv.get("/sources/user_connections/oauth/?ordering=-pk&page_size=1", &last); err != nil || len(last.Results) == 0 {
		srv.stop()
		return nil, fmt.Errorf("find the created connections: %v", err)
	}
	created := last.Results[0].Pk - int64(size)
	add("delete", "validated", load(srv.base, adminKey, cfg.writers, 0, cfg.duration, func(i int64) (string, string, []byte) {
		if i > created {
			return "", "", nil // every created connection is gone
		}
		return "DELETE", fmt.Sprintf("/api/v3/sources/user_connections/oauth/%d/", int64(size)+i), nil
	}), 0)
	rss := srv.peakRSS()
	body := fetch(srv.base+"/api/v3/sources/user_connections/oauth/1/", adminKey)
	srv.stop()

	// Response validation off.
	srv, err = startProcess(cfg.server, env, "/-/health/ready/", "serve", "--addr", "ADDR", "--database", db, "--response-validation", "off")
	if err != nil {
		return nil, err
	}
	add("retrieve", "resp. off", load(srv.base, adminKey, cfg.readers, cfg.warmup, cfg.duration, retrieve), 0)
	add("list (default order)", "resp. off", load(srv.base, adminKey, cfg.listers, cfg.warmup, cfg.duration, lists[0].req), 0)
	rss = max(rss, srv.peakRSS())
	srv.stop()

	// SQLite with synchronous=NORMAL: the durability trade-off, measured.
	if backend == "sqlite" {
		srv, err = startProcess(cfg.server, env, "/-/health/ready/", "serve", "--addr", "ADDR", "--database", db, "--sqlite-synchronous", "NORMAL")
		if err != nil {
			return nil, err
		}
		create, err := createRequests(srv, users, size, "normal")
		if err != nil {
			srv.stop()
			return nil, err
		}
		add("create", "sync=NORMAL", load(srv.base, adminKey, cfg.writers, cfg.warmup, cfg.duration, create), 0)
		rss = max(rss, srv.peakRSS())
		srv.stop()
	}
	for i := range rows {
		rows[i].RSSMB = rss
	}

	// Baselines, on the same data (SQLite).
	if backend != "sqlite" {
		return rows, nil
	}
	bodyFile := filepath.Join(cfg.work, "retrieve.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return nil, err
	}
	baselines := map[string][]string{"baseline: static": {"baseline-static", "ADDR", bodyFile}, "baseline: raw SQL": {"baseline-sql", "ADDR", db}}
	measured := map[string]float64{}
	for _, name := range []string{"baseline: static", "baseline: raw SQL"} {
		b, err := startProcess(benchBin, nil, "/api/v3/sources/user_connections/oauth/1/", baselines[name]...)
		if err != nil {
			return nil, err
		}
		r := load(b.base, adminKey, cfg.readers, cfg.warmup, cfg.duration, retrieve)
		add("retrieve", name, r, b.peakRSS())
		rows[len(rows)-1].RSSMB = b.peakRSS()
		measured[name] = r.RPS()
		b.stop()
	}
	for i := range rows {
		if rows[i].Scenario == "retrieve" {
			rows[i].VsStatic = rows[i].Result.RPS() / measured["baseline: static"]
			rows[i].VsSQL = rows[i].Result.RPS() / measured["baseline: raw SQL"]
		}
	}
	return rows, nil
}

// createRequests makes 200 fresh sources so that every create names a new
// (user, source) pair and a new (source, identifier) pair.
func createRequests(srv *process, users, size int, prefix string) (request, error) {
	var sources []string
	for i := 0; i < 200; i++ {
		out, err := srv.post("/sources/oauth/", map[string]any{"name": fmt.Sprintf("bench %s %d", prefix, i), "slug": fmt.Sprintf("bench-%s-%d", prefix, i),
			"provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
		if err != nil {
			return nil, err
		}
		sources = append(sources, out["pk"].(string))
	}
	return func(i int64) (string, string, []byte) {
		user := 1 + i%int64(users)
		source := sources[(i/int64(users))%int64(len(sources))]
		return "POST", "/api/v3/sources/user_connections/oauth/", mustJSON(map[string]any{
			"source": source, "user": user, "identifier": fmt.Sprintf("bench-%s-%d", prefix, i), "access_token": "bench-token"})
	}, nil
}

func fetch(u, key string) []byte {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return b
}
