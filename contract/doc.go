// Package contract holds the spec-driven contract suite: its tests walk
// every operation of every mount the server serves a contract at and
// check the real server against that mount's own spec.
//
// The mounts come from the server's registry (server.Mounts of
// openapi.yaml and server.Registry): /api/v3/ with the contract it speaks
// in the suite's servers (apiVersion, testenv's default: 2024.8, as
// `--api-version 2024.8` runs), and /compat/<version>/api/v3/ for every
// served version (the current contract at /compat/2026.8/api/v3/), each
// with the spec it serves at its schema/ (TestEveryContractHasAMount). A
// contract added to the registry is covered with no change here.
//
// Objects made on one mount are also read on the others: each shows what
// its contract can express and has the rest absent (server.Shown).
//
// Server issues the suite found are in known_issues_test.go: their checks
// run, log "known server issue", and fail once the server is fixed. Every test runs once per mount, as a
// subtest named after it ("api", "compat-2024.8"), creating its fixtures
// through that mount. Every mount gets the whole suite with the same rapid
// iterations: a mount adds about the suite's own time, well within CI's
// budget, and a reduced pass would check an older contract's constraints
// on fewer drawn values than the current one's.
//
// The coverage guard has two halves: TestEveryOperationHasAScenario wants
// a scenario for every operation of every mount, and TestMain, after a
// whole run (no -run, -skip or -list), wants every status each mount's
// spec documents for each of its operations to have answered at least one
// request on that mount, but those tested elsewhere (unprobed) and those
// the operation cannot answer (unanswerable).
package contract
