package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"akconn/store"
	"akconn/testenv"
)

// A new SQLite database, its directory, and its -wal and -shm files are
// readable by their owner only, whatever the umask.
func TestDatabaseFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "akconn.db")
	st, err := store.Open(path, store.Options{Keyring: testenv.Keyring(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.CreateUser(context.Background(), store.NewUser("someone", false)); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, path: 0o600, path + "-wal": 0o600, path + "-shm": 0o600} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode() != want {
			t.Errorf("%s: mode %v, want %v", filepath.Base(name), info.Mode(), want)
		}
	}
}
