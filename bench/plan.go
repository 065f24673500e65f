package main

import (
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"akconn/store"
)

// The plan: the variants the server (or a baseline) can be run as, the
// scenarios run against them, and the goals checked on the results.
//
// To measure a new server mode, add a variant (its extra flags or
// environment), name it in a scenario's Variants, and state a goal, e.g.
// "create with events ≥ 0.85× create without":
//
//	{Name: "no-events", Args: []string{"--events=false"}, Note: "events off"}
//	{Text: "create with events ≥ 0.85× without", Scenario: "create",
//		Variant: "default", Versus: "no-events", MinRatio: 0.85}
//
// A scenario with several variants seeds one database and starts one
// process per variant on it (Fresh scenarios, which write, get a fresh
// database per variant), then alternates between the variants for Rounds
// rounds; tables and goals use the medians over the rounds.

// variant is one way of running what is measured: the server with extra
// flags and environment, or one of the baselines (bench/baseline.go).
type variant struct {
	Name string
	// Args and Env are added to the server's command line and environment.
	Args, Env []string
	// Baseline, when set, runs that baseline process instead of the server.
	Baseline string
	// Backends limits the variant to these backends (nil: every backend).
	Backends []string
	Note     string
}

// variantTable lists every variant; servers before baselines.
var variantTable = []variant{
	{Name: "default", Note: "the server as the README starts it (`serve --addr … --database … --bootstrap-token …`): " +
		"request and response validation on, SQLite `synchronous=FULL`"},
	{Name: "resp-off", Args: []string{"--response-validation", "off"}, Note: "the server with `--response-validation off`"},
	{Name: "no-audit", Args: []string{"--audit=false"}, Note: "the server with `--audit=false`: writes record no event"},
	{Name: "raw SQL", Baseline: "baseline-sql", Backends: []string{"sqlite"}, Note: "a bare echo handler doing one " +
		"database/sql point select (connection joined with its source) on the same SQLite file, plus encoding/json"},
	{Name: "static", Baseline: "baseline-static", Backends: []string{"sqlite"}, Note: "a bare echo handler answering " +
		"the server's retrieve response from memory (the ceiling of the HTTP stack and the load generator)"},
}

// dataset is what a scenario's fresh database is seeded with
// (`akconn seed`; zero Users or Sources: seed's defaults).
type dataset struct {
	Connections, Users, Sources, Events int
	// Tokens gives every seeded user an API key (store.SeedTokenKey), for
	// creates made by many users.
	Tokens bool
}

// seedPrefix is the prefix akconn seed names what it loads with.
const seedPrefix = "seed"

func (d dataset) String() string {
	s := group(d.Connections) + " connections"
	if d.Users > 0 {
		s += ", " + group(d.Users) + " users"
	}
	if d.Events > 0 {
		s += ", " + group(d.Events) + " events"
	}
	switch {
	case d.Sources == 1:
		s += ", 1 source"
	case d.Sources > 1:
		s += fmt.Sprintf(", %d sources", d.Sources)
	}
	return s
}

// probe is one kind of request of a scenario; Build makes its request
// source once the process answering it is up.
type probe struct {
	Name  string
	Build func(p *process) (request, error)
	// Variants limits the probe to these variants of the scenario (nil:
	// every variant), for requests only the server answers.
	Variants []string
}

// scenario is a load run against one or more variants.
type scenario struct {
	Name, Title string
	Protocol    string
	Data        dataset
	Clients     int
	Duration    time.Duration
	Rounds      int
	// Fresh gives every variant a database of its own (scenarios that write).
	Fresh    bool
	Variants []string
	Probes   []probe
	// Profile takes a CPU profile of the first variant on SQLite, in an
	// extra run after the rounds.
	Profile bool
}

// goal is a statement checked on the results: on every backend of
// Backends (nil: every backend asked for) and every probe of the scenario
// (or Probe),
// the measurement of Variant must satisfy each limit that is set. With
// Versus, MinRatio limits the ratio of the medians of req/s of Variant and
// Versus, and MinRPS, when set too, Variant's own median. Info goals are reported but never NOT MET. Kind "rss" and
// "errors" are the goals over every measurement.
type goal struct {
	ID, Text string
	Kind     string
	Scenario string
	Variant  string
	Versus   string
	// VersusScenario compares with another scenario's measurement (of
	// Versus, or of Variant when Versus is empty).
	VersusScenario string
	// Probe limits the goal to one probe of the scenario; VersusProbe
	// compares with another probe (of the same variant unless Versus).
	Probe, VersusProbe string
	Backends           []string
	MaxP99             time.Duration
	MinRPS             float64
	MinRatio           float64
	NoErrors           bool
	MaxRSSMB           float64
	Info               bool
}

