package e2e_test

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"akconn/seal"
	"akconn/store"
	"akconn/testenv"
)

// writeKeyFile writes keys, one per line (the first sealing), owner-only.
func writeKeyFile(t *testing.T, path string, keys ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(keys, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Rotation, online: with a new key as the first line of the key file, a
// running server seals new values with it while `keys rotate` re-seals
// the old ones under 64 concurrent writers; a rotation killed midway is
// finished by running it again; the old key is then retired, and a server
// given only the new key starts, and every secret reads back as last
// written.
func TestKeyRotation(t *testing.T) {
	for _, backend := range []string{store.SQLite, store.Postgres} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			database := testenv.DatabaseURL(t, backend)
			if backend == store.SQLite {
				database = filepath.Join(dir, "akconn.db")
			}
			keyFile := filepath.Join(dir, "keys")
			oldKey, newKey := seal.NewSecret(), seal.NewSecret()
			writeKeyFile(t, keyFile, oldKey)
			env := serverEnv("SECRET_KEY_FILE=" + keyFile)

			p, err := launchWith(t, serverBinary(t), database, env)
			if err != nil {
				t.Fatal(err)
			}
			conns := createSealedConnections(t, p, 20, 30)
			for i := 0; i < 3; i++ {
				p.must(http.StatusCreated, "POST", "/core/tokens/", map[string]any{"identifier": fmt.Sprintf("tok-%d", i), "expiring": false})
			}
			keys := map[string]string{}
			for i := 0; i < 3; i++ {
				id := fmt.Sprintf("tok-%d", i)
				keys[id] = p.viewKey(id)
			}
			p.stop()

			writeKeyFile(t, keyFile, newKey, oldKey)
			p, err = launchWith(t, serverBinary(t), database, env)
			if err != nil {
				t.Fatal(err)
			}
			stop := make(chan struct{})
			var mu sync.Mutex
			last := map[int64]string{} // connection → the access token last acknowledged
			var wg sync.WaitGroup
			for w := 0; w < 64; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					for n := 0; ; n++ {
						select {
						case <-stop:
							return
						default:
						}
						// Each connection has one writer, so that the last write
						// acknowledged is the last one made.
						id := conns[(w+64*n)%(len(conns)/64*64)]
						token := fmt.Sprintf("rotated-%d-%d-%d", id, w, n)
						if status, _ := p.do("PATCH", fmt.Sprintf("/sources/user_connections/oauth/%d/", id), map[string]any{"access_token": token}); status == http.StatusOK {
							mu.Lock()
							last[id] = token
							mu.Unlock()
						}
					}
				}(w)
			}

			killRotationMidway(t, env, database)
			out := command(t, env, "keys", "rotate", "--database", database)
			if !strings.Contains(out, "re-sealed") {
				t.Fatalf("keys rotate: %s", out)
			}
			close(stop)
			wg.Wait()
			p.stop()

			oldID := keyID(t, oldKey)
			status := command(t, env, "keys", "status", "--database", database)
			if strings.Contains(status, oldID+"  ") {
				t.Fatalf("the old key still seals values after the rotation:\n%s", status)
			}
			command(t, env, "keys", "retire", oldID, "--database", database)
			writeKeyFile(t, keyFile, newKey)
			p, err = launchWith(t, serverBinary(t), database, env)
			if err != nil {
				t.Fatalf("a server with only the new key: %v", err)
			}
			for id, key := range keys {
				if got := p.viewKey(id); got != key {
					t.Errorf("view_key of %s after the rotation: %q, want %q", id, got, key)
				}
			}
			p.stop()
			checkAccessTokens(t, database, newKey, conns, last)
		})
	}
}

// createSealedConnections makes sources×users connections, each with an
// access token, and returns their ids.
func createSealedConnections(t *testing.T, p *proc, sources, users int) []int64 {
	t.Helper()
	var srcs []any
	var keys []string // each user's API key: a connection's user is the user who creates it
	for i := 0; i < sources; i++ {
		src := p.must(http.StatusCreated, "POST", "/sources/oauth/", map[string]any{"name": fmt.Sprint("S", i), "slug": fmt.Sprint("s", i),
			"provider_type": "github", "consumer_key": "k", "consumer_secret": fmt.Sprint("secret-", i)})
		srcs = append(srcs, src["pk"])
	}
	for i := 0; i < users; i++ {
		_, key := p.userWithKey(fmt.Sprint("u", i))
		keys = append(keys, key)
	}
	var mu sync.Mutex
	var ids []int64
	var wg sync.WaitGroup
	for _, src := range srcs {
		wg.Add(1)
		go func(src any) {
			defer wg.Done()
			for i, key := range keys {
				c := p.mustAs(key, http.StatusCreated, "POST", "/sources/user_connections/oauth/", map[string]any{"source": src,
					"identifier": fmt.Sprintf("%v-%d", src, i), "access_token": fmt.Sprintf("first-%v-%d", src, i)})
				mu.Lock()
				ids = append(ids, int64(c["pk"].(float64)))
				mu.Unlock()
			}
		}(src)
	}
	wg.Wait()
	return ids
}

// killRotationMidway starts `keys rotate` one value per transaction, and
// kills it with SIGKILL as soon as it reports its first progress.
func killRotationMidway(t *testing.T, env []string, database string) {
	t.Helper()
	cmd := exec.Command(serverBinary(t), "keys", "rotate", "--batch", "1", "--database", database)
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	progressed := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if strings.Contains(lines.Text(), "/") {
				progressed <- lines.Text()
				return
			}
		}
		close(progressed)
	}()
	select {
	case line, ok := <-progressed:
		if !ok {
			t.Fatal("keys rotate ended before it reported progress")
		}
		t.Logf("killing the rotation at %q", line)
	case <-time.After(30 * time.Second):
		t.Fatal("keys rotate reported no progress")
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// keyID is the id the seal package gives key.
func keyID(t *testing.T, key string) string {
	t.Helper()
	k, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return k.SealingKeyID()
}

// checkAccessTokens opens the store with only key and checks that each
// connection's access token is the one last acknowledged (or the first).
func checkAccessTokens(t *testing.T, database, key string, conns []int64, last map[int64]string) {
	t.Helper()
	k, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(database, store.Options{Keyring: k})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	first := regexp.MustCompile(`^first-`)
	for _, id := range conns {
		var c store.Connection
		if err := st.DB().Where("id = ?", id).Take(&c).Error; err != nil {
			t.Fatal(err)
		}
		token, err := st.AccessToken(&c)
		if err != nil || token == nil {
			t.Fatalf("connection %d: %v", id, err)
		}
		want, written := last[id]
		if written && *token != want || !written && !first.MatchString(*token) {
			t.Errorf("connection %d: access token %q, last acknowledged %q", id, *token, want)
		}
	}
	var sources []store.OAuthSource
	if err := st.DB().Find(&sources).Error; err != nil {
		t.Fatal(err)
	}
	for _, src := range sources {
		if secret, err := st.ConsumerSecret(&src); err != nil || !strings.HasPrefix(secret, "secret-") {
			t.Errorf("source %s: consumer secret %q (%v)", src.Slug, secret, err)
		}
	}
	t.Logf("%d connections, %d written during the rotation, all as acknowledged; %d sources", len(conns), len(last), len(sources))
}
