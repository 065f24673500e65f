package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"akconn/testenv"
)

// capturedResponse is one raw response the client received, as
// tools/tsclient/lib.mjs writes it.
type capturedResponse struct {
	Operation   string            `json:"operation"` // the client method, e.g. eventsEventsList
	Method      string            `json:"method"`
	URL         string            `json:"url"`
	Status      int               `json:"status"`
	ContentType string            `json:"contentType"`
	Headers     map[string]string `json:"headers"` // every response header, names in lower case
	Body        string            `json:"body"`
}

// tsScripts drive the client, one per resource group; each runs on its
// own against a mount and writes what it received (tools/tsclient/lib.mjs).
var tsScripts = []string{"sources.mjs", "core.mjs", "events.mjs"}

// tsClientRun is one run of authentik's TypeScript client against a mount.
type tsClientRun struct {
	client     string   // the package, as tools/tsclient/package.json names it
	references []string // authentik's published contracts the client is generated from
	base       string   // the mount the client calls
	spec       string   // the mount's own contract, from the repository root
	// apiVersion is the server's --api-version: "" for none, so that
	// /api/v3/ speaks the current contract (server.CurrentVersion). Each
	// value is one server process, on a database of its own.
	apiVersion string
}

// authentik 2024.8.3's contracts: connections, sources, users and tokens
// (31 operations), and the events (10).
var references2024 = []string{"authentik-2024.8.3-subset.yaml", "authentik-2024.8.3-events.yaml"}

// authentik 2026.8.3's: the same 31, and the events' 10 (stats in place
// of per_month).
var references2026 = []string{"authentik-2026.8.3-subset.yaml", "authentik-2026.8.3-events.yaml"}

// tsClientRuns are the runs of TestAuthentikTypeScriptClient: authentik
// 2026.8.3's client (installed beside the pinned 2024.8.3 one under the
// npm alias @goauthentik/api-2026, tools/tsclient/package.json) on
// /api/v3/ of a server started as it is by default, and 2024.8.3's on
// that server's /compat/2024.8/api/v3/ and on /api/v3/ of a server started
// with --api-version 2024.8. The scripts load the package run.client names
// (AKCONN_TSCLIENT_PACKAGE) and branch on its version where the contracts
// differ (tools/tsclient/lib.mjs: v2026).
//
// Until /api/v3/ speaks 2026.8 (server.CurrentVersion "2024.8"), the
// default server's /api/v3/ speaks 2024.8, and so does the second
// server's (--api-version 2024.8 is then the default; openapi.yaml and
// api/2024.8.yaml are the same contract): the 2026.8 run skips, saying
// so, as long as the /api/v3/schema/ it would call is not a 2026.8
// document (tsClientMount), and runs by itself once it is. Nothing here
// changes at the switch.
var tsClientRuns = []tsClientRun{
	{"@goauthentik/api-2026", references2026, "/api/v3", "openapi.yaml", ""},
	{"@goauthentik/api", references2024, "/compat/2024.8/api/v3", "api/2024.8.yaml", ""},
	{"@goauthentik/api", references2024, "/api/v3", "api/2024.8.yaml", "2024.8"},
}

// authentik's own TypeScript clients (@goauthentik/api 2024.8.3 and
// 2026.8.3, pinned in tools/tsclient) drive every operation of authentik's
// published contracts for connections, sources, users, tokens and events
// on real server processes on the test backend, through each mount of
// tsClientRuns, as an administrator and an ordinary user use them (the
// scripts check what they read). Every raw response the client received
// is valid for authentik's contract of its operation and for the mount's
// own contract, and every operation of those contracts was called at
// least once.
func TestAuthentikTypeScriptClient(t *testing.T) {
	root := filepath.Dir(testenv.SpecPath())
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the test of authentik's TypeScript client needs Node.js 18 or later")
	}
	clientVersions := map[string]string{} // package → its version
	servers := map[string]*proc{}         // --api-version → the server
	for _, run := range tsClientRuns {
		pkg := filepath.Join(root, "tools", "tsclient", "node_modules", filepath.FromSlash(run.client), "package.json")
		raw, err := os.ReadFile(pkg)
		if err != nil {
			t.Skipf("%s is missing: run `npm ci --prefix tools/tsclient` (make test does)", pkg)
		}
		var manifest struct{ Version string }
		if err := json.Unmarshal(raw, &manifest); err != nil || manifest.Version == "" {
			t.Fatalf("%s: no version (%v)", pkg, err)
		}
		clientVersions[run.client] = manifest.Version
		if servers[run.apiVersion] == nil {
			var args []string
			if run.apiVersion != "" {
				args = []string{"--api-version", run.apiVersion}
			}
			servers[run.apiVersion] = start(t, testenv.DatabaseURL(t, testenv.Backend()), args...)
		}
	}
	for _, run := range tsClientRuns {
		name := run.client + strings.ReplaceAll(run.base, "/", "_")
		if run.apiVersion != "" {
			name += "_api-version_" + run.apiVersion
		}
		p := servers[run.apiVersion]
		t.Run(name, func(t *testing.T) {
			tsClientMount(t, p, run, clientVersions[run.client], root)
			var references []*contract
			for _, name := range run.references {
				if path := testenv.ReferenceFile(t, name); path != "" {
					references = append(references, loadContract(t, path))
				} else {
					t.Logf("!!! REFERENCE CHECK SKIPPED: %s not found (set %s to its directory, or keep shared/reference/ beside the repository); "+
						"its operations are validated against the mount's own contract only", name, testenv.ReferenceEnv)
				}
			}
			own := loadContract(t, filepath.Join(root, run.spec))
			var responses []capturedResponse
			for _, script := range tsScripts {
				responses = append(responses, runTSClient(t, node, root, p, run, script)...)
			}
			checkResponses(t, run.base, own, references, responses)
			// Every operation must have been called: of each reference, and
			// of the mount's own contract when a reference is not at hand.
			want := references
			if len(references) < len(run.references) {
				want = append(want, own)
			}
			seen := map[string]int{}
			for _, r := range responses {
				seen[r.Operation]++
			}
			for _, c := range want {
				for _, op := range c.operations() {
					if seen[op] == 0 {
						t.Errorf("%s: operation %s was not exercised by the client run (tools/tsclient/*.mjs call none of it)", c.name, op)
					}
				}
			}
			t.Logf("%s %s %s: validated %d responses of %d operations against the mount's contract and %d reference(s)",
				testenv.Backend(), run.client, run.base, len(responses), len(seen), len(references))
		})
	}
}

