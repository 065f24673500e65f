package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The fault tests (outage_postgres_test.go, outage_sqlite_test.go) take
// the database away from a running server under a write load, then give
// it back: every refused request must be a 503 with Retry-After and
// authentik's {"detail": …}, never a 500; writes resume by themselves;
// every acknowledged write is stored, whole, with its event; and the
// outage makes a handful of ERROR lines, not one per request.

// unavailableDetail is what a request refused for an unavailable database
// answers.
const unavailableDetail = "The database is unavailable; try again later."

// outageLoad is 16 clients creating sources and connections, each pair
// named alike, reading them and lists, and renaming their user, as fast
// as they are answered.
type outageLoad struct {
	t    *testing.T
	p    *proc
	user any
	key  string // the user's API key: its connections are its own
	// anchor is a source that every client links its user to again and
	// again: one create is answered 201, the others 400 (the user already
	// has a connection to it), and all take a connection id first, which
	// on PostgreSQL makes the store reserve ids often, outages included.
	anchor any
	seq    atomic.Int64
	stop   chan struct{}
	wg     sync.WaitGroup

	mu       sync.Mutex
	acked    map[string]float64 // identifier → pk of each connection answered 201
	sources  int                // sources answered 201
	statuses map[int]int
	// phase is 0 before the first refusal, 1 from it until the database
	// is back, 2 after; during counts what was answered in phase 1, by
	// method and status.
	phase   int
	during  map[string]int
	refused int
	lastAck time.Time
	bad     []string // answers that break the rules, first ones

	// unready is closed at the end of the outage; sawUnready then says
	// whether readiness answered 503 during it.
	unready    chan struct{}
	sawUnready <-chan bool
}

// outageBegins is called as the database is taken away.
func (l *outageLoad) outageBegins() {
	l.unready = make(chan struct{})
	l.sawUnready = watchReadiness(l.p, l.unready)
}

// outageEnded is called once the database on database is back: writes
// must resume by themselves, and then the clients are stopped and
// everything checked.
func (l *outageLoad) outageEnded(database string) {
	l.t.Helper()
	l.mu.Lock()
	l.phase = 2
	l.mu.Unlock()
	close(l.unready)
	l.waitForWrites(time.Now(), 10*time.Second)
	time.Sleep(time.Second)
	l.end(3)
	if !<-l.sawUnready {
		l.t.Error("readiness never answered 503 with Retry-After during the outage")
	}
	l.checkAcked()
	l.p.kill()
	checkStoredRowsWhole(l.t, database, len(l.acked))
	checkSourcesWhole(l.t, database, l.sources)
}

// startOutageLoad starts the clients.
func startOutageLoad(t *testing.T, p *proc) *outageLoad {
	user, key := p.userWithKey("outage")
	anchor := p.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{
		"name": anchorName, "slug": anchorName, "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
	l := &outageLoad{t: t, p: p, user: user, key: key, anchor: anchor["pk"], sources: 1, stop: make(chan struct{}),
		acked: map[string]float64{}, statuses: map[int]int{}, during: map[string]int{}}
	for range 16 {
		l.wg.Add(1)
		go l.client()
	}
	return l
}

func (l *outageLoad) client() {
	defer l.wg.Done()
	for {
		select {
		case <-l.stop:
			return
		default:
		}
		n := l.seq.Add(1)
		id := fmt.Sprintf("outage-%d", n)
		// Reads, and updates, are refused alike.
		l.send("GET", outageReads[n%int64(len(outageReads))], nil)
		l.send("PATCH", fmt.Sprintf("/core/users/%v/", l.user), map[string]any{"name": id})
		status, conn := l.sendAs(l.key, "POST", "/sources/user_connections/oauth/", map[string]any{
			"source": l.anchor, "identifier": anchorName, "access_token": "token-" + anchorName}, http.StatusBadRequest)
		if status == http.StatusCreated {
			l.acknowledged(anchorName, conn)
		}
		status, source := l.send("POST", "/sources/oauth/", map[string]any{
			"name": id, "slug": id, "provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
		if status != http.StatusCreated {
			continue
		}
		l.mu.Lock()
		l.sources++
		l.mu.Unlock()
		status, conn = l.sendAs(l.key, "POST", "/sources/user_connections/oauth/", map[string]any{
			"source": source["pk"], "identifier": id, "access_token": "token-" + id})
		if status == http.StatusCreated {
			l.acknowledged(id, conn)
			l.sendAs(l.key, "GET", fmt.Sprintf("/sources/user_connections/oauth/%v/", conn["pk"]), nil)
		}
	}
}

// anchorName names the anchor source and its connection's identifier.
const anchorName = "outage-anchor"

// acknowledged notes the connection identified as id, answered 201.
func (l *outageLoad) acknowledged(id string, conn map[string]any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acked[id] = conn["pk"].(float64)
	l.lastAck = time.Now()
}

// outageReads are the lists the clients read, in turn.
var outageReads = []string{
	"/sources/user_connections/oauth/?page_size=5&ordering=-pk",
	"/sources/oauth/?page_size=5",
	"/events/events/?page_size=5",
	"/core/tokens/?page_size=5",
	"/core/users/?page_size=5",
}

// send sends a request as the bootstrap admin with body (nil: none) and
// checks the answer: a 201 to a POST, a 200 to another method, a 503 with
// Retry-After and the detail, or one of the statuses also allowed.
func (l *outageLoad) send(method, path string, body any, also ...int) (int, map[string]any) {
	return l.sendAs(adminKey, method, path, body, also...)
}

// sendAs is send with the API key key.
func (l *outageLoad) sendAs(key, method, path string, body any, also ...int) (int, map[string]any) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, l.p.base+"/api/v3"+path, r)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var raw []byte
	status, retry, out, err := 0, "", map[string]any{}, error(nil)
	resp, err := client.Do(req)
	if err == nil {
		raw, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		status, retry = resp.StatusCode, resp.Header.Get("Retry-After")
		_ = json.Unmarshal(raw, &out)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.statuses[status]++
	if status == http.StatusServiceUnavailable && l.phase == 0 {
		l.phase = 1
	}
	if l.phase == 1 {
		l.during[fmt.Sprint(method, " ", status)]++
	}
	switch {
	case status == http.StatusCreated && method == "POST", status == http.StatusOK && method != "POST", slices.Contains(also, status):
	case status == http.StatusServiceUnavailable && retry == "2" && out["detail"] == unavailableDetail && len(out) == 1:
		l.refused++
	default:
		if len(l.bad) < 5 {
			l.bad = append(l.bad, fmt.Sprintf("%s %s: %d, Retry-After %q, %v (%v)", method, path, status, retry, out, err))
		}
	}
	return status, out
}

// ackedSince reports whether a connection was acknowledged after t.
func (l *outageLoad) ackedSince(t time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lastAck.After(t)
}

// refusals is how many requests were refused so far, and every status
// answered.
func (l *outageLoad) refusals() (int, string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.refused, fmt.Sprint(l.statuses)
}

// waitForWrites waits until a connection is acknowledged after since:
// writes resumed without anyone's help.
func (l *outageLoad) waitForWrites(since time.Time, within time.Duration) {
	l.t.Helper()
	for deadline := time.Now().Add(within); !l.ackedSince(since); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			l.t.Fatalf("no write acknowledged within %s of the database's return: %v", within, l.statuses)
		}
	}
}