const retrieveRows = 10000

// auditRounds is how many rounds create-audit takes turns for.
const auditRounds = 5

// plan returns the scenarios and goals for cfg (quick mode lists fewer rows).
func plan(cfg *config) ([]scenario, []goal) {
	lists := dataset{Connections: cfg.listConnections}
	creates := dataset{Connections: 30000, Users: 60000, Sources: 1, Tokens: true}
	events := dataset{Connections: 10000, Events: cfg.listEvents}
	audited := dataset{Connections: 1, Users: 320000, Sources: 1, Tokens: true}
	sealed := dataset{Connections: 1, Users: 160000, Sources: 1, Tokens: true}
	scenarios := []scenario{{
		Name: "lists", Title: fmt.Sprintf("Lists at %s connections", group(lists.Connections)),
		Protocol: "Each URL in turn, as the superuser, default page size.",
		Data:     lists, Clients: 4, Duration: 5 * time.Second, Rounds: 1,
		Variants: []string{"default"},
		Probes: []probe{
			get("default order", "/api/v3/sources/user_connections/oauth/"),
			get("?source__slug=seed-src-3", "/api/v3/sources/user_connections/oauth/?source__slug=seed-src-3"),
			get("?search=ext-77777", "/api/v3/sources/user_connections/oauth/?search=ext-77777"),
			get("?ordering=-created", "/api/v3/sources/user_connections/oauth/?ordering=-created"),
			get("?user=4242", "/api/v3/sources/user_connections/oauth/?user=4242"),
			get("?page=2&ordering=identifier", "/api/v3/sources/user_connections/oauth/?page=2&ordering=identifier"),
		},
	}, {
		Name: "retrieve", Title: fmt.Sprintf("Retrieve at %s connections", group(retrieveRows)),
		Protocol: fmt.Sprintf("`GET /api/v3/sources/user_connections/oauth/{id}/` with a random id in 1..%d, as the superuser; "+
			"the variants take turns (server, response validation off, raw SQL, static, then the other way round), each process started once. "+
			"On the server as the README starts it, a second probe retrieves the same way through `%s`, the 2024.8 contract's mount "+
			"(its own validators and version changes); the two probes take turns on that one process.", retrieveRows, compat2024),
		Data: dataset{Connections: retrieveRows}, Clients: 32, Duration: 4 * time.Second, Rounds: 5,
		Variants: []string{"default", "resp-off", "raw SQL", "static"},
		Probes: []probe{{Name: "retrieve", Build: retrieve("/api/v3", retrieveRows)},
			{Name: compatRetrieve, Build: retrieve(compat2024, retrieveRows), Variants: []string{"default"}}},
		Profile: true,
	}, {
		Name: "create", Title: "Durable creates",
		Protocol: "A new source S is created through the API, then `POST /api/v3/sources/user_connections/oauth/` with " +
			"`{\"source\": S, \"identifier\": \"bench-n\"}` as seeded user n with her own API key (a connection's user is the caller, " +
			"read-only since authentik 2026.8; `akconn seed --tokens`), n = 1, 2, … (each seeded user once, the warm-up included, so " +
			"every request authenticates a token not yet seen: the token cache never helps; the run stops early when the users run " +
			"out). Default durability (SQLite `synchronous=FULL`).",
		Data: creates, Clients: 64, Duration: 5 * time.Second, Rounds: 1, Fresh: true,
		Variants: []string{"default"},
		Probes:   []probe{{Name: "create", Build: create("bench-creates", creates.Users, false)}},
	}, {
		Name: "events", Title: fmt.Sprintf("Event lists at %s events", group(events.Events)),
		Protocol: "Each URL in turn, as the superuser, default page size. The events are connections' created/updated/deleted " +
			"by 1,000 users in turn, evenly over the last 300 days (`akconn seed --events`).",
		Data: events, Clients: 4, Duration: 5 * time.Second, Rounds: 1,
		Variants: []string{"default"},
		Probes: []probe{
			get("default order (newest first)", "/api/v3/events/events/"),
			get("?action=model_updated", "/api/v3/events/events/?action=model_updated"),
			get("?username=seed-user-42", "/api/v3/events/events/?username=seed-user-42"),
			get("object history (app, name, pk)", "/api/v3/events/events/?context_model_app=authentik_sources_oauth&context_model_name=useroauthsourceconnection&context_model_pk=4242"),
			get("?client_ip=192.0.2.7", "/api/v3/events/events/?client_ip=192.0.2.7"),
			get("?ordering=created&page=2", "/api/v3/events/events/?ordering=created&page=2"),
			get("?context_model_name=…&page=3", "/api/v3/events/events/?context_model_name=useroauthsourceconnection&page=3"),
		},
	}, {
		Name: "create-audit", Title: "Durable creates with and without the audit trail",
		Protocol: fmt.Sprintf("As the durable creates (%s users, each linked once over the %d rounds); the variants (the server as "+
			"the README starts it, which writes an event in each create's transaction, and `--audit=false`) take turns, each on a "+
			"fresh database, the one that went second going first in the next round. %d rounds, not three: single rounds of "+
			"this protocol, driven by wrk on the same servers and data, gave ratios from 0.74× to 1.14× on this machine.",
			group(audited.Users), auditRounds, auditRounds),
		Data: audited, Clients: 64, Duration: 5 * time.Second, Rounds: auditRounds, Fresh: true,
		Variants: []string{"default", "no-audit"},
		Probes:   []probe{{Name: "create", Build: create("bench-creates", audited.Users, false)}},
	}, {
		Name: "create-secret", Title: "Durable creates with and without a secret",
		Protocol: "As the durable creates, on one database, in two probes that take turns (three rounds): each creates its own " +
			"source and links each seeded user to it once; the second probe's bodies also carry an `access_token`, which the " +
			"server seals (AES-256-GCM, bound to the new row) before storing it.",
		Data: sealed, Clients: 64, Duration: 5 * time.Second, Rounds: 3,
		Variants: []string{"default"},
		Probes: []probe{{Name: "create", Build: create("bench-plain", sealed.Users, false)},
			{Name: "create with access_token", Build: create("bench-sealed", sealed.Users, true)}},
	}}
	goals := []goal{
		{ID: "1", Text: fmt.Sprintf("Lists at %s connections: p99 ≤ 25 ms on each URL, both backends", group(lists.Connections)),
			Scenario: "lists", Variant: "default", MaxP99: 25 * time.Millisecond},
		{ID: "2", Text: "Validated retrieve (SQLite): server ≥ 0.8× the raw-SQL baseline (medians of req/s)",
			Scenario: "retrieve", Variant: "default", Probe: "retrieve", Versus: "raw SQL", Backends: []string{"sqlite"}, MinRatio: 0.8},
		{ID: "2i", Text: "Retrieve: req/s with both validators ÷ with `--response-validation off` (informational)",
			Scenario: "retrieve", Variant: "default", Probe: "retrieve", Versus: "resp-off", Info: true},
		{ID: "8", Text: "Retrieve through `/compat/2024.8/api/v3/` (SQLite): ≥ 0.9× retrieve through `/api/v3/`, on the same server " +
			"in the same run (medians of 5 alternating rounds)",
			Scenario: "retrieve", Variant: "default", Probe: compatRetrieve, VersusProbe: "retrieve", Backends: []string{"sqlite"}, MinRatio: 0.9},
		{ID: "3", Text: "Durable creates: ≥ 3,000 creates/s with zero errors, both backends",
			Scenario: "create", Variant: "default", MinRPS: 3000, NoErrors: true},
		{ID: "5", Text: "Sealing: creates carrying a secret ≥ 0.9× creates without one (medians of 3 alternating rounds), both backends",
			Scenario: "create-secret", Variant: "default", Probe: "create with access_token", VersusProbe: "create", MinRatio: 0.9},
		{ID: "6", Text: fmt.Sprintf("Event lists at %s events: p99 ≤ 25 ms on each URL, both backends", group(events.Events)),
			Scenario: "events", Variant: "default", MaxP99: 25 * time.Millisecond},
		{ID: "7", Text: fmt.Sprintf("Audit trail: creates writing their event (the server as the README starts it) ≥ 3,000/s, "+
			"and ≥ 0.75× creates without (`--audit=false`; medians of %d rounds), both backends", auditRounds),
			Scenario: "create-audit", Variant: "default", Versus: "no-audit", MinRPS: 3000, MinRatio: 0.75},
		{ID: "4", Text: "Peak RSS (VmHWM) ≤ 150 MB for every server process", Kind: "rss", MaxRSSMB: 150},
		{ID: "4e", Text: "Zero errors everywhere (non-2xx or transport errors, warm-ups included)", Kind: "errors"},
	}
	return withExtraVariants(cfg, scenarios, goals)
}