// tsClientMount checks that run's mount on p speaks the contract of run's
// client (its release series, from the client's version) and run.spec. It
// skips the run while the mount is the /api/v3/ of a server started
// without --api-version and speaks an older series than the client: the
// 2026.8 client's run before /api/v3/ speaks 2026.8. Any other difference
// fails the run.
func tsClientMount(t *testing.T, p *proc, run tsClientRun, clientVersion, root string) {
	t.Helper()
	want := releaseSeries(clientVersion)
	resp, err := client.Get(p.base + run.base + "/schema/")
	if err != nil {
		t.Fatalf("GET %s/schema/: %v", run.base, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s/schema/: %d %v", run.base, resp.StatusCode, err)
	}
	served, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("%s/schema/: %v", run.base, err)
	}
	got := served.Info.Version
	if !strings.HasPrefix(got, want+".") {
		if run.apiVersion == "" && run.base == "/api/v3" && olderSeries(releaseSeries(got), want) {
			t.Skipf("%s %s waits for /api/v3/ to speak %s: this server's /api/v3/schema/ has info.version %s "+
				"(it runs as soon as a server started without --api-version serves %s at /api/v3/)", run.client, clientVersion, want, got, want)
		}
		t.Fatalf("%s %s speaks %s, but %s/schema/ has info.version %s", run.client, clientVersion, want, run.base, got)
	}
	spec, err := openapi3.NewLoader().LoadFromFile(filepath.Join(root, run.spec))
	if err != nil {
		t.Fatalf("load %s: %v", run.spec, err)
	}
	if spec.Info.Version != got {
		t.Fatalf("%s/schema/ has info.version %s, but the run checks it against %s, version %s", run.base, got, run.spec, spec.Info.Version)
	}
}

// releaseSeries is the authentik release series of a version, "YEAR.MONTH"
// ("2026.8" of "2026.8.3" and "2026.8.3-slice.1"), or the version itself.
func releaseSeries(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return version
	}
	return parts[0] + "." + parts[1]
}

// olderSeries reports whether series a ("2024.8") is before b ("2026.8").
func olderSeries(a, b string) bool {
	var ay, am, by, bm int
	if _, err := fmt.Sscanf(a, "%d.%d", &ay, &am); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%d.%d", &by, &bm); err != nil {
		return false
	}
	return ay < by || ay == by && am < bm
}

// runTSClient runs tools/tsclient/<script> with run's client against its
// mount on p and returns every response the script captured.
func runTSClient(t *testing.T, node, root string, p *proc, run tsClientRun, script string) []capturedResponse {
	capture := filepath.Join(t.TempDir(), strings.TrimSuffix(script, ".mjs")+"-responses.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("tools", "tsclient", script), p.base+run.base, capture)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AKCONN_API_KEY="+adminKey, "AKCONN_TSCLIENT_PACKAGE="+run.client)
	began := time.Now()
	out, err := cmd.CombinedOutput()
	switch {
	case ctx.Err() != nil:
		t.Errorf("tools/tsclient/%s did not finish within 2 minutes:\n%s\nserver log:\n%s", script, out, p.logs)
	case err != nil:
		t.Errorf("tools/tsclient/%s failed (%v):\n%s\nserver log:\n%s", script, err, out, p.logs)
	default:
		t.Logf("%s (%s): %s", script, time.Since(began).Round(time.Millisecond), strings.TrimSpace(string(out)))
	}
	raw, err := os.ReadFile(capture)
	if err != nil {
		t.Fatalf("%s wrote no capture: %v", script, err)
	}
	var responses []capturedResponse
	if err := json.Unmarshal(raw, &responses); err != nil {
		t.Fatalf("capture %s: %v", capture, err)
	}
	return responses
}

