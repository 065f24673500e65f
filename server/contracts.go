package server

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"akconn/api"
)

// CurrentVersion is the version of the current contract, openapi.yaml:
// the one gen/ is generated from and the handlers implement.
const CurrentVersion = "2026.8"

// Contract is one API contract the server serves: a version, its spec, and
// the changes that carry its requests to the current contract and the
// current contract's responses back to it (docs/COMPATIBILITY.md).
type Contract struct {
	// Version names the contract by the authentik release series whose API
	// it follows, "YEAR.MONTH" as authentik numbers its releases, without
	// the patch number: "2024.8". It is the mount's path segment
	// (/compat/2024.8/api/v3/), the value of --api-version and a metrics
	// label, and must be the series of the spec's info.version.
	Version string
	// Spec is the contract's OpenAPI document, as served at its schema/.
	Spec []byte
	// Changes lead from this contract to the current one, oldest first:
	// requests go through them in order, responses in reverse. None for a
	// contract whose shapes are the current contract's.
	Changes []VersionChange
	// Operations serve, by operationId, the operations of this contract
	// that the current one no longer has: the generated handlers have none
	// for them. Each runs behind the mount's validators, authentication and
	// audit, as the generated ones do.
	Operations map[string]OperationHandler
	// Shows limits the stored objects the contract's mounts show to those
	// it can express (nil: all).
	Shows *Shown
}

// OperationHandler serves an operation only an older contract has.
type OperationHandler func(s *Server, c echo.Context) error

// Registry is every released contract the server serves beside the
// current one. Adding a contract is adding an entry (its spec under api/
// and its changes). A released contract of the current version is served
// at /compat/<version>/api/v3/ in place of openapi.yaml, which may carry
// additions that version's release never had.
var Registry = []Contract{
	{Version: "2024.8", Spec: api.Spec2024_8, Changes: []VersionChange{change2024to2026},
		Operations: map[string]OperationHandler{"events_events_per_month_list": perMonth2024}, Shows: &shown2024},
}

// legacyETagVersion is the contract whose entity tags carry no version:
// the tags this server sent before it served several contracts, so that a
// client holding one keeps its conditional requests across the upgrade.
const legacyETagVersion = "2024.8"

// mount is one contract served under one base path.
type mount struct {
	base    string // BaseURL, or /compat/<version>/api/v3
	version string
	doc     *openapi3.T
	schema  []byte // served at base+"/schema/", its servers naming base
	changes []VersionChange
	// operations serve the contract's operations the current one lacks.
	operations map[string]OperationHandler
	shown      *Shown
}

// etagSalt is what the mount's entity tags carry to name its
// representation (none for legacyETagVersion).
func (m *mount) etagSalt() string {
	if m.version == legacyETagVersion {
		return ""
	}
	return m.version
}

// CompatBase is where the contract of version is always served.
func CompatBase(version string) string { return "/compat/" + version + BaseURL }

// Versions lists the contract versions served with released, the current
// one first.
func Versions(released []Contract) []string {
	out := []string{CurrentVersion}
	for _, c := range released {
		if !slices.Contains(out, c.Version) {
			out = append(out, c.Version)
		}
	}
	return out
}

// planMounts loads and checks every contract and returns the mounts (the
// one at BaseURL speaking apiVersion, then one per version at CompatBase)
// and the operations of the current contract, openapi.yaml.
func planMounts(current []byte, released []Contract, apiVersion string) ([]*mount, map[string]bool, error) {
	if apiVersion == "" {
		apiVersion = CurrentVersion
	}
	cur, err := loadContract(Contract{Version: CurrentVersion, Spec: current})
	if err != nil {
		return nil, nil, err
	}
	byVersion := map[string]*mount{CurrentVersion: cur}
	for _, c := range released {
		m, err := loadContract(c)
		if err != nil {
			return nil, nil, err
		}
		if err := sameOperations(m.doc, cur.doc, c.Operations); err != nil {
			return nil, nil, fmt.Errorf("contract %s: %w", c.Version, err)
		}
		byVersion[c.Version] = m
	}
	versions := Versions(released)
	speak, ok := byVersion[apiVersion]
	if !ok {
		return nil, nil, fmt.Errorf("unknown API version %q: this server speaks %s", apiVersion, strings.Join(versions, ", "))
	}
	if apiVersion == CurrentVersion {
		speak = cur // /api/v3/ speaks openapi.yaml itself, additions included
	}
	out := []*mount{{base: BaseURL, version: speak.version, doc: speak.doc, schema: speak.schema, changes: speak.changes,
		operations: speak.operations, shown: speak.shown}}
	for _, v := range versions {
		m := byVersion[v]
		schema, err := withServer(m.schema, CompatBase(v))
		if err != nil {
			return nil, nil, fmt.Errorf("contract %s: %w", v, err)
		}
		out = append(out, &mount{base: CompatBase(v), version: v, doc: m.doc, schema: schema, changes: m.changes,
			operations: m.operations, shown: m.shown})
	}
	return out, operationIDs(cur.doc), nil
}

