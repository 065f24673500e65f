package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

// Conditional requests (RFC 9110 §13). Every single object carries a
// strong ETag made of its row version (bumped by each committed change,
// inside the locked read-modify-write), the version of what its
// representation shows of another row (a connection's source, a token's
// user), and a digest of its identity, so that an object deleted and made
// again under the same slug or identifier never takes an old tag. A
// contract's mounts send its representation, so a tag also names the
// contract, except for the 2024.8 contract's (representationTag).

// headerETag names the response header of an object's entity tag.
const headerETag = "ETag"

// errPreconditionFailed answers a write whose If-Match names none of the
// object's current tags. Nothing has changed.
var errPreconditionFailed = &Problem{Status: http.StatusPreconditionFailed,
	Detail: "The object has changed since the version you sent in If-Match; read it again (its current ETag is in the ETag header)."}

// etag is a strong entity tag of an object with identity and versions.
func etag(identity []byte, versions ...int64) string {
	// FNV-1a (hash/fnv's New64a), inline: the hash.Hash and the identity
	// string were a retrieve's only allocations for its tag.
	h := uint64(14695981039346656037)
	for _, c := range identity {
		h = (h ^ uint64(c)) * 1099511628211
	}
	b := make([]byte, 0, 48)
	b = append(b, '"')
	for i, v := range versions {
		if i > 0 {
			b = append(b, '.')
		}
		b = strconv.AppendInt(b, v, 10)
	}
	b = append(b, '-')
	b = strconv.AppendUint(b, h, 36)
	return string(append(b, '"'))
}

func connectionETag(c *store.Connection) string {
	var identity [64]byte
	b := strconv.AppendInt(append(identity[:0], "connection "...), c.ID, 10)
	b = c.Created.AppendFormat(append(b, ' '), time.RFC3339Nano)
	return etag(b, c.Version, c.Source.Version)
}

func sourceETag(src *store.OAuthSource) string {
	return etag([]byte("source "+src.ID), src.Version)
}

func userETag(u *store.User) string {
	return etag([]byte("user "+strconv.FormatInt(u.ID, 10)+" "+u.UUID), u.Version)
}

func tokenETag(t *store.Token) string {
	return etag([]byte("token "+t.ID), t.Version, t.User.Version)
}

// matchesETag reports whether header, an If-Match or If-None-Match value
// (a list of entity tags, or *), names current. If-Match compares
// strongly (a weak tag never matches); If-None-Match weakly.
func matchesETag(header, current string, weak bool) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" {
			return true
		}
		if after, ok := strings.CutPrefix(tag, "W/"); ok {
			if !weak {
				continue
			}
			tag = after
		}
		if tag == current {
			return true
		}
	}
	return false
}

// ifMatch checks a write's If-Match (nil: none sent, any version goes)
// against the object's current tag, inside the locked read-modify-write.
// It returns errPreconditionFailed, and sets the current tag on the
// response, when they differ.
func ifMatch(c echo.Context, header *string, current string) error {
	current = representationTag(c, current)
	if header == nil || matchesETag(*header, current, false) {
		return nil
	}
	c.Response().Header().Set(headerETag, current)
	return errPreconditionFailed
}

// sendObject answers a read or write of one object: with its ETag, and
// for a read whose If-None-Match names that tag, 304 without a body.
func sendObject(c echo.Context, status int, tag string, ifNoneMatch *string, body any) error {
	tag = representationTag(c, tag)
	c.Response().Header().Set(headerETag, tag)
	if ifNoneMatch != nil && matchesETag(*ifNoneMatch, tag, true) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.JSON(status, body)
}
