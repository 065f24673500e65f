package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"akconn/store"
	"akconn/testenv"
)

// TestUserDateFilters: date_joined, last_updated and last_login filters
// keep the users whose date equals the value (to the microsecond), is
// strictly after it (GT) or strictly before it (LT); a user who never
// logged in matches no last_login comparison, only last_login__isnull.
func TestUserDateFilters(t *testing.T) {
	backends(t, func(t *testing.T, backend string) {
		st := testenv.OpenStoreOn(t, backend)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
		add := func(name string, joined, updated time.Time, login *time.Time) {
			u := store.NewUser(name, false)
			u.DateJoined, u.LastUpdated, u.PasswordChangeDate, u.LastLogin = joined, updated, joined, login
			if err := st.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		at := func(d time.Duration) *time.Time { v := t0.Add(d); return &v }
		add("a", t0, t0.Add(time.Hour), nil)
		add("b", t0.Add(time.Microsecond), t0.Add(2*time.Hour), at(3*time.Hour))
		add("c", t0.Add(time.Second), t0.Add(time.Hour), at(3*time.Hour+time.Microsecond))
		yes, no := true, false
		berlin := time.FixedZone("CET", 3600)
		inBerlin := t0.Add(time.Microsecond).In(berlin)
		for _, c := range []struct {
			what string
			d    store.UserDates
			want []string
		}{
			{"date_joined", store.UserDates{DateJoined: at(0)}, []string{"a"}},
			{"date_joined, nanoseconds cut", store.UserDates{DateJoined: at(time.Microsecond + 999*time.Nanosecond)}, []string{"b"}},
			{"date_joined in another zone", store.UserDates{DateJoined: &inBerlin}, []string{"b"}},
			{"date_joined__gt", store.UserDates{DateJoinedGT: at(0)}, []string{"b", "c"}},
			{"date_joined__lt", store.UserDates{DateJoinedLT: at(time.Second)}, []string{"a", "b"}},
			{"last_updated", store.UserDates{LastUpdated: at(time.Hour)}, []string{"a", "c"}},
			{"last_updated__gt", store.UserDates{LastUpdatedGT: at(time.Hour)}, []string{"b"}},
			{"last_updated__lt", store.UserDates{LastUpdatedLT: at(2 * time.Hour)}, []string{"a", "c"}},
			{"last_login", store.UserDates{LastLogin: at(3 * time.Hour)}, []string{"b"}},
			{"last_login__gt", store.UserDates{LastLoginGT: at(3 * time.Hour)}, []string{"c"}},
			{"last_login__lt", store.UserDates{LastLoginLT: at(3*time.Hour + time.Microsecond)}, []string{"b"}},
			{"last_login__isnull=true", store.UserDates{LastLoginIsNull: &yes}, []string{"a"}},
			{"last_login__isnull=false", store.UserDates{LastLoginIsNull: &no}, []string{"b", "c"}},
			{"date_joined__gt and last_updated__lt", store.UserDates{DateJoinedGT: at(0), LastUpdatedLT: at(2 * time.Hour)}, []string{"c"}},
		} {
			users, total, err := st.ListUsers(ctx, store.UserFilter{Scope: all, UserDates: c.d}, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, u := range users {
				got = append(got, u.Username)
			}
			if !slices.Equal(got, c.want) || int(total) != len(c.want) {
				t.Errorf("%s: %v (%d), want %v", c.what, got, total, c.want)
			}
		}
	})
}
