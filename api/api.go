// Package api holds the released contracts the server keeps serving beside
// openapi.yaml, embedded in the binary, and their release snapshots, which
// make check-compat compares them with.
package api

import _ "embed"

// Spec2024_8 is the 2024.8 contract as released (api/2024.8.yaml).
//
//go:embed 2024.8.yaml
var Spec2024_8 []byte
