package apibrowser_test

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"akconn/server/apibrowser"
	"akconn/testenv"
)

// TestAssetsMatchSHA256SUMS: the committed assets are what
// tools/apibrowser/update.sh copied (it records their SHA-256 in
// assets/SHA256SUMS; `make check-api-browser` compares them with the pinned
// npm package itself).
func TestAssetsMatchSHA256SUMS(t *testing.T) {
	f, err := os.Open("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var listed []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("bad line in SHA256SUMS: %q", sc.Text())
		}
		data, err := os.ReadFile(filepath.Join("assets", name))
		if err != nil {
			t.Fatal(err)
		}
		got := sha256.Sum256(data)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("assets/%s does not match SHA256SUMS: run 'make update-api-browser' and commit the result", name)
		}
		listed = append(listed, name)
	}
	for _, name := range apibrowser.Assets {
		if !slices.Contains(listed, name) {
			t.Errorf("assets/%s is served but not in SHA256SUMS", name)
		}
	}
}

// TestAssetIsThePinnedVersion: rapidoc-min.js is the version that
// tools/apibrowser/package.json and its lock pin.
func TestAssetIsThePinnedVersion(t *testing.T) {
	var pkg struct{ Dependencies map[string]string }
	var lock struct {
		Packages map[string]struct{ Version string }
	}
	readJSON(t, "../../tools/apibrowser/package.json", &pkg)
	readJSON(t, "../../tools/apibrowser/package-lock.json", &lock)
	pinned := pkg.Dependencies["rapidoc"]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(pinned) {
		t.Fatalf("package.json must pin an exact rapidoc version, not %q", pinned)
	}
	if locked := lock.Packages["node_modules/rapidoc"].Version; locked != pinned {
		t.Fatalf("package-lock.json has rapidoc %q, package.json %q", locked, pinned)
	}
	js, err := os.ReadFile("assets/rapidoc-min.js")
	if err != nil {
		t.Fatal(err)
	}
	if banner := "/*! RapiDoc " + pinned + " "; !bytes.HasPrefix(js, []byte(banner)) {
		t.Fatalf("assets/rapidoc-min.js does not start with %q: run 'make update-api-browser'", banner)
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// serve answers one request through the real router. HEAD goes through a
// real HTTP server, since net/http is what drops a HEAD answer's body.
func serve(t *testing.T, env *testenv.Env, method, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	if method != http.MethodHead {
		env.Echo.ServeHTTP(rec, req)
		return rec
	}
	srv := httptest.NewServer(env.Echo)
	defer srv.Close()
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	out, err := noRedirects.Head(srv.URL + target)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	for k, vs := range out.Header {
		rec.Header()[k] = vs
	}
	rec.WriteHeader(out.StatusCode)
	_, _ = io.Copy(rec, out.Body)
	return rec
}

func checkSecurityHeaders(t *testing.T, rec *httptest.ResponseRecorder) {
	t.Helper()
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
	} {
		if got := rec.Header().Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestPage: the page needs no token, carries its CSP and security headers,
// names no other host, keeps RapiDoc from loading fonts, and asks for the
// script by its hash. HEAD works, and so does revalidation.
func TestPage(t *testing.T) {
	env := testenv.New(t)
	rec := serve(t, env, http.MethodGet, "/api/v3/")
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/v3/: %d %s", rec.Code, rec.Body)
	}
	checkSecurityHeaders(t, rec)
	h := rec.Header()
	if got := h.Get("Content-Security-Policy"); got != apibrowser.ContentSecurityPolicy {
		t.Errorf("Content-Security-Policy: %q", got)
	}
	for _, directive := range []string{"default-src 'none'", "script-src 'self';", "connect-src 'self'", "font-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(apibrowser.ContentSecurityPolicy, directive) {
			t.Errorf("CSP lacks %q", directive)
		}
	}
	if strings.Contains(apibrowser.ContentSecurityPolicy, "unsafe-eval") || strings.Count(apibrowser.ContentSecurityPolicy, "unsafe-inline") != 1 {
		t.Errorf("CSP allows more than inline styles: %s", apibrowser.ContentSecurityPolicy)
	}
	if got := h.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type: %q", got)
	}
	if got := h.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control: %q", got)
	}
	body := rec.Body.String()
	if regexp.MustCompile(`(?i)(https?:)?//[a-z0-9]`).MatchString(body) {
		t.Errorf("the page names another host:\n%s", body)
	}
	for _, want := range []string{`spec-url="schema/"`, `load-fonts="false"`, `allow-spec-url-load="false"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if regexp.MustCompile(`<script>|\son[a-z]+=`).MatchString(body) {
		t.Errorf("the page has an inline script or event handler")
	}
	src := regexp.MustCompile(`<script src="browser/rapidoc-min\.js\?v=([0-9a-f]{16})"`).FindStringSubmatch(body)
	if src == nil {
		t.Fatalf("no versioned script in the page:\n%s", body)
	}
	js, _ := os.ReadFile("assets/rapidoc-min.js")
	if sum := sha256.Sum256(js); src[1] != hex.EncodeToString(sum[:8]) {
		t.Errorf("the page asks for rapidoc-min.js?v=%s, not its hash", src[1])
	}

	head := serve(t, env, http.MethodHead, "/api/v3/")
	if head.Code != http.StatusOK || head.Body.Len() != 0 || head.Header().Get("Content-Length") != h.Get("Content-Length") {
		t.Errorf("HEAD /api/v3/: %d, %d bytes, Content-Length %q (GET: %q)", head.Code, head.Body.Len(), head.Header().Get("Content-Length"), h.Get("Content-Length"))
	}
	if again := serve(t, env, http.MethodGet, "/api/v3/", "If-None-Match", h.Get("ETag")); again.Code != http.StatusNotModified {
		t.Errorf("GET /api/v3/ with its ETag: %d, want 304", again.Code)
	}
	if post := serve(t, env, http.MethodPost, "/api/v3/"); post.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /api/v3/: %d, want 405", post.Code)
	}
}

// TestRedirect: /api/v3 leads to the page.
func TestRedirect(t *testing.T) {
	env := testenv.New(t)
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		rec := serve(t, env, method, "/api/v3")
		if rec.Code != http.StatusMovedPermanently || rec.Header().Get("Location") != "/api/v3/" {
			t.Errorf("%s /api/v3: %d, Location %q", method, rec.Code, rec.Header().Get("Location"))
		}
	}
}

// TestAssets: each asset is served with its type and the security headers;
// the versioned URL the page uses is cached for good, any other revalidated.
func TestAssets(t *testing.T) {
	env := testenv.New(t)
	for _, name := range apibrowser.Assets {
		data, err := os.ReadFile(filepath.Join("assets", name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		hash := hex.EncodeToString(sum[:8])
		path := "/api/v3/browser/" + name

		rec := serve(t, env, http.MethodGet, path+"?v="+hash)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), data) {
			t.Fatalf("GET %s: %d, %d bytes (want %d)", path, rec.Code, rec.Body.Len(), len(data))
		}
		checkSecurityHeaders(t, rec)
		wantType := "text/plain; charset=utf-8"
		if strings.HasSuffix(name, ".js") {
			wantType = "text/javascript; charset=utf-8"
		}
		if got := rec.Header().Get("Content-Type"); got != wantType {
			t.Errorf("%s: Content-Type %q, want %q", name, got, wantType)
		}
		if got := rec.Header().Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("%s?v=<hash>: Cache-Control %q", name, got)
		}
		for _, q := range []string{"", "?v=stale"} {
			if got := serve(t, env, http.MethodGet, path+q).Header().Get("Cache-Control"); got != "no-cache" {
				t.Errorf("%s%s: Cache-Control %q, want no-cache", name, q, got)
			}
		}
		if got := serve(t, env, http.MethodGet, path, "If-None-Match", rec.Header().Get("ETag")); got.Code != http.StatusNotModified {
			t.Errorf("%s with its ETag: %d, want 304", name, got.Code)
		}
		if head := serve(t, env, http.MethodHead, path); head.Code != http.StatusOK || head.Body.Len() != 0 {
			t.Errorf("HEAD %s: %d, %d bytes", path, head.Code, head.Body.Len())
		}
	}
	if rec := serve(t, env, http.MethodGet, "/api/v3/browser/SHA256SUMS"); rec.Code != http.StatusNotFound {
		t.Errorf("GET /api/v3/browser/SHA256SUMS: %d, want 404", rec.Code)
	}
}

// A Range request gets the whole file: many small ranges would make a
// response many times larger than the request.
func TestRangesAreIgnored(t *testing.T) {
	env := testenv.New(t)
	ranges := "bytes=0-0"
	for i := 1; i < 2000; i++ {
		ranges += fmt.Sprintf(",%d-%d", i, i)
	}
	rec := serve(t, env, http.MethodGet, "/api/v3/browser/LICENSE.txt", "Range", ranges)
	data, _ := os.ReadFile("assets/LICENSE.txt")
	if rec.Code != http.StatusOK || rec.Body.Len() != len(data) {
		t.Fatalf("ranged GET: %d, %d bytes (file: %d)", rec.Code, rec.Body.Len(), len(data))
	}
}
