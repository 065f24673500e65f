// Package testenv builds the real server on a fresh database (a SQLite file,
// or a PostgreSQL schema when AKCONN_TEST_BACKEND=postgres) for every test
// package: real echo router, both validators, and a superuser plus two
// ordinary users who each hold an API token.
package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"akconn/server"
	"akconn/store"
)

// API token keys of the fixture users.
const (
	AdminKey = "admin-key-0123456789"
	AliceKey = "alice-key-0123456789"
	BobKey   = "bob-key-0123456789"
)

// SpecPath is the repository's openapi.yaml.
func SpecPath() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "openapi.yaml")
}

var (
	specOnce sync.Once
	spec     []byte
	specErr  error
)

// Spec returns openapi.yaml, the file the binary embeds.
func Spec(t testing.TB) []byte {
	specOnce.Do(func() { spec, specErr = os.ReadFile(SpecPath()) })
	if specErr != nil {
		t.Fatalf("read spec: %v", specErr)
	}
	return spec
}

// SyncBuffer is a log sink safe for concurrent writes.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// Reset forgets everything logged so far.
func (b *SyncBuffer) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Reset()
}

// String returns everything logged so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Env is one server with its database and fixture users.
type Env struct {
	T     testing.TB
	Echo  *echo.Echo
	Store *store.Store
	Logs  *SyncBuffer
	Admin *store.User
	Alice *store.User
	Bob   *store.User
}

// DefaultAPIVersion is the contract /api/v3/ speaks in the servers New
// builds unless told otherwise: 2024.8, this server's previous release, so
// that the tests written for it keep proving that `--api-version 2024.8`
// answers as that release did, through the current handlers and the
// 2024.8 changes. Tests of the current contract ask for CurrentVersion
// (NewCurrent).
const DefaultAPIVersion = "2024.8"

// NewCurrent builds a server whose /api/v3/ speaks the current contract,
// with response validation enforced.
func NewCurrent(t testing.TB) *Env {
	t.Helper()
	return NewWithConfig(t, server.Config{ResponseValidation: server.ResponseEnforce, AuthCacheTTL: DefaultAuthCacheTTL,
		APIVersion: server.CurrentVersion})
}

// New builds a server with response validation enforced.
func New(t testing.TB) *Env {
	t.Helper()
	return NewWith(t, server.ResponseEnforce)
}

// NewWith builds a server with the given response validation mode and
// the production token cache.
func NewWith(t testing.TB, mode server.ResponseValidation) *Env {
	t.Helper()
	return NewWithConfig(t, server.Config{ResponseValidation: mode, AuthCacheTTL: DefaultAuthCacheTTL})
}

// DefaultAuthCacheTTL is the server's default token cache lifetime.
const DefaultAuthCacheTTL = 5 * time.Second

// NewWithConfig builds a server from cfg; the store, spec and logger are
// filled in.
func NewWithConfig(t testing.TB, cfg server.Config) *Env {
	t.Helper()
	st := OpenStore(t)
	logs := &SyncBuffer{}
	cfg.Store, cfg.Spec, cfg.Logger = st, Spec(t), slog.New(slog.NewJSONHandler(logs, nil))
	if cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAPIVersion
	}
	e, err := server.New(cfg)
	if err != nil {
		t.Fatalf("build server: %v", err)
	}
	env := &Env{T: t, Echo: e, Store: st, Logs: logs}
	ctx := context.Background()
	if err := st.Bootstrap(ctx, AdminKey); err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	if err := st.DB().Where("username = ?", "akadmin").Take(&env.Admin).Error; err != nil {
		t.Fatalf("find akadmin: %v", err)
	}
	env.Alice = env.AddUser("alice", AliceKey)
	env.Bob = env.AddUser("bob", BobKey)
	return env
}

// AddUser creates an ordinary user holding a non-expiring API token.
func (e *Env) AddUser(name, key string) *store.User {
	e.T.Helper()
	ctx := context.Background()
	u := store.NewUser(name, false)
	if err := e.Store.CreateUser(ctx, u); err != nil {
		e.T.Fatalf("create user: %v", err)
	}
	if err := e.Store.CreateToken(ctx, &store.Token{Identifier: name + "-token", Key: key, Intent: store.IntentAPI, UserID: u.ID}); err != nil {
		e.T.Fatalf("create token: %v", err)
	}
	return u
}

// Response is a finished request.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body, failing the test if it is not JSON.
func (r Response) JSON(t testing.TB) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	return v
}

// Serve sends req through the real router.
func (e *Env) Serve(req *http.Request) Response {
	rec := httptest.NewRecorder()
	e.Echo.ServeHTTP(rec, req)
	return Response{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

// NewRequest builds a request to path (relative to /api/v3) as the holder
// of key. body may be nil, a string or []byte (sent as is) or any value
// (sent as JSON).
func NewRequest(t testing.TB, method, path, key string, body any) *http.Request {
	t.Helper()
	return NewRequestAt(t, server.BaseURL, method, path, key, body)
}

// NewRequestAt is NewRequest to path relative to base, the mount of a
// contract (server.CompatBase).
func NewRequestAt(t testing.TB, base, method, path, key string, body any) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		r = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	return req
}
