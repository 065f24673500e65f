package seal

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func writeKeyFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "akconn.db.key")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestNewSecretLength(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secrets []string
		wantErr error
	}{
		{"32 characters", []string{strings.Repeat("a", 32)}, nil},
		{"31 characters", []string{strings.Repeat("a", 31)}, ErrShortKey},
		{"32 characters after trimming", []string{"  " + strings.Repeat("a", 31) + "\n"}, ErrShortKey},
		{"32 multi-byte characters", []string{strings.Repeat("ü", 32)}, nil},
		{"empty", []string{""}, ErrShortKey},
		{"second key short", []string{secretA, "short"}, ErrShortKey},
		{"none", nil, errEmpty},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.secrets...)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("New: %v; want %v", err, tc.wantErr)
			}
			if tc.wantErr == ErrShortKey && !strings.Contains(err.Error(), "at least 32 characters") {
				t.Fatalf("error %q does not say how long a key must be", err)
			}
		})
	}
	if _, err := New(secretA, " "+secretA); err == nil || !strings.Contains(err.Error(), "repeated") {
		t.Fatalf("New with a repeated key: %v", err)
	}
	if a, b := mustKeyring(t, secretA), mustKeyring(t, " "+secretA+"\r\n"); a.SealingKeyID() != b.SealingKeyID() {
		t.Fatal("surrounding white space changed the key")
	}
}

func TestKeyIDDerivation(t *testing.T) {
	// Pinned: the id (and with it every stored value) must not change
	// between releases. hex(HMAC-SHA256(key, "akconn key id"))[:8].
	k := mustKeyring(t, secretA)
	if got, want := k.SealingKeyID(), "7b3a68d5"; got != want {
		t.Fatalf("key id = %s, want %s", got, want)
	}
	// A value sealed by an earlier build still opens (pins the data key
	// derivation and the format).
	const sealed = "v1:7b3a68d5:kOEDAOKhYIkcOJdA0uyz765xB491-fxTYR9wQbw7qznNlA"
	if got, err := k.Open(sealed, adConn); err != nil || got != "pinned" {
		t.Fatalf("Open(pinned value) = %q, %v", got, err)
	}
}

func TestParseKeyFile(t *testing.T) {
	for _, tc := range []struct {
		name    string
		content string
		wantIDs []string // secrets whose ids the keyring holds, in order
		wantErr string
	}{
		{"one key", secretA + "\n", []string{secretA}, ""},
		{"no final newline", secretA, []string{secretA}, ""},
		{"comments and blanks", "# sealing key\n\n" + secretB + "\n  # old key, retire after rotation\n\t\n" + secretA + "\n", []string{secretB, secretA}, ""},
		{"CRLF and BOM", "\uFEFF# keys\r\n" + secretA + "\r\n" + secretB + "  \r\n", []string{secretA, secretB}, ""},
		{"short line", secretA + "\n# note\nshort-key\n", nil, "line 3 has 9 characters"},
		{"empty", "", nil, "holds no key"},
		{"only comments", "# a\n\n# b\n", nil, "holds no key"},
		{"repeated key", secretA + "\n" + secretA + "\n", nil, "line 2 has the same key id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := LoadKeyFile(writeKeyFile(t, tc.content, 0o600))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("LoadKeyFile: %v; want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "short-key") {
					t.Fatalf("error %q holds the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := mustKeyring(t, tc.wantIDs...)
			if strings.Join(k.KeyIDs(), ",") != strings.Join(want.KeyIDs(), ",") {
				t.Fatalf("KeyIDs = %v, want %v", k.KeyIDs(), want.KeyIDs())
			}
		})
	}
}

func TestKeyFileMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix modes")
	}
	root := os.Geteuid() == 0
	for _, tc := range []struct {
		name string
		mode os.FileMode
		ok   bool
	}{
		{"0600", 0o600, true},
		{"0400", 0o400, true},
		{"0640", 0o640, root}, // allowed only for a root-owned file
		{"0644", 0o644, false},
		{"0660", 0o660, false},
		{"0604", 0o604, false},
		{"0666", 0o666, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKeyFile(writeKeyFile(t, secretA+"\n", tc.mode))
			if tc.ok != (err == nil) || !tc.ok && !errors.Is(err, ErrInsecureKeyFile) {
				t.Fatalf("LoadKeyFile of a %s file: %v; want ok = %v", tc.name, err, tc.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "chmod") {
				t.Fatalf("error %q does not say how to fix it", err)
			}
		})
	}
	if root {
		path := writeKeyFile(t, secretA+"\n", 0o600)
		if err := os.Chown(path, 4242, 4242); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadKeyFile(path); !errors.Is(err, ErrInsecureKeyFile) || !strings.Contains(err.Error(), "uid 4242") {
			t.Fatalf("LoadKeyFile of another user's file: %v", err)
		}
	}
}

func TestLoadKeyFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadKeyFile(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := LoadKeyFile(dir); err == nil || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	big := writeKeyFile(t, secretA+"\n"+strings.Repeat("#", maxKeyFileSize), 0o600)
	if _, err := LoadKeyFile(big); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("oversized file: %v", err)
	}
}

func TestGenerateKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path := filepath.Join(dir, "akconn.db.key")
	if err := GenerateKeyFile(path); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Fatalf("key file mode %04o, want 0600", perm)
		}
		if d, _ := os.Stat(dir); d.Mode().Perm() != 0o700 {
			t.Fatalf("created directory mode %04o, want 0700", d.Mode().Perm())
		}
	}
	before, _ := os.ReadFile(path)
	k, err := LoadKeyFile(path)
	if err != nil || len(k.KeyIDs()) != 1 {
		t.Fatalf("LoadKeyFile of a generated file: %v, %v", k, err)
	}
	if !strings.Contains(string(before), "Back this file up") {
		t.Fatal("generated file does not say to back it up")
	}
	// O_EXCL: never overwrite.
	if err := GenerateKeyFile(path); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second GenerateKeyFile: %v; want fs.ErrExist", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Fatal("second GenerateKeyFile changed the file")
	}
	// Two files never share a key.
	other := filepath.Join(dir, "other.key")
	if err := GenerateKeyFile(other); err != nil {
		t.Fatal(err)
	}
	if k2, _ := LoadKeyFile(other); k2.SealingKeyID() == k.SealingKeyID() {
		t.Fatal("two generated files hold the same key")
	}
}

func TestLoadOrCreate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "akconn.db.key")
	k1, created, err := LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created = %v, %v", created, err)
	}
	k2, created, err := LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created = %v, %v", created, err)
	}
	if k1.SealingKeyID() != k2.SealingKeyID() {
		t.Fatal("second LoadOrCreate loaded another key")
	}
	s := mustSeal(t, k1, "secret", adConn)
	if got, err := k2.Open(s, adConn); err != nil || got != "secret" {
		t.Fatalf("Open after reload = %q, %v", got, err)
	}
	// An existing but unusable file is reported, not replaced.
	bad := writeKeyFile(t, "short\n", 0o600)
	if _, created, err := LoadOrCreate(bad); err == nil || created {
		t.Fatalf("LoadOrCreate of a bad file: created = %v, %v", created, err)
	}
	if b, _ := os.ReadFile(bad); string(b) != "short\n" {
		t.Fatal("LoadOrCreate replaced a bad file")
	}
}