// Mount is a base path New serves a contract at: the contract's version
// and its spec as served at Base+"/schema/".
type Mount struct {
	Base, Version string
	Schema        []byte
}

// Mounts lists where New serves which contract, given the current
// contract's spec, the released contracts and the version BaseURL speaks:
// BaseURL first, then every version at CompatBase. Tests that must cover
// every mount (the contract suite) read them here, so that a contract
// added to Registry is covered without a change to them.
func Mounts(current []byte, released []Contract, apiVersion string) ([]Mount, error) {
	mounts, _, err := planMounts(current, released, apiVersion)
	if err != nil {
		return nil, err
	}
	out := make([]Mount, len(mounts))
	for i, m := range mounts {
		out[i] = Mount{Base: m.base, Version: m.version, Schema: m.schema}
	}
	return out, nil
}

// loadContract loads and validates c's spec and checks its version.
func loadContract(c Contract) (*mount, error) {
	doc, err := openapi3.NewLoader().LoadFromData(c.Spec)
	if err != nil {
		return nil, fmt.Errorf("load spec of contract %s: %w", c.Version, err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid spec of contract %s: %w", c.Version, err)
	}
	if doc.Info == nil || series(doc.Info.Version) != c.Version {
		return nil, fmt.Errorf("contract %s: its spec's info.version is not of that series", c.Version)
	}
	return &mount{base: BaseURL, version: c.Version, doc: doc, schema: c.Spec, changes: c.Changes, operations: c.Operations,
		shown: c.Shows}, nil
}

// series is the release series of an info.version: "2024.8" of
// "2024.8.3-slice.1".
func series(version string) string {
	parts := strings.SplitN(version, ".", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// sameOperations refuses a contract with an operation that neither the
// current contract nor the contract's own Operations serve, and an own
// handler for an operation the contract lacks or the current one serves.
func sameOperations(doc, current *openapi3.T, own map[string]OperationHandler) error {
	have, mine := operationIDs(current), operationIDs(doc)
	for id := range mine {
		if !have[id] && own[id] == nil {
			return fmt.Errorf("operation %s is not in the current contract, and the contract brings no handler for it", id)
		}
	}
	for id := range own {
		if !mine[id] || have[id] {
			return fmt.Errorf("handler for operation %s: only an operation of the contract that the current one lacks takes one", id)
		}
	}
	return nil
}

func operationIDs(doc *openapi3.T) map[string]bool {
	out := map[string]bool{}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			out[op.OperationID] = true
		}
	}
	return out
}

// specServers are the servers entry of every contract, naming BaseURL,
// as a YAML spec and as a JSON one writes it.
var specServers = [][2]string{
	{"\nservers:\n- url: " + BaseURL + "/\n", "\nservers:\n- url: %s/\n"},
	{`"servers":[{"url":"` + BaseURL + `/"}]`, `"servers":[{"url":"%s/"}]`},
}

// withServer returns spec with its server naming base, so that the API
// browser and the clients generated from a mount's schema call that mount.
func withServer(spec []byte, base string) ([]byte, error) {
	for _, s := range specServers {
		if bytes.Count(spec, []byte(s[0])) == 1 {
			return bytes.Replace(spec, []byte(s[0]), fmt.Appendf(nil, s[1], base), 1), nil
		}
	}
	return nil, fmt.Errorf("its spec does not name its one server as %s/", BaseURL)
}