// parseVariant reads a -variant flag, NAME=ARGS: ARGS are the server's
// extra flags, separated by spaces; words like KEY=VALUE whose KEY is in
// capitals go to its environment instead.
func parseVariant(s string) (variant, error) {
	name, args, ok := strings.Cut(s, "=")
	if !ok || name == "" || strings.TrimSpace(args) == "" {
		return variant{}, fmt.Errorf("want NAME=ARGS, e.g. no-events='--events=false'")
	}
	if _, dup := lookupVariant(name); dup {
		return variant{}, fmt.Errorf("variant %q exists", name)
	}
	v := variant{Name: name, Note: "given with -variant: `" + strings.TrimSpace(args) + "`"}
	for _, word := range strings.Fields(args) {
		if envWord.MatchString(word) {
			v.Env = append(v.Env, word)
		} else {
			v.Args = append(v.Args, word)
		}
	}
	return v, nil
}

var envWord = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*=`)

// withExtraVariants adds the -variant variants to every scenario, after
// its server variants, each with an informational goal comparing the
// scenario's first variant with it.
func withExtraVariants(cfg *config, scenarios []scenario, goals []goal) ([]scenario, []goal) {
	for _, v := range cfg.variants {
		variantTable = slices.Insert(variantTable, slices.IndexFunc(variantTable, func(v variant) bool { return v.Baseline != "" }), v)
	}
	for i := range scenarios {
		sc := &scenarios[i]
		at := slices.IndexFunc(sc.Variants, func(name string) bool { v, _ := lookupVariant(name); return v.Baseline != "" })
		if at < 0 {
			at = len(sc.Variants)
		}
		for j, v := range cfg.variants {
			sc.Variants = slices.Insert(sc.Variants, at+j, v.Name)
			goals = append(goals, goal{ID: fmt.Sprintf("v%d.%s", j+1, sc.Name), Info: true,
				Text:     fmt.Sprintf("%s: req/s of `%s` ÷ `%s` (informational)", sc.Title, sc.Variants[0], v.Name),
				Scenario: sc.Name, Variant: sc.Variants[0], Versus: v.Name})
		}
	}
	return scenarios, goals
}

func get(name, path string) probe {
	return probe{Name: name, Build: func(*process) (request, error) {
		return func(int64) (string, string, []byte, string) { return "GET", path, nil, "" }, nil
	}}
}

// compat2024 is the mount of the 2024.8 contract, and compatRetrieve the
// retrieve scenario's probe through it.
const (
	compat2024     = "/compat/2024.8/api/v3"
	compatRetrieve = "retrieve via /compat/2024.8"
)

// retrieve gets connections with random ids in 1..rows through the mount
// at base.
func retrieve(base string, rows int) func(*process) (request, error) {
	return func(*process) (request, error) {
		return func(int64) (string, string, []byte, string) {
			return "GET", fmt.Sprintf("%s/sources/user_connections/oauth/%d/", base, 1+rand.IntN(rows)), nil, ""
		}, nil
	}
}

// create makes a fresh source, then links the seeded users to it, one
// each, across every round run against the process: each user creates her
// own connection with her own API key (a connection's user is the caller;
// the dataset is seeded with Tokens).
func create(slug string, users int, secret bool) func(*process) (request, error) {
	return func(p *process) (request, error) {
		src, err := p.post("/sources/oauth/", map[string]any{"name": slug, "slug": slug,
			"provider_type": "github", "consumer_key": "k", "consumer_secret": "s"})
		if err != nil {
			return nil, err
		}
		source := src["pk"]
		var next atomic.Int64
		return func(int64) (string, string, []byte, string) {
			i := next.Add(1)
			if i > int64(users) {
				return "", "", nil, ""
			}
			body := map[string]any{"source": source, "identifier": fmt.Sprintf("bench-%d", i)}
			if secret {
				body["access_token"] = fmt.Sprintf("gho_bench%040d", i)
			}
			return "POST", "/api/v3/sources/user_connections/oauth/", mustJSON(body), store.SeedTokenKey(seedPrefix, int(i-1))
		}, nil
	}
}

func lookupVariant(name string) (variant, bool) {
	i := slices.IndexFunc(variantTable, func(v variant) bool { return v.Name == name })
	if i < 0 {
		return variant{}, false
	}
	return variantTable[i], true
}

// probesFor returns the probes of sc that run on the variant named.
func (sc scenario) probesFor(variant string) []probe {
	var out []probe
	for _, pr := range sc.Probes {
		if pr.Variants == nil || slices.Contains(pr.Variants, variant) {
			out = append(out, pr)
		}
	}
	return out
}

// variantsFor returns the variants of sc that apply to backend.
func (sc scenario) variantsFor(backend string) []variant {
	var out []variant
	for _, name := range sc.Variants {
		if v, ok := lookupVariant(name); ok && (v.Backends == nil || slices.Contains(v.Backends, backend)) {
			out = append(out, v)
		}
	}
	return out
}

// group writes n with thousands separators.
func group(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
