package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"akconn/testenv"
)

var (
	buildMu  sync.Mutex
	binaries = map[string]string{} // build tags → binary
)

// serverBinary builds the server once per test run, as the README's
// `make build` does (with SQLite's FTS5).
func serverBinary(t *testing.T) string {
	t.Helper()
	return binaryWithTags(t, "sqlite_fts5")
}

// binaryWithTags builds the server with the given build tags ("" for
// none, as a plain `go build .`) once per test run.
func binaryWithTags(t *testing.T, tags string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if bin, ok := binaries[tags]; ok {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..")
	dir, err := os.MkdirTemp("", "akconn-e2e-") // outlives the test: later tests reuse the binary
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "akconn")
	cmd := exec.Command("go", "build", "-tags="+tags, "-o", bin, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags=%q: %v\n%s", tags, err, out)
	}
	binaries[tags] = bin
	return bin
}

const adminKey = "e2e-admin-key-0123456789"

// proc is one running server process.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	base   string
	logs   *testenv.SyncBuffer
	exited chan struct{} // closed when the process has exited
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// start runs the server on database and waits until it is ready; args
// are more arguments of serve (e.g. "--api-version", "2024.8").
func start(t *testing.T, database string, args ...string) *proc {
	t.Helper()
	p, err := launch(t, database, args...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// launch is start for use off the test goroutine: it reports instead of
// failing the test.
func launch(t *testing.T, database string, args ...string) (*proc, error) {
	return launchBinary(t, serverBinary(t), database, args...)
}

// launchBinary is launch with a binary of choice.
func launchBinary(t *testing.T, binary, database string, args ...string) (*proc, error) {
	return launchWith(t, binary, database, serverEnv("SECRET_KEY="+testenv.SecretKey), args...)
}

// serverEnv is the test's environment for a server or a command, less
// any SECRET_KEY or SECRET_KEY_FILE, plus extra.
func serverEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SECRET_KEY=") && !strings.HasPrefix(kv, "SECRET_KEY_FILE=") {
			env = append(env, kv)
		}
	}
	return append(append(env, "BOOTSTRAP_TOKEN="+adminKey), extra...)
}

// launchWith starts binary serving database with the environment env (and
// args, more arguments of serve) and waits until it is ready; it fails
// when the process exits first.
func launchWith(t *testing.T, binary, database string, env []string, args ...string) (*proc, error) {
	addr := freeAddr(t)
	logs := &testenv.SyncBuffer{}
	cmd := exec.Command(binary, append([]string{"serve", "--addr", addr, "--database", database}, args...)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &proc{t: t, cmd: cmd, base: "http://" + addr, logs: logs}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	p.exited = exited
	t.Cleanup(p.kill)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return nil, fmt.Errorf("server on %s exited (%v) before it was ready:\n%s", database, cmd.ProcessState, logs)
		default:
		}
		if resp, err := http.Get(p.base + "/-/health/ready/"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return p, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.kill()
	return nil, fmt.Errorf("server on %s not ready:\n%s", database, logs)
}

// kill ends the process with SIGKILL: no shutdown, no flushing.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.exited
}

// stop ends the process cleanly (SIGTERM) and waits for it.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.t.Errorf("server did not stop on SIGTERM")
		p.kill()
	}
}

var client = &http.Client{Timeout: 10 * time.Second}

// do sends a request as the bootstrap admin; it returns the status (0 when
// the request failed) and the decoded body.
func (p *proc) do(method, path string, body any) (int, map[string]any) {
	return p.doAs(adminKey, method, path, body)
}

// doAs is do with the API key key.
func (p *proc) doAs(key, method, path string, body any) (int, map[string]any) {
	status, raw, err := p.send(key, method, path, body)
	if err != nil {
		return 0, nil
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return status, out
}

// send sends a request with the API key key and a JSON body (nil: none)
// to path under /api/v3; it returns the status and the body as it came.
func (p *proc) send(key, method, path string, body any) (int, []byte, error) {
	return p.sendTo("/api/v3", key, method, path, body)
}

// sendTo is send to path under mount (/api/v3 or a /compat/… mount).
func (p *proc) sendTo(mount, key, method, path string, body any) (int, []byte, error) {
	var r io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, p.base+mount+path, r)
	req.Header.Set("Authorization", "Bearer "+key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// must is do that fails the test unless the status is want.
func (p *proc) must(want int, method, path string, body any) map[string]any {
	p.t.Helper()
	return p.mustAs(adminKey, want, method, path, body)
}

// mustAs is must with the API key key.
func (p *proc) mustAs(key string, want int, method, path string, body any) map[string]any {
	p.t.Helper()
	status, out := p.doAs(key, method, path, body)
	if status != want {
		p.t.Fatalf("%s %s: %d %v, want %d", method, path, status, out, want)
	}
	return out
}

// userWithKey creates an ordinary user named username who holds a
// non-expiring API token, and returns the user's pk and the token's key.
// A connection's user is the user who creates it (read-only since
// authentik 2026.8), so a test that links several users to sources does
// it with their own keys.
func (p *proc) userWithKey(username string) (pk any, key string) {
	p.t.Helper()
	u := p.must(http.StatusCreated, "POST", "/core/users/", map[string]any{"username": username, "name": username})
	p.must(http.StatusCreated, "POST", "/core/tokens/", map[string]any{"identifier": username + "-api", "intent": "api",
		"user": u["pk"], "expiring": false})
	return u["pk"], p.viewKey(username + "-api")
}
