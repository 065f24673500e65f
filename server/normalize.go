package server

import (
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// nullCharactersMessage is Django REST framework's message for NUL in text.
const nullCharactersMessage = "Null characters are not allowed."

// normalizeParameters makes the query and path parameters what authentik
// (Django) would see, before anything reads them: invalid UTF-8 is
// replaced by U+FFFD, as Django decodes URLs, and query parameters sent
// without a value (?user=&page=) are dropped, since authentik's filters
// and paginator treat an empty value as not given. NUL, which no text
// column can store, is refused: in a path as 404 (no object has such a
// name), in a query as 400 naming the parameter.
func normalizeParameters(c echo.Context) *Problem {
	if p := normalizePath(c); p != nil {
		return p
	}
	req := c.Request()
	if req.URL.RawQuery == "" {
		return nil
	}
	q := req.URL.Query()
	changed := false
	for k, vs := range q {
		kept := vs[:0]
		for _, v := range vs {
			if strings.ContainsRune(v, 0) {
				return fieldError(k, nullCharactersMessage)
			}
			if !utf8.ValidString(v) {
				v, changed = strings.ToValidUTF8(v, "\uFFFD"), true
			}
			if v != "" {
				kept = append(kept, v)
			}
		}
		switch {
		case len(kept) == 0:
			delete(q, k)
			changed = true
		case len(kept) != len(vs):
			q[k] = kept
			changed = true
		}
	}
	if changed {
		req.URL.RawQuery = q.Encode()
	}
	return nil
}

// normalizePath cleans the path parameters. Echo matches the escaped path
// when the URL has one (URL.RawPath), and the generated code unescapes the
// value it binds then; so the value is unescaped here, cleaned, and
// escaped again for the generated code to unescape.
func normalizePath(c echo.Context) *Problem {
	escaped := c.Request().URL.RawPath != ""
	values := c.ParamValues()
	for i, v := range values[:min(len(values), len(c.ParamNames()))] {
		plain := v
		if escaped {
			var err error
			if plain, err = url.PathUnescape(v); err != nil {
				return errNotFound
			}
		}
		if strings.ContainsRune(plain, 0) {
			return errNotFound
		}
		if utf8.ValidString(plain) {
			continue
		}
		plain = strings.ToValidUTF8(plain, "\uFFFD")
		if escaped {
			plain = url.PathEscape(plain)
		}
		values[i] = plain
	}
	c.SetParamValues(values...)
	return nil
}

// containsNull reports whether a decoded JSON value holds NUL in any
// string or key.
func containsNull(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if containsNull(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || containsNull(e) {
				return true
			}
		}
	}
	return false
}
