package store

import (
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The pieces every list and write builds its statements from.

// searchAny keeps the rows of q where any of columns contains term.
func (s *Store) searchAny(q *gorm.DB, term string, columns ...string) *gorm.DB {
	conds := make([]string, len(columns))
	args := make([]any, len(columns))
	for i, c := range columns {
		conds[i], args[i] = s.contains(c, term)
	}
	return q.Where(strings.Join(conds, " OR "), args...)
}

// likePattern escapes s for a LIKE 'contains' match with ESCAPE '\'.
func likePattern(s string) string {
	return "%" + escapeLike(strings.ToLower(s)) + "%"
}

// valuesRow is one row of an INSERT's VALUES with n parameters: "(?, ?, …)".
func valuesRow(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// escapeLike escapes LIKE wildcards in s for ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// orderBy builds an ORDER BY from API ordering fields ("-name", ...):
// unknown and repeated fields are ignored, defaults apply when no field is
// known, and tie (a unique field) always ends the list, so that pages are
// stable; it runs the same way as the first key, so that one index can
// serve the whole ORDER BY.
func orderBy(fields []string, columns map[string]clause.Column, defaults []string, tie string) clause.OrderBy {
	var cols []clause.OrderByColumn
	seen := map[string]bool{}
	add := func(fields []string) {
		for _, f := range fields {
			f = strings.TrimSpace(f)
			name := strings.TrimPrefix(f, "-")
			col, ok := columns[name]
			if !ok || seen[name] {
				continue
			}
			seen[name] = true
			cols = append(cols, clause.OrderByColumn{Column: col, Desc: strings.HasPrefix(f, "-")})
		}
	}
	add(fields)
	if len(cols) == 0 {
		add(defaults)
	}
	if !seen[tie] {
		if len(cols) > 0 && cols[0].Desc {
			tie = "-" + tie
		}
		add([]string{tie})
	}
	return clause.OrderBy{Columns: cols}
}

// listPage counts the rows of count and, unless the page lies past the
// end, fetches the page of rows with read. Every list of the API goes
// through it.
func listPage[T any](what string, count *gorm.DB, read func(*gorm.DB) ([]T, error), rows *gorm.DB, p Page) ([]T, int64, error) {
	var total int64
	if err := count.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count %s: %w", what, translate(err))
	}
	if total == 0 || p.Offset >= int(total) {
		return []T{}, total, nil
	}
	out, err := read(rows.Offset(p.Offset).Limit(p.Limit))
	if err != nil {
		return nil, 0, fmt.Errorf("list %s: %w", what, translate(err))
	}
	return out, total, nil
}

// find reads rows with GORM.
func find[T any](q *gorm.DB) ([]T, error) {
	var out []T
	return out, q.Find(&out).Error
}

// eq pairs a column with a filter's field: a *string, *bool or *time.Time,
// nil when the filter does not use it.
type eq struct {
	column string
	value  any
}

// equalities returns a condition for each field that is set, in the order
// given, so that the same filter always makes the same SQL.
func equalities(table string, fields ...eq) []clause.Eq {
	var out []clause.Eq
	for _, f := range fields {
		var v any
		switch p := f.value.(type) {
		case *string:
			if p != nil {
				v = *p
			}
		case *bool:
			if p != nil {
				v = *p
			}
		case *time.Time:
			if p != nil {
				v = p.UTC()
			}
		}
		if v != nil {
			out = append(out, clause.Eq{Column: clause.Column{Table: table, Name: f.column}, Value: v})
		}
	}
	return out
}