// checkResponses validates every response against the mount's contract
// and against the reference that holds its operation.
func checkResponses(t *testing.T, base string, own *contract, references []*contract, responses []capturedResponse) {
	for _, r := range responses {
		if strings.Contains(r.Body, adminKey) {
			t.Errorf("%s %s: the body holds the caller's API key", r.Operation, r.URL)
		}
		if !strings.Contains(r.URL, base+"/") {
			t.Errorf("%s %s: the client left its base URL %s", r.Operation, r.URL, base)
		}
		r.URL = strings.Replace(r.URL, base+"/", "/api/v3/", 1) // the contracts' server
		own.validate(t, r)
		if len(references) == 0 {
			continue
		}
		var reference *contract
		for _, c := range references {
			if c.hasOperation(r.Operation) {
				reference = c
			}
		}
		switch why := referenceAllowance(r); {
		case reference == nil:
			t.Errorf("no reference has the operation %s (%s %s)", r.Operation, r.Method, r.URL)
		case why != "":
			t.Logf("%s %s %d: not checked against %s: %s", r.Operation, r.Method, r.Status, reference.name, why)
		default:
			reference.validate(t, r)
		}
	}
}

// referenceAllowance says why a response deliberately differs from
// authentik's contract (docs/COMPATIBILITY.md), or "" when it must not.
// Such a response is still valid for the mount's own contract.
func referenceAllowance(r capturedResponse) string {
	switch r.Operation {
	case "eventsEventsUpdate", "eventsEventsPartialUpdate", "eventsEventsDestroy":
		// authentik lets holders of change_event/delete_event rewrite the
		// trail; here it is append-only, and the 405 is documented in the
		// mount's spec (COMPATIBILITY.md, Events: Append-only).
		if r.Status == http.StatusMethodNotAllowed {
			return "the audit trail is append-only here: 405 (docs/COMPATIBILITY.md, Events)"
		}
	}
	return ""
}

// contract is an OpenAPI document with a router over its paths.
type contract struct {
	name   string // the file's base name, for messages
	doc    *openapi3.T
	router routers.Router
}

func loadContract(t *testing.T, path string) *contract {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(path)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", path, err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route %s: %v", path, err)
	}
	return &contract{name: filepath.Base(path), doc: doc, router: router}
}

// tsValidation checks what authentik's contract states; like the contract
// suite, it validates uuid formats with a plain pattern.
var tsValidation = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewRegexpFormatValidator(
			`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)),
	},
}

// validate checks one captured response against the contract: its route
// is the operation the client called, and status, content type and body
// are valid for it.
func (c *contract) validate(t *testing.T, r capturedResponse) {
	t.Helper()
	name := c.name
	req, err := http.NewRequest(r.Method, r.URL, nil)
	if err != nil {
		t.Errorf("%s: %s %s: %v", name, r.Method, r.URL, err)
		return
	}
	route, params, err := c.router.FindRoute(req)
	if err != nil {
		t.Errorf("%s has no operation for %s %s (%s): %v", name, r.Method, r.URL, r.Operation, err)
		return
	}
	if got := camel(route.Operation.OperationID); got != r.Operation {
		t.Errorf("%s routes %s %s to %s, but the client called %s", name, r.Method, r.URL, route.Operation.OperationID, r.Operation)
	}
	header := http.Header{"Content-Type": {r.ContentType}}
	for k, v := range r.Headers {
		header.Set(k, v)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: tsValidation},
		Status:                 r.Status,
		Header:                 header,
		Options:                tsValidation,
	}
	in.SetBodyBytes([]byte(r.Body))
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s: the response to %s (%s %s, %d) breaks the contract: %v\nbody: %s", name, r.Operation, r.Method, r.URL, r.Status, err, r.Body)
	}
}

// camel turns an operationId (events_events_list) into the client's
// method name (eventsEventsList).
func camel(id string) string {
	parts := strings.Split(id, "_")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// operations lists the client method of every operation of the contract.
func (c *contract) operations() []string {
	var ops []string
	for _, path := range c.doc.Paths.InMatchingOrder() {
		for _, op := range c.doc.Paths.Value(path).Operations() {
			ops = append(ops, camel(op.OperationID))
		}
	}
	sort.Strings(ops)
	return ops
}

// hasOperation reports whether the contract has the client method op.
func (c *contract) hasOperation(op string) bool {
	return slices.Contains(c.operations(), op)
}
