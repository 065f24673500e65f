package server

import (
	"slices"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"akconn/store"
)

// Shown limits what a mount shows of the stored objects to those its
// contract can express: an older contract has no value for a provider type
// or an event action added after it, and bounds an identifier the current
// one does not. An object it cannot express is absent from the mount, as
// if it did not exist (lists leave it out, reads and writes of it answer
// 404), and is kept as stored: no answer on the mount breaks its contract,
// and no value changes because of the mount a client uses.
type Shown struct {
	// ProviderTypes are the sources' provider types the contract has, by
	// their current names (nil: all).
	ProviderTypes []string
	// MaxIdentifier is the longest connection identifier, in characters,
	// the contract allows (0: any).
	MaxIdentifier int
	// MaxSourceURL is the longest of a source's four OAuth URLs, in
	// characters, the contract allows (0: any).
	MaxSourceURL int
	// Actions are the event actions the contract has (nil: all).
	Actions []string
}

// shownKey is where a mount leaves its Shown in echo's context.
const shownKey = "akconn.shown"

// showing marks the requests of a mount whose contract shows less than
// everything.
func showing(shown *Shown) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(shownKey, shown)
			return next(c)
		}
	}
}

// shownOf is what c's mount shows (nil: everything).
func shownOf(c echo.Context) *Shown {
	shown, _ := c.Get(shownKey).(*Shown)
	return shown
}

// source answers whether the mount shows src.
func (sh *Shown) source(src *store.OAuthSource) bool {
	if sh == nil {
		return true
	}
	if sh.ProviderTypes != nil && !slices.Contains(sh.ProviderTypes, src.ProviderType) {
		return false
	}
	for _, u := range []*string{src.RequestTokenURL, src.AuthorizationURL, src.AccessTokenURL, src.ProfileURL} {
		if sh.MaxSourceURL > 0 && u != nil && utf8.RuneCountInString(*u) > sh.MaxSourceURL {
			return false
		}
	}
	return true
}

// connection answers whether the mount shows conn.
func (sh *Shown) connection(conn *store.Connection) bool {
	return sh == nil || sh.MaxIdentifier == 0 || utf8.RuneCountInString(conn.Identifier) <= sh.MaxIdentifier
}

// event answers whether the mount shows e.
func (sh *Shown) event(e *store.Event) bool {
	return sh == nil || sh.Actions == nil || slices.Contains(sh.Actions, e.Action)
}

// sources narrows a source filter to what the mount shows.
func (sh *Shown) sources(f *store.SourceFilter) {
	if sh != nil {
		f.ProviderTypes, f.MaxURL = sh.ProviderTypes, sh.MaxSourceURL
	}
}

// connections narrows a connection filter to what the mount shows.
func (sh *Shown) connections(f *store.ConnectionFilter) {
	if sh != nil {
		f.MaxIdentifier = sh.MaxIdentifier
	}
}

// events narrows an event filter to what the mount shows.
func (sh *Shown) events(f *store.EventFilter) {
	if sh == nil || sh.Actions == nil {
		return
	}
	if f.Actions == nil {
		f.Actions = sh.Actions
		return
	}
	f.Actions = slices.DeleteFunc(slices.Clone(f.Actions), func(a string) bool { return !slices.Contains(sh.Actions, a) })
}
