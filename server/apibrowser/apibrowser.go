// Package apibrowser serves authentik's API browser: RapiDoc, rendering the
// spec served at <base>/schema/, on the page <base>/ with its script under
// <base>/browser/. Every file is embedded in the binary (RapiDoc as vendored
// by tools/apibrowser/update.sh), so the page works offline and loads
// nothing from any other host.
package apibrowser

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

//go:embed page/index.html
var indexTemplate string

// assets holds RapiDoc's dist files, copied from the pinned npm package by
// tools/apibrowser/update.sh, with their SHA-256 in assets/SHA256SUMS.
//
//go:embed assets
var assets embed.FS

// Assets are the vendored files served under <base>/browser/.
var Assets = []string{"rapidoc-min.js", "rapidoc-min.js.LICENSE.txt", "LICENSE.txt"}

// ContentSecurityPolicy is sent with the page. Scripts, connections (the
// spec, and the operations a person tries) and everything else come only
// from the server itself; RapiDoc's web components set inline styles, so
// style-src also allows 'unsafe-inline'. No inline script runs.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Register adds the API browser's routes to e: GET of base+"/" (the
// page), base+"/browser/<asset>" and base (a redirect to the page). They
// need no authentication, like the schema; the server answers HEAD like
// GET and sends its security headers on every response.
func Register(e *echo.Echo, base string) {
	base = strings.TrimSuffix(base, "/")

	version := make(map[string]string, len(Assets))
	for _, name := range Assets {
		data, err := assets.ReadFile("assets/" + name)
		if err != nil {
			panic("apibrowser: missing embedded asset: " + err.Error()) // caught by the package's tests
		}
		version[name] = contentHash(data)
		e.GET(base+"/browser/"+name, serveAsset(name, data, version[name]))
	}

	page := []byte(strings.ReplaceAll(indexTemplate, "{{RAPIDOC_HASH}}", version["rapidoc-min.js"]))
	pageTag := `"` + contentHash(page) + `"`
	e.GET(base+"/", func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", pageTag)
		serveContent(c, "", page)
		return nil
	})
	e.GET(base, func(c echo.Context) error {
		return c.Redirect(http.StatusMovedPermanently, base+"/")
	})
}

// serveAsset answers with one embedded file. The page asks for it with
// ?v=<its hash>: such a request may be cached for good; any other is
// revalidated (ETag) every time.
func serveAsset(name string, data []byte, hash string) echo.HandlerFunc {
	contentType := "text/plain; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		contentType = "text/javascript; charset=utf-8"
	}
	tag := `"` + hash + `"`
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Type", contentType)
		h.Set("ETag", tag)
		if c.QueryParam("v") == hash {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		serveContent(c, name, data)
		return nil
	}
}

// contentHash is the first 16 hex digits of data's SHA-256.
func contentHash(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:8])
}

// serveContent answers with data (and 304 for a matching If-None-Match).
// Range requests get the whole file: a list of many small ranges would
// make a response many times larger than the request.
func serveContent(c echo.Context, name string, data []byte) {
	c.Request().Header.Del("Range")
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(data))
}
