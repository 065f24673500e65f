package server

import (
	"hash/fnv"
	"strconv"
	"testing"
	"time"

	"akconn/store"
)

// TestETagsKeepTheirValues pins the tags to the FNV-1a digest of each
// object's identity that earlier releases sent: a client holding a tag
// from before an upgrade must not get 412 for an unchanged object.
func TestETagsKeepTheirValues(t *testing.T) {
	earlier := func(identity string, versions ...int64) string {
		h := fnv.New64a()
		h.Write([]byte(identity))
		tag := `"`
		for i, v := range versions {
			if i > 0 {
				tag += "."
			}
			tag += strconv.FormatInt(v, 10)
		}
		return tag + "-" + strconv.FormatUint(h.Sum64(), 36) + `"`
	}
	created := time.Date(2026, 11, 27, 18, 32, 46, 640207000, time.UTC)
	c := &store.Connection{ID: 12345, Created: created, Version: 3, Source: store.OAuthSource{ID: "d7f0cc83", Version: 7}}
	if got, want := connectionETag(c), earlier("connection 12345 "+created.Format(time.RFC3339Nano), 3, 7); got != want {
		t.Errorf("connection: %s, want %s", got, want)
	}
	if got, want := sourceETag(&c.Source), earlier("source d7f0cc83", 7); got != want {
		t.Errorf("source: %s, want %s", got, want)
	}
	u := &store.User{ID: 4, UUID: "0b6c", Version: 2}
	if got, want := userETag(u), earlier("user 4 0b6c", 2); got != want {
		t.Errorf("user: %s, want %s", got, want)
	}
	tok := &store.Token{ID: "tk", Version: 5, User: *u}
	if got, want := tokenETag(tok), earlier("token tk", 5, 2); got != want {
		t.Errorf("token: %s, want %s", got, want)
	}
	if got := testing.AllocsPerRun(100, func() { connectionETag(c) }); got > 1 {
		t.Errorf("a connection's tag takes %v allocations, want 1 (its string)", got)
	}
}
