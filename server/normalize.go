package server

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// normalizeParameters makes the query and path parameters what authentik
// (Django) would see: invalid UTF-8 is replaced by U+FFFD, as Django
// decodes URLs, and query parameters sent without a value (?user=&page=)
// are dropped, since authentik's filters and paginator treat an empty
// value as not given. It runs before anything reads the parameters.
func normalizeParameters(c echo.Context) {
	values := c.ParamValues()
	for i, v := range values {
		if !utf8.ValidString(v) {
			values[i] = strings.ToValidUTF8(v, "\uFFFD")
		}
	}
	c.SetParamValues(values...)
	req := c.Request()
	if req.URL.RawQuery == "" {
		return
	}
	q := req.URL.Query()
	changed := false
	for k, vs := range q {
		kept := vs[:0]
		for _, v := range vs {
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
}

// nullCharactersMessage is Django REST framework's message for NUL in text.
const nullCharactersMessage = "Null characters are not allowed."

// nullCharacters refuses NUL in query or path parameters, which no text
// column can store.
func nullCharacters(c echo.Context) *Problem {
	req := c.Request()
	if strings.Contains(req.URL.RawQuery, "%00") {
		for k, vs := range req.URL.Query() {
			for _, v := range vs {
				if strings.ContainsRune(v, 0) {
					return fieldError(k, nullCharactersMessage)
				}
			}
		}
	}
	for i, v := range c.ParamValues() {
		if strings.ContainsRune(v, 0) && i < len(c.ParamNames()) {
			return errNotFound
		}
	}
	return nil
}

// nullCharactersInBody refuses a JSON body holding NUL in any string,
// naming the top-level field it is in.
func nullCharactersInBody(req *http.Request) *Problem {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	raw, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil || !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	var body map[string]any
	if json.Unmarshal(raw, &body) != nil {
		return nil
	}
	for k, v := range body {
		if containsNull(v) {
			return fieldError(k, nullCharactersMessage)
		}
	}
	return nil
}

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
