//go:build !unix

package seal

import "io/fs"

// checkMode does nothing where there are no Unix permissions (Windows: the
// file's ACL is the administrator's business).
func checkMode(string, fs.FileInfo) error { return nil }

// syncDir does nothing where directories cannot be synced.
func syncDir(string) error { return nil }
