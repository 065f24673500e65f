package api_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"akconn/testenv"
)

// TestCheckUpstream runs make check-upstream's script on a spec made of
// authentik 2026.8.3's two published files merged, as openapi.yaml holds
// both: it passes, also with a plain $ref where authentik wraps one in
// allOf; it fails once a required response property is deleted
// from that spec, and when $AKCONN_AUTHENTIK_REFERENCE names a directory
// without the references.
func TestCheckUpstream(t *testing.T) {
	subset := testenv.ReferenceFile(t, "authentik-2026.8.3-subset.yaml")
	events := testenv.ReferenceFile(t, "authentik-2026.8.3-events.yaml")
	if subset == "" || events == "" {
		t.Skipf("!!! SKIPPED: authentik's 2026.8.3 references not found (set %s to their directory, or keep shared/reference/ beside the repository)",
			testenv.ReferenceEnv)
	}
	if filepath.Dir(subset) != filepath.Dir(events) {
		t.Skipf("!!! SKIPPED: %s and %s are in different directories", subset, events)
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("!!! SKIPPED: no bash")
	}
	doc := mergeSpecs(t, subset, events)
	dir := t.TempDir()

	merged := filepath.Join(dir, "merged.json")
	writeSpec(t, doc, merged)
	if out, err := checkUpstream(t, filepath.Dir(subset), merged); err != nil {
		t.Fatalf("the merged reference breaks itself: %v\n%s", err, out)
	}

	// authentik wraps the matching-mode enums of GET /sources/oauth/ in a
	// one-branch allOf; a plain $ref says the same.
	for _, p := range doc.Paths.Value("/sources/oauth/").Get.Parameters {
		if s := p.Value.Schema; strings.HasSuffix(p.Value.Name, "_matching_mode") && len(s.Value.AllOf) == 1 {
			p.Value.Schema = s.Value.AllOf[0]
		}
	}
	plain := filepath.Join(dir, "plain.json")
	writeSpec(t, doc, plain)
	if out, err := checkUpstream(t, filepath.Dir(subset), plain); err != nil {
		t.Fatalf("a plain $ref for an allOf of one: %v\n%s", err, out)
	}

	conn := doc.Components.Schemas["UserOAuthSourceConnection"].Value
	delete(conn.Properties, "identifier")
	conn.Required = without(conn.Required, "identifier")
	broken := filepath.Join(dir, "broken.json")
	writeSpec(t, doc, broken)
	out, err := checkUpstream(t, filepath.Dir(subset), broken)
	if err == nil || !strings.Contains(out, "response-required-property-removed") {
		t.Errorf("a deleted response property: err %v, want a failure naming response-required-property-removed:\n%s", err, out)
	}

	out, err = checkUpstream(t, t.TempDir(), merged)
	if err == nil || !strings.Contains(out, "which has no authentik-2026.8.3-subset.yaml") {
		t.Errorf("%s without the references: err %v, want a failure saying so:\n%s", testenv.ReferenceEnv, err, out)
	}
}

// checkUpstream runs scripts/check-upstream.sh on spec with the references
// in refDir and returns its combined output.
func checkUpstream(t *testing.T, refDir, spec string) (string, error) {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	cmd := exec.Command("bash", filepath.Join(filepath.Dir(file), "..", "scripts", "check-upstream.sh"), spec)
	cmd.Env = append(os.Environ(), testenv.ReferenceEnv+"="+refDir, "CI=")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mergeSpecs loads the published files and adds the second's paths and
// components to the first's.
func mergeSpecs(t *testing.T, first, second string) *openapi3.T {
	t.Helper()
	load := func(path string) *openapi3.T {
		doc, err := openapi3.NewLoader().LoadFromFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc, other := load(first), load(second)
	for path, item := range other.Paths.Map() {
		if doc.Paths.Value(path) != nil {
			t.Fatalf("%s is in both files", path)
		}
		doc.Paths.Set(path, item)
	}
	c, o := doc.Components, other.Components
	c.Schemas = merge(c.Schemas, o.Schemas)
	c.Parameters = merge(c.Parameters, o.Parameters)
	c.Responses = merge(c.Responses, o.Responses)
	c.SecuritySchemes = merge(c.SecuritySchemes, o.SecuritySchemes)
	return doc
}

// merge adds src's entries to dst, which it makes when nil.
func merge[M ~map[string]V, V any](dst, src M) M {
	if dst == nil {
		dst = M{}
	}
	for name, v := range src {
		dst[name] = v
	}
	return dst
}

// writeSpec writes doc as JSON to path.
func writeSpec(t *testing.T, doc *openapi3.T, path string) {
	t.Helper()
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// without returns names less name.
func without(names []string, name string) []string {
	var out []string
	for _, n := range names {
		if n != name {
			out = append(out, n)
		}
	}
	return out
}
