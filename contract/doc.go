// Package contract holds the spec-driven contract suite: its tests walk
// every operation in openapi.yaml and check the real server against it.
package contract