// end stops the clients and checks what they were answered, the log and
// the metric: refusals happened, all of them well formed, and the outage
// logged ERROR at most maxErrors times, and its end with the number of
// requests it refused.
func (l *outageLoad) end(maxErrors int) {
	l.t.Helper()
	close(l.stop)
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t.Logf("answers: %v; during the outage: %v; %d connections acknowledged", l.statuses, l.during, len(l.acked))
	if len(l.bad) > 0 {
		l.t.Errorf("answers other than 201 or a well-formed 503 (%d in all): %s", len(l.bad), strings.Join(l.bad, "\n"))
	}
	if l.refused == 0 || len(l.acked) < 20 {
		l.t.Fatalf("%d refused, %d acknowledged: the outage or the load did not happen", l.refused, len(l.acked))
	}
	var ended int
	for deadline := time.Now().Add(3 * retryAfterSeconds * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ended = refusedInEndLines(l.p.logs.String()); ended >= l.refused || time.Now().After(deadline) {
			break
		}
	}
	logs := l.p.logs.String()
	var errorLines []string
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			errorLines = append(errorLines, line)
		}
		if strings.Contains(line, `"msg":"database available again"`) {
			l.t.Log(line)
		}
	}
	l.t.Logf("%d ERROR lines:\n%s", len(errorLines), strings.Join(errorLines[:min(len(errorLines), 5)], "\n"))
	if len(errorLines) == 0 || len(errorLines) > maxErrors {
		l.t.Errorf("%d ERROR lines for the outage, want 1 to %d", len(errorLines), maxErrors)
	}
	if ended != l.refused {
		l.t.Errorf("the log's end-of-outage lines count %d refused requests, the clients saw %d", ended, l.refused)
	}
	if got := metric(l.t, l.p, "akconn_db_unavailable_refusals_total"); got != float64(l.refused) {
		l.t.Errorf("akconn_db_unavailable_refusals_total = %v, the clients saw %d refusals", got, l.refused)
	}
	if status, _ := l.p.get("/-/health/ready/"); status != http.StatusNoContent {
		l.t.Errorf("readiness after the outage: %d", status)
	}
}

const retryAfterSeconds = 2

var refusedCount = regexp.MustCompile(`"msg":"database available again","refused_requests":(\d+)`)

// refusedInEndLines adds up the refused requests the end-of-outage lines
// of logs report.
func refusedInEndLines(logs string) int {
	n := 0
	for _, m := range refusedCount.FindAllStringSubmatch(logs, -1) {
		v, _ := strconv.Atoi(m[1])
		n += v
	}
	return n
}

// watchReadiness polls the readiness check until stop is closed and
// reports whether it answered 503 with Retry-After at least once.
func watchReadiness(p *proc, stop <-chan struct{}) <-chan bool {
	saw := make(chan bool, 1)
	go func() {
		unready := false
		for {
			select {
			case <-stop:
				saw <- unready
				return
			case <-time.After(100 * time.Millisecond):
			}
			status, retry := p.get("/-/health/ready/")
			unready = unready || (status == http.StatusServiceUnavailable && retry == "2")
		}
	}()
	return saw
}

// get GETs path off the API; it returns the status and Retry-After.
func (p *proc) get(path string) (int, string) {
	resp, err := client.Get(p.base + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// metric reads an unlabelled metric of p.
func metric(t *testing.T, p *proc, name string) float64 {
	t.Helper()
	resp, err := client.Get(p.base + "/-/metrics/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// checkAcked reads back every acknowledged connection through the API.
func (l *outageLoad) checkAcked() {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for id, pk := range l.acked {
		got := l.p.must(http.StatusOK, "GET", fmt.Sprintf("/sources/user_connections/oauth/%d/", int64(pk)), nil)
		if !connectionIs(got, id, l.user) {
			l.t.Fatalf("acknowledged connection %s changed: %v", id, got)
		}
	}
}
