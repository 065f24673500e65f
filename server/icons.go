package server

import (
	"strings"

	"github.com/oapi-codegen/nullable"

	"akconn/gen"
)

// A source's icon, as authentik 2026.8 keeps it: a reference written as
// icon, from which icon_url and icon_themed_urls are derived. authentik
// also takes the name of a file uploaded to it; this server stores no
// files, so it takes only references that need none.

// themePlaceholder in an icon reference stands for the theme: such an
// icon has a URL per theme.
const themePlaceholder = "%(theme)s"

// checkIcon refuses an icon reference this server cannot serve: one that
// is neither empty, an http(s) or fa:// URL, nor a /static path.
func checkIcon(icon string) error {
	switch {
	case icon == "":
		return nil
	case strings.HasPrefix(icon, "http://"), strings.HasPrefix(icon, "https://"), strings.HasPrefix(icon, "fa://"):
	case strings.HasPrefix(icon, "/static/") && !strings.Contains(icon, ".."):
	default:
		return fieldError("icon", "Enter a URL (http://, https:// or fa://) or a /static/ path: this server stores no uploaded files.")
	}
	return nil
}

// iconURL is the URL of icon, or null without one: a reference this
// server accepts is its own URL.
func iconURL(icon string) nullable.Nullable[string] {
	if icon == "" {
		return nullable.NewNullNullable[string]()
	}
	return nullable.NewNullableWithValue(icon)
}

// iconThemedURLs is the URL of icon per theme, or null when it names no
// theme (or there is none).
func iconThemedURLs(icon string) nullable.Nullable[gen.ThemedUrls] {
	if !strings.Contains(icon, themePlaceholder) {
		return nullable.NewNullNullable[gen.ThemedUrls]()
	}
	themed := func(theme string) nullable.Nullable[string] {
		return nullable.NewNullableWithValue(strings.ReplaceAll(icon, themePlaceholder, theme))
	}
	return nullable.NewNullableWithValue(gen.ThemedUrls{Light: themed("light"), Dark: themed("dark")})
}
