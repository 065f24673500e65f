package store

import (
	"time"

	"gorm.io/gorm"
)

// UserDates are authentik 2026.8's date filters of the users list: each
// set field keeps the users whose column equals it (the exact filters),
// is after it (GT) or before it (LT), to the microsecond, as the
// database keeps times. A user who never logged in matches none of the
// LastLogin filters, only LastLoginIsNull true.
type UserDates struct {
	DateJoined, DateJoinedGT, DateJoinedLT    *time.Time
	LastUpdated, LastUpdatedGT, LastUpdatedLT *time.Time
	LastLogin, LastLoginGT, LastLoginLT       *time.Time
	// LastLoginIsNull keeps the users who never logged in (true) or those
	// who did (false).
	LastLoginIsNull *bool
}

// where adds d's conditions to q.
func (d UserDates) where(q *gorm.DB) *gorm.DB {
	for _, c := range []struct {
		column string
		times  []*time.Time // exact, after, before
	}{
		{"date_joined", []*time.Time{d.DateJoined, d.DateJoinedGT, d.DateJoinedLT}},
		{"last_updated", []*time.Time{d.LastUpdated, d.LastUpdatedGT, d.LastUpdatedLT}},
		{"last_login", []*time.Time{d.LastLogin, d.LastLoginGT, d.LastLoginLT}},
	} {
		for i, op := range []string{" = ?", " > ?", " < ?"} {
			if t := c.times[i]; t != nil {
				// A time finer than the microsecond is cut, as django's
				// parse_datetime does, so that it compares with what
				// both backends store.
				q = q.Where("users."+c.column+op, t.UTC().Truncate(time.Microsecond))
			}
		}
	}
	if d.LastLoginIsNull != nil {
		if *d.LastLoginIsNull {
			q = q.Where("users.last_login IS NULL")
		} else {
			q = q.Where("users.last_login IS NOT NULL")
		}
	}
	return q
}
