package server

import (
	"strings"

	"akconn/gen"
	"akconn/store"
)

// Page sizes: authentik's default, and this server's cap (an addition).
const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// noAutocomplete is every list's autocomplete: authentik fills it with the
// fields of its query language (djangoql) for the views that take one
// (users, events) and answers {} for the others. This server's search is
// plain text, with no query language, so no view offers one: a client
// that read fields there would send queries the search cannot parse.
// Shared and read-only.
var noAutocomplete = gen.Autocomplete{}

// pager is a requested page of a list.
type pager struct {
	page, size int
}

// newPager reads the page and page_size parameters as Django REST
// framework does: a page below 1 is invalid; a page size that is not
// positive falls back to the default, and a larger one is capped.
func newPager(page, size *int) (pager, error) {
	p := pager{page: 1, size: defaultPageSize}
	if page != nil {
		// No list is anywhere near 2^31 pages long; refusing such pages
		// early also keeps the row offset from overflowing.
		if *page < 1 || *page > 1<<31 {
			return p, errInvalidPage
		}
		p.page = *page
	}
	if size != nil && *size > 0 {
		p.size = min(*size, maxPageSize)
	}
	return p, nil
}

// window is the slice of rows the page covers.
func (p pager) window() store.Page {
	return store.Page{Offset: (p.page - 1) * p.size, Limit: p.size}
}

// pagination describes the page among total rows, or fails with "Invalid
// page." when the page lies past the end (page 1 always exists).
func (p pager) pagination(total int64) (gen.Pagination, error) {
	size := int64(p.size)
	pages := max(1, (total+size-1)/size)
	page := int64(p.page)
	if page > pages {
		return gen.Pagination{}, errInvalidPage
	}
	out := gen.Pagination{Count: total, Current: page, TotalPages: pages}
	if page < pages {
		out.Next = page + 1
	}
	if page > 1 {
		out.Previous = page - 1
	}
	if total > 0 {
		out.StartIndex = (page-1)*size + 1
		out.EndIndex = min(page*size, total)
	}
	return out, nil
}

// orderingFields splits an ordering parameter ("-created,pk") into fields.
func orderingFields(ordering *string) []string {
	if ordering == nil || *ordering == "" {
		return nil
	}
	return strings.Split(*ordering, ",")
}
