package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"akconn/testenv"
)

// referenceFile is authentik's published contract for /events/events/,
// kept outside the repository (shared/reference/ beside it), never copied in.
const referenceFile = "authentik-2024.8.3-events.yaml"

// capturedResponse is one raw response of the events API, as
// tools/tsclient/events.mjs writes it.
type capturedResponse struct {
	Operation   string `json:"operation"` // the client method, e.g. eventsEventsList
	Method      string `json:"method"`
	URL         string `json:"url"`
	Status      int    `json:"status"`
	ContentType string `json:"contentType"`
	Body        string `json:"body"`
}

// authentik's own TypeScript client (@goauthentik/api 2024.8.3, pinned in
// tools/tsclient) drives the events API of a real server process on the
// test backend: the events of a connection's create, update and delete
// and of a token's view_key are listed, filtered and retrieved as the
// script expects, and every raw events response it received is valid for
// authentik's published contract and for the contract of the mount it
// called: /api/v3/ (openapi.yaml) and /compat/2024.8/api/v3/
// (api/2024.8.yaml).
func TestAuthentikTypeScriptClient(t *testing.T) {
	root := filepath.Dir(testenv.SpecPath())
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH: the test of authentik's TypeScript client needs Node.js 18 or later")
	}
	if _, err := os.Stat(filepath.Join(root, "tools", "tsclient", "node_modules", "@goauthentik", "api", "package.json")); err != nil {
		t.Skip("tools/tsclient/node_modules/@goauthentik/api is missing: run `npm ci --prefix tools/tsclient` (make test does)")
	}
	var reference *contract
	if path := testenv.ReferenceFile(t, referenceFile); path != "" {
		reference = loadContract(t, path)
	} else {
		t.Logf("!!! REFERENCE CHECK SKIPPED: %s not found (set %s to its directory, or keep shared/reference/ beside the repository); "+
			"the events responses are validated against the mount's own contract only", referenceFile, testenv.ReferenceEnv)
	}
	p := start(t, testenv.DatabaseURL(t, testenv.Backend()))
	// The same script, unchanged, through /api/v3/ and through the 2024.8
	// contract's own mount, each validated against that mount's spec.
	for _, mount := range []struct{ base, spec string }{
		{"/api/v3", testenv.SpecPath()},
		{"/compat/2024.8/api/v3", filepath.Join(root, "api", "2024.8.yaml")},
	} {
		t.Run(strings.TrimPrefix(mount.base, "/"), func(t *testing.T) {
			runTSClient(t, node, root, p, mount.base, loadContract(t, mount.spec), reference)
		})
	}
}

// runTSClient runs tools/tsclient/events.mjs against base on p and checks
// every response it captured against own (the mount's contract) and
// reference (authentik's, when present).
func runTSClient(t *testing.T, node, root string, p *proc, base string, own, reference *contract) {
	capture := filepath.Join(t.TempDir(), "events-responses.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("tools", "tsclient", "events.mjs"), p.base+base, capture)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "AKCONN_API_KEY="+adminKey)
	out, err := cmd.CombinedOutput()
	scriptOK := err == nil
	switch {
	case ctx.Err() != nil:
		t.Errorf("tools/tsclient/events.mjs did not finish within 2 minutes:\n%s\nserver log:\n%s", out, p.logs)
	case err != nil:
		t.Errorf("tools/tsclient/events.mjs failed (%v):\n%s\nserver log:\n%s", err, out, p.logs)
	default:
		t.Logf("events.mjs: %s", strings.TrimSpace(string(out)))
	}

	raw, err := os.ReadFile(capture)
	if err != nil {
		t.Fatalf("the script wrote no capture: %v", err)
	}
	var responses []capturedResponse
	if err := json.Unmarshal(raw, &responses); err != nil {
		t.Fatalf("capture %s: %v", capture, err)
	}
	seen := map[string]int{}
	for _, r := range responses {
		seen[r.Operation]++
		if strings.Contains(r.Body, adminKey) {
			t.Errorf("%s %s: the body holds the caller's API key", r.Operation, r.URL)
		}
		if !strings.Contains(r.URL, base+"/") {
			t.Errorf("%s %s: the client left its base URL %s", r.Operation, r.URL, base)
		}
		r.URL = strings.Replace(r.URL, base+"/", "/api/v3/", 1) // the contracts' server
		own.validate(t, "the mount's contract", r)
		if reference != nil {
			reference.validate(t, referenceFile, r)
		}
	}
	if scriptOK {
		for _, op := range []string{"eventsEventsList", "eventsEventsRetrieve", "eventsEventsActionsList",
			"eventsEventsVolumeList", "eventsEventsPerMonthList", "eventsEventsTopPerUserList"} {
			if seen[op] == 0 {
				t.Errorf("no response of %s was captured", op)
			}
		}
	}
	t.Logf("%s %s: validated %d events responses against the mount's contract%s", testenv.Backend(), base, len(responses),
		map[bool]string{true: " and " + referenceFile, false: " only (reference check SKIPPED)"}[reference != nil])
}

// contract is an OpenAPI document with a router over its paths.
type contract struct {
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
	return &contract{doc: doc, router: router}
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
func (c *contract) validate(t *testing.T, name string, r capturedResponse) {
	t.Helper()
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
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: tsValidation},
		Status:                 r.Status,
		Header:                 http.Header{"Content-Type": {r.ContentType}},
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
