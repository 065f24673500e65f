package e2e_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestSQLiteDiskFull fills the disk of the SQLite database under 16
// writing clients for three seconds, then frees it. The disk is a small
// tmpfs of the test's own.
func TestSQLiteDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the disk-full test mounts a tmpfs, which takes root")
	}
	disk := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", disk).CombinedOutput(); err != nil {
		t.Skipf("mount a tmpfs: %v %s", err, out)
	}
	// Registered before the server starts, so that it runs after the
	// server is killed.
	t.Cleanup(func() {
		if out, err := exec.Command("umount", disk).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", disk, err, out)
		}
	})
	database := filepath.Join(disk, "akconn.db")
	p := start(t, database)
	load := startOutageLoad(t, p)
	time.Sleep(time.Second)
	load.outageBegins()
	filler := fill(t, filepath.Join(disk, "filler"))
	// Long enough for the write-ahead log to use up the room a checkpoint
	// left in it, and for refusals to begin.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		refused, statuses := load.refusals()
		if refused > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the disk is full and no write was refused; answers: %s", statuses)
		}
	}
	time.Sleep(3 * time.Second)
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	load.outageEnded(database)
}

// fill writes path until its disk is full.
func fill(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			if len(chunk) == 1 {
				return path
			}
			chunk = chunk[:len(chunk)/2]
		}
	}
}
