package testenv

import (
	"os"
	"path/filepath"
	"testing"
)

// ReferenceEnv names a directory holding authentik's published contracts
// (the project's shared/reference/, kept outside the repository, never
// copied in).
const ReferenceEnv = "AKCONN_AUTHENTIK_REFERENCE"

// ReferenceFile finds authentik's published contract name: in
// $AKCONN_AUTHENTIK_REFERENCE, which must then hold it, else in
// shared/reference beside the repository (CI clones the repository next to
// a copy of shared/), else in /work/shared/reference. It returns "" when
// the file is in none of them.
func ReferenceFile(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv(ReferenceEnv); dir != "" {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s=%s, but: %v", ReferenceEnv, dir, err)
		}
		return path
	}
	root := filepath.Dir(SpecPath())
	for _, dir := range []string{filepath.Join(root, "..", "shared", "reference"), "/work/shared/reference"} {
		if path := filepath.Join(dir, name); fileExists(path) {
			return path
		}
	}
	return ""
}

// fileExists reports whether path can be stat'ed.
func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
