package store

import (
	"encoding/json"
	"fmt"
	"testing"
)

// TestAppendJSONIsMarshal checks appendJSON against encoding/json on the
// kinds of values events hold, strings that need escaping included.
func TestAppendJSONIsMarshal(t *testing.T) {
	strs := []string{"", "plain", `quote " and \ backslash`, "<script>&amp;", "tab\tnew\nline\x00", "é ü ✓ 😀",
		"\u2028\u2029", "invalid \xff\xfe utf-8", "del \x7f"}
	values := []any{nil, true, false, 0, -7, int64(1) << 62, 1.5, 1e21, []string{"a", "<b>"}, map[string]string{"k": "v"},
		map[string]any(nil), map[string]any{}}
	for _, s := range strs {
		values = append(values, s, map[string]any{s: s})
	}
	values = append(values, map[string]any{"model": map[string]any{"app": "authentik_sources_oauth", "pk": int64(42),
		"name": "User-source connection (user=1, source=x)"}, "diff": map[string]any{"z": nil, "a": []any{1.0, "x"}},
		"http_request": map[string]any{"args": map[string]any{"q": "<&>"}, "method": "POST"}})
	wide := map[string]any{} // more keys than appendJSONMembers sorts on the stack
	for i := range 20 {
		wide[fmt.Sprintf("k%02d", 19-i)] = i
	}
	values = append(values, wide)
	for _, v := range values {
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendJSON([]byte("prefix"), v); string(got) != "prefix"+string(want) {
			t.Errorf("appendJSON(%#v) = %s, want %s", v, got[len("prefix"):], want)
		}
	}
}
