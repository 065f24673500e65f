package contract_test

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"akconn/server"
)

func TestMain(m *testing.M) {
	flag.Parse()
	// Keep the property-based runs short in `make test`; raise with -rapid.checks.
	if f := flag.Lookup("rapid.checks"); f != nil && f.Value.String() == "100" {
		_ = f.Value.Set("25")
	}
	code := m.Run()
	if code == 0 && wholeRun() {
		if missing, err := uncovered(); err != nil || len(missing) > 0 {
			fmt.Fprintln(os.Stderr, "FAIL: coverage guard: documented statuses no request of the suite was answered with:")
			for _, s := range missing {
				fmt.Fprintln(os.Stderr, "\t"+s)
			}
			if err != nil {
				fmt.Fprintln(os.Stderr, "\t", err)
			}
			code = 1
		}
	}
	os.Exit(code)
}

// wholeRun reports whether every test of the suite ran (no -run, -skip
// or -list), the only run whose coverage the guard can judge.
func wholeRun() bool {
	for _, name := range []string{"test.run", "test.skip", "test.list"} {
		if f := flag.Lookup(name); f != nil && f.Value.String() != "" {
			return false
		}
	}
	return true
}

// TestEveryOperationHasAScenario is the first half of the coverage guard:
// every operation of every mount has a scenario, and every scenario names
// an operation of some mount. The second half, in TestMain, wants every
// documented status of every operation of every mount answered.
func TestEveryOperationHasAScenario(t *testing.T) {
	named := map[string]bool{}
	forEachMount(t, func(t *testing.T, m *mount) {
		for _, id := range sortedIDs(m.ops) {
			named[id] = true
			if _, ok := scenarios[id]; !ok {
				t.Errorf("operation %s has no contract scenario: add one to contract/scenarios_test.go", describe(m.ops[id]))
			}
		}
	})
	for id := range scenarios {
		if !named[id] {
			t.Errorf("scenario %s names no operation of any mount", id)
		}
	}
}

// unprobed are the documented statuses the suite does not ask for through
// call, each with where it is tested instead.
var unprobed = map[int]string{
	http.StatusRequestTimeout:      "a body that does not arrive in time: server/body_test.go",
	http.StatusInternalServerError: "a response that would break the contract: TestBrokenResponsesNeverLeave (call fails on any 5xx)",
	http.StatusServiceUnavailable:  "the database away: e2e/outage_test.go, server/server_test.go",
}

// uncovered lists, for every mount, each documented status of each of its
// operations (unprobed aside) that no request of the run was answered with.
func uncovered() ([]string, error) {
	if err := loadMounts(); err != nil {
		return nil, err
	}
	coverage.Lock()
	defer coverage.Unlock()
	var out []string
	for _, m := range mounts {
		for _, id := range sortedIDs(m.ops) {
			op := m.ops[id]
			var codes []int
			for code := range op.route.Operation.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					return nil, fmt.Errorf("%s: response %q is not a status", describe(op), code)
				}
				if _, elsewhere := unprobed[n]; !elsewhere && unanswerable(op, n) == "" && coverage.seen[m.name][id][n] == 0 {
					codes = append(codes, n)
				}
			}
			sort.Ints(codes)
			if len(codes) > 0 {
				out = append(out, fmt.Sprintf("%s: %v", describe(op), codes))
			}
		}
	}
	return out, nil
}

// unanswerable says why op never answers status although its spec
// documents it (authentik documents 400, 403 and 404 on every operation),
// or "" when it can: no request is invalid for an operation with no body
// and no constrained parameter, nothing is missing for one with no path
// parameter and no page, and the append-only events refuse every update
// and delete with 405 (or 403 without credentials) whatever the request.
func unanswerable(op *operation, status int) string {
	params := append(op.route.PathItem.Parameters, op.route.Operation.Parameters...)
	switch {
	case refused(scenarios[op.ID]) && status != http.StatusMethodNotAllowed && status != http.StatusForbidden:
		return "refused whatever the request"
	case status == http.StatusBadRequest && op.requestSchema() == nil && !slices.ContainsFunc(params, func(p *openapi3.ParameterRef) bool {
		return len(badParameterValues(p.Value.Schema.Value)) > 0 || len(badParameterValuesByRule[p.Value.Name]) > 0 ||
			p.Value.In == "query" && p.Value.Required
	}):
		return "nothing a client sends can be invalid"
	case status == http.StatusNotFound && !slices.ContainsFunc(params, func(p *openapi3.ParameterRef) bool {
		return p.Value.In == "path" || p.Value.In == "query" && p.Value.Name == "page"
	}):
		return "nothing named can be missing"
	}
	return ""
}

// TestEveryContractHasAMount guards the first half's premise: the current
// contract and every released one are each served on at least one mount
// the suite walks, and each mount serves at its schema/ the very spec the
// suite checks it against (a suite planning its mounts for another
// --api-version than its servers speak would check /api/v3/ against the
// wrong contract).
func TestEveryContractHasAMount(t *testing.T) {
	env := newEnv(t)
	covered := map[string]bool{}
	for _, m := range allMounts(t) {
		covered[m.version] = true
		resp := env.Serve(m.request(t, http.MethodGet, "/schema/", "", nil))
		if resp.Status != http.StatusOK || !bytes.Equal(resp.Body, m.schema) {
			t.Errorf("%s (%s): its schema/ is not the %s spec the suite checks it against: %d, %d bytes", m.name, m.base, m.version, resp.Status, len(resp.Body))
		}
	}
	for _, v := range server.Versions(server.Registry) {
		if !covered[v] {
			t.Errorf("contract %s is served on no mount of the suite", v)
		}
	}
}
