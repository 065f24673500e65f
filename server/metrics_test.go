package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"akconn/server"
	"akconn/store"
	"akconn/testenv"
)

// scrape reads /-/metrics/ (no token) into "name{labels}" → value.
func scrape(t *testing.T, v *env) (map[string]float64, string) {
	t.Helper()
	r := v.Serve(httptestRequest(http.MethodGet, server.MetricsPath))
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("scrape: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(string(r.Body)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		value, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q", line)
		}
		out[line[:i]] = value
	}
	return out, string(r.Body)
}

func httptestRequest(method, path string) *http.Request {
	req, _ := http.NewRequest(method, path, nil)
	req.RemoteAddr = "192.0.2.1:1234"
	return req
}

// After known traffic, the metrics count it: per operationId and status,
// latency buckets, validation and authentication failures, client-closed
// requests apart, the pool, build info; no label from the request and no
// secret in the output.
func TestMetricsCountKnownTraffic(t *testing.T) {
	v := newEnv(t)
	src := v.createSource("github")
	id := v.createConnection(aliceKey, src, "ext-1")
	p := fmt.Sprintf("%s%d/", connections, id)
	for i := 0; i < 3; i++ {
		expect(t, v.do(http.MethodGet, p, aliceKey, nil), http.StatusOK)
	}
	expect(t, v.do(http.MethodHead, p, aliceKey, nil), http.StatusOK)
	expect(t, v.do(http.MethodGet, connections+"999999/", aliceKey, nil), http.StatusNotFound)
	expect(t, v.do(http.MethodPost, connections, aliceKey, map[string]any{"source": src, "identifier": 7}), http.StatusBadRequest)
	expect(t, v.do(http.MethodPost, connections, aliceKey, `{"source": `), http.StatusBadRequest)
	expect(t, v.do(http.MethodGet, connections, "", nil), http.StatusForbidden)
	expect(t, v.do(http.MethodGet, connections, "", nil), http.StatusForbidden)
	basic := testenv.NewRequest(t, http.MethodGet, connections, "", nil)
	basic.Header.Set("Authorization", "Basic YWxpY2U6c2VjcmV0")
	v.Serve(basic)
	secretLooking := "not-a-real-token-but-secret-looking-0123456789"
	expect(t, v.do(http.MethodGet, connections, secretLooking, nil), http.StatusForbidden)
	v.Serve(httptestRequest(http.MethodGet, "/-/health/live/"))
	v.Serve(httptestRequest(http.MethodGet, "/user-chosen-path-"+secretLooking))
	v.Serve(httptestRequest("BREW", "/api/v3/core/users/"))
	// A client that goes away: its request ends as a 499, not a 5xx.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	gone := testenv.NewRequest(t, http.MethodGet, connections+"?search=x", aliceKey, nil).WithContext(ctx)
	v.Serve(gone)
	corruptSource(t, v, "github")
	expect(t, v.do(http.MethodGet, sources+"github/", aliceKey, nil), http.StatusInternalServerError)

	m, text := scrape(t, v)
	for name, want := range map[string]float64{
		`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_user_connections_oauth_retrieve",status="200"}`:                          3,
		`akconn_http_requests_total{contract="2024.8",method="HEAD",operation="sources_user_connections_oauth_retrieve",status="200"}`:                         1,
		`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_user_connections_oauth_retrieve",status="404"}`:                          1,
		`akconn_http_requests_total{contract="2024.8",method="POST",operation="sources_user_connections_oauth_create",status="400"}`:                           2,
		`akconn_http_requests_total{contract="2024.8",method="POST",operation="sources_user_connections_oauth_create",status="201"}`:                           1,
		`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_user_connections_oauth_list",status="403"}`:                              4,
		`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_user_connections_oauth_list",status="499"}`:                              1,
		`akconn_http_requests_total{contract="none",method="GET",operation="/-/health/live/",status="204"}`:                                                    1,
		`akconn_http_requests_total{contract="none",method="GET",operation="unmatched",status="404"}`:                                                          1,
		`akconn_http_requests_total{contract="2024.8",method="other",operation="/api/v3/core/users/",status="405"}`:                                            1,
		`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_oauth_retrieve",status="500"}`:                                           1,
		`akconn_http_request_duration_seconds_count{contract="2024.8",method="GET",operation="sources_user_connections_oauth_retrieve",status="200"}`:          3,
		`akconn_http_request_duration_seconds_bucket{contract="2024.8",method="GET",operation="sources_user_connections_oauth_retrieve",status="200",le="10"}`: 3,
		`akconn_request_validation_rejections_total{operation="sources_user_connections_oauth_create"}`:                                                        2,
		`akconn_response_validation_rejections_total{operation="sources_oauth_retrieve"}`:                                                                      1,
		`akconn_authentication_failures_total{reason="missing"}`:                                                                                               2,
		`akconn_authentication_failures_total{reason="unsupported_type"}`:                                                                                      1,
		`akconn_authentication_failures_total{reason="invalid_token"}`:                                                                                         1,
		`akconn_authentication_failures_total{reason="malformed"}`:                                                                                             0,
		`akconn_client_closed_requests_total{operation="sources_user_connections_oauth_list"}`:                                                                 1,
	} {
		if got, ok := m[name]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if n := m[`akconn_http_requests_total{contract="2024.8",method="GET",operation="sources_user_connections_oauth_list",status="500"}`]; n != 0 {
		t.Errorf("the client that went away counted as a server error")
	}
	for _, name := range []string{`go_goroutines`, `process_resident_memory_bytes`, `go_sql_open_connections{db_name="` + v.Store.Dialect() + `"}`,
		`go_sql_max_open_connections{db_name="` + v.Store.Dialect() + `"}`} {
		if _, ok := m[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if !regexp.MustCompile(`akconn_build_info\{commit="[^"]*",goversion="go[^"]+",version="[^"]*"\} 1`).MatchString(text) {
		t.Error("no build info")
	}
	for _, leak := range []string{secretLooking, "YWxpY2U6c2VjcmV0", aliceKey, adminKey, "BREW", "user-chosen", "ext-1", "search"} {
		if strings.Contains(text, leak) {
			t.Errorf("the metrics hold %q", leak)
		}
	}
	// Label values are all the server's own.
	for name := range m {
		for _, kv := range regexp.MustCompile(`(\w+)="([^"]*)"`).FindAllStringSubmatch(name, -1) {
			if kv[1] == "operation" && !regexp.MustCompile(`^([a-z_]+|/[-a-z0-9/:_]*|unmatched)$`).MatchString(kv[2]) {
				t.Errorf("operation label %q", kv[2])
			}
		}
	}
}

// The writer's counters follow the writes: on SQLite, every write is in
// one of the writer's commits and the writer's busy time grows; on
// PostgreSQL, each connection create is in one batch statement, and there
// is no writer to be busy.
func TestMetricsCountTheWriter(t *testing.T) {
	v := newEnv(t)
	var srcs []string
	for i := 0; i < 3; i++ {
		srcs = append(srcs, v.createSource(fmt.Sprintf("src-%d", i)))
	}
	before, _ := scrape(t, v)
	for i, src := range srcs { // (one connection per user and source)
		v.createConnection(aliceKey, src, fmt.Sprintf("ext-%d", i))
	}
	after, _ := scrape(t, v)
	grew := func(name string) float64 { return after[name] - before[name] }
	commits, writes := grew("akconn_store_group_commits_total"), grew("akconn_store_grouped_writes_total")
	if writes != 3 || commits < 1 || commits > writes {
		t.Errorf("3 creates: %v more commits carrying %v more writes", commits, writes)
	}
	busy := grew("akconn_store_writer_busy_seconds_total")
	if sqlite := v.Store.Dialect() == store.SQLite; sqlite != (busy > 0) || busy < 0 {
		t.Errorf("on %s the writer's busy time grew by %v s", v.Store.Dialect(), busy)
	}
}

// With MetricsElsewhere the main listener does not serve the metrics.
func TestMetricsOffTheMainListener(t *testing.T) {
	v := &env{testenv.NewWithConfig(t, server.Config{MetricsElsewhere: true})}
	if r := v.Serve(httptestRequest(http.MethodGet, server.MetricsPath)); r.Status != http.StatusNotFound {
		t.Fatalf("metrics on the main listener: %d", r.Status)
	}
}
