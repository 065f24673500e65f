package seal

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// maxKeyFileSize bounds what LoadKeyFile reads, so that naming a device or
// a large file by mistake fails instead of filling memory.
const maxKeyFileSize = 1 << 20

// ErrInsecureKeyFile means a key file is open to users other than the one
// running the server (see LoadKeyFile for the rule).
var ErrInsecureKeyFile = errors.New("seal: key file is accessible to other users")

// LoadKeyFile reads a keyring from a key file (SECRET_KEY_FILE): one key
// per line, the first sealing; blank lines and lines starting with # are
// skipped; surrounding white space (and a Windows line end) is removed;
// each key must have at least MinKeyLength characters.
//
// On Unix the file is refused (ErrInsecureKeyFile) unless, much as
// PostgreSQL requires of its TLS key, it is owned by root and at most
// group-readable (0640 or less, as Kubernetes mounts a secret for a pod's
// fsGroup), or it is owned by the server's user and gives no access to
// group or others (0600 or less). A file others can write could have its
// sealing key replaced by theirs; one they can read gives away every key.
func LoadKeyFile(path string) (*Keyring, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	defer f.Close()
	info, err := f.Stat() // of the open file, so it is the one read
	if err != nil {
		return nil, fmt.Errorf("seal: key file: %w", err)
	}
	if info.IsDir() {
		return nil, fmt.Errorf("seal: key file %s is a directory", path)
	}
	if err := checkMode(path, info); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("seal: key file %s is larger than %d bytes", path, maxKeyFileSize)
	}
	return parseKeyFile(path, data)
}

// parseKeyFile makes a keyring of the keys in data, a key file's content.
func parseKeyFile(path string, data []byte) (*Keyring, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var (
		secrets []string
		lines   []int
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxKeyFileSize)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		secrets = append(secrets, line)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("seal: read key file %s: %w", path, err)
	}
	if len(secrets) == 0 {
		return nil, fmt.Errorf("seal: key file %s holds no key (every line is blank or a comment)", path)
	}
	return newKeyring(secrets, func(i int) string {
		return fmt.Sprintf("key file %s line %d", path, lines[i])
	})
}

// keyFileHeader opens every generated key file.
const keyFileHeader = `# akconn sealing keys. One key per line: the first seals new values, every
# key opens values sealed by it. Back this file up together with the
# database: without it the sealed values in the database cannot be read.
`

// GenerateKeyFile creates a key file at path holding one new random key
// (NewSecret). The file is created with mode 0600 and never overwrites an
// existing one (the error then satisfies errors.Is(err, fs.ErrExist));
// missing parent directories are created with mode 0700. The file and its
// directory are synced before it returns, so the key survives a crash
// once anything has been sealed with it.
func GenerateKeyFile(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("seal: create key file directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("seal: create key file: %w", err)
	}
	_, err = f.WriteString(keyFileHeader + NewSecret() + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("seal: write key file %s: %w", path, err)
	}
	return nil
}

// LoadOrCreate loads the key file at path, first creating it with
// GenerateKeyFile if it does not exist. created reports whether this call
// created it: the caller should then log where the file is and that it
// must be backed up with the database. If another process creates the
// file at the same moment, its key is loaded and created is false.
func LoadOrCreate(path string) (k *Keyring, created bool, err error) {
	k, err = LoadKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	switch err := GenerateKeyFile(path); {
	case err == nil:
		created = true
	case !errors.Is(err, fs.ErrExist):
		return nil, false, err
	}
	k, err = LoadKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return k, created, nil
}
