//go:build unix

package seal

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// checkMode applies LoadKeyFile's rule on owner and mode to an open key
// file.
func checkMode(path string, info fs.FileInfo) error {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	perm := info.Mode().Perm()
	euid := os.Geteuid()
	switch {
	case st.Uid == 0:
		if perm&0o037 != 0 {
			return fmt.Errorf("%w: %s is owned by root with mode %04o; it may be at most 0640 (group-readable): run chmod 640 %s", ErrInsecureKeyFile, path, perm, path)
		}
	case int(st.Uid) == euid:
		if perm&0o077 != 0 {
			return fmt.Errorf("%w: %s has mode %04o; run chmod 600 %s", ErrInsecureKeyFile, path, perm, path)
		}
	default:
		return fmt.Errorf("%w: %s is owned by uid %d; it must be owned by the server's user (uid %d) or root", ErrInsecureKeyFile, path, st.Uid, euid)
	}
	return nil
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
