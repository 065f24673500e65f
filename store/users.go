package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// NewUser fills the fields authentik derives for a new user; its dates
// (joined, last updated, password changed) are one instant, now.
func NewUser(username string, superuser bool) *User {
	now := time.Now().UTC().Truncate(time.Microsecond)
	return &User{
		UUID:        uuid.NewString(),
		Username:    username,
		Name:        username,
		IsActive:    true,
		IsSuperuser: superuser,
		Path:        "users",
		Type:        "internal",
		Attributes:  map[string]any{},
		DateJoined:  now,
		LastUpdated: now,
		// No password: it was last "changed" when the account was made.
		PasswordChangeDate: now,
	}
}

// stampNew fills the dates a user being created lacks: date_joined now,
// last_updated and password_change_date the moment it joined (authentik's
// auto_now and auto_now_add, at the insert).
func (u *User) stampNew() {
	if u.DateJoined.IsZero() {
		u.DateJoined = time.Now().UTC().Truncate(time.Microsecond)
	}
	if u.LastUpdated.IsZero() {
		u.LastUpdated = u.DateJoined
	}
	if u.PasswordChangeDate.IsZero() {
		u.PasswordChangeDate = u.DateJoined
	}
}

// Bootstrap creates, once, the superuser akadmin and a non-expiring API
// token with key, as authentik does for AUTHENTIK_BOOTSTRAP_TOKEN. Running
// it again with the same key changes nothing. It returns a *ConflictError
// when another token already holds key.
func (s *Store) Bootstrap(ctx context.Context, key string) error {
	err := s.bootstrap(ctx, key)
	if errors.Is(err, ErrConflict) {
		// Another replica bootstrapped at the same moment; its rows are there now.
		err = s.bootstrap(ctx, key)
	}
	return err
}

func (s *Store) bootstrap(ctx context.Context, key string) error {
	return s.write(ctx, func(wtx *writeTx) error {
		tx := wtx.db
		var u User
		err := tx.Where("username = ?", "akadmin").Take(&u).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			u = *NewUser("akadmin", true)
			u.Name = "authentik Default Admin"
			if err := tx.Create(&u).Error; err != nil {
				return fmt.Errorf("create akadmin: %w", translate(err))
			}
		case err != nil:
			return fmt.Errorf("find akadmin: %w", err)
		}
		managed := "goauthentik.io/core/token/bootstrap"
		var t Token
		err = tx.Where("managed = ?", managed).Take(&t).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			t = Token{ID: uuid.NewString(), Identifier: "authentik-bootstrap-token", Managed: &managed,
				Intent: IntentAPI, UserID: u.ID, Description: "Bootstrap token"}
		case err != nil:
			return fmt.Errorf("find bootstrap token: %w", err)
		}
		t.Key, t.Expiring, t.Expires = key, false, nil
		if err := s.sealKey(&t); err != nil {
			return err
		}
		if err := tx.Omit("User").Save(&t).Error; err != nil {
			return fmt.Errorf("save bootstrap token: %w", translate(err))
		}
		return nil
	})
}

// GetUser returns the user with id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id int64) (*User, error) {
	var u User
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("user %d: %w", id, translate(err))
	}
	return &u, nil
}

// CreateUser inserts u. It returns a *ConflictError (UniqueUserUsername,
// UniqueUserUUID) when another user has its username or uuid.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.stampNew()
	err := s.writeLeavingConnections(ctx, func(tx *writeTx) error {
		if err := tx.db.Create(u).Error; err != nil {
			return err
		}
		return tx.record(ActionModelCreated, u, nil)
	})
	if err != nil {
		return fmt.Errorf("create user: %w", translate(err))
	}
	return nil
}

// UserFilter selects users for ListUsers. Each non-nil field must equal
// the user's field of the same name.
type UserFilter struct {
	// Scope limits ordinary users to themselves.
	Scope                       Scope
	Username, Name, Email, Path *string
	UUID                        *string
	IsActive, IsSuperuser       *bool
	// Attributes holds key/value pairs the attributes must contain.
	Attributes map[string]any
	// Types lists the user types to include (any when empty).
	Types          []string
	PathStartsWith string
	// Search matches username, name or email, ignoring case.
	Search string
	// GroupNames and GroupPKs select members of those groups. Groups are
	// not modelled, so no user matches when either is given.
	GroupNames, GroupPKs []string
	// UserDates compares date_joined, last_updated and last_login.
	UserDates
	Ordering []string
}

// equalities pairs each set field of f with its column.
func (f UserFilter) equalities() []clause.Eq {
	return equalities("", eq{"email", f.Email}, eq{"is_active", f.IsActive}, eq{"is_superuser", f.IsSuperuser},
		eq{"name", f.Name}, eq{"path", f.Path}, eq{"username", f.Username}, eq{"uuid", f.UUID})
}

var userOrderColumns = map[string]clause.Column{
	"pk":           {Name: "id"},
	"username":     {Name: "username"},
	"name":         {Name: "name"},
	"email":        {Name: "email"},
	"is_active":    {Name: "is_active"},
	"is_superuser": {Name: "is_superuser"},
	"last_login":   {Name: "last_login"},
	"date_joined":  {Name: "date_joined"},
	"path":         {Name: "path"},
	"type":         {Name: "type"},
}

// ListUsers returns one page of the users matching f and their number.
func (s *Store) ListUsers(ctx context.Context, f UserFilter, p Page) ([]User, int64, error) {
	return listPage("users", s.filterUsers(s.db.WithContext(ctx).Model(&User{}), f), find[User], s.filterUsers(s.db.WithContext(ctx), f).Order(orderBy(f.Ordering, userOrderColumns, []string{"username"}, "pk")), p)
}

func (s *Store) filterUsers(q *gorm.DB, f UserFilter) *gorm.DB {
	if len(f.GroupNames) > 0 || len(f.GroupPKs) > 0 {
		return q.Where("1 = 0")
	}
	if !f.Scope.All {
		q = q.Where("users.id = ?", f.Scope.UserID)
	}
	for _, eq := range f.equalities() {
		q = q.Where(eq)
	}
	for k, v := range f.Attributes {
		q = s.whereJSONKey(q, "attributes", k, v)
	}
	if len(f.Types) > 0 {
		q = q.Where("type IN ?", dedupe(f.Types))
	}
	if f.PathStartsWith != "" {
		// substr compares exactly (case included) on both backends; LIKE would
		// ignore case on SQLite only.
		q = q.Where("substr(path, 1, ?) = ?", utf8.RuneCountInString(f.PathStartsWith), f.PathStartsWith)
	}
	if f.Search != "" {
		q = s.searchAny(q, f.Search, "username", "name", "email")
	}
	return f.UserDates.where(q)
}

// whereJSONKey matches rows whose JSON column holds key with exactly
// value, as PostgreSQL's jsonb equality does: the type must agree (1 is
// not true, "1" is not 1), numbers compare by value, and key is any
// string. SQLite walks the object's members with json_each, which needs
// no JSON path (and so no quoting of the key) and reports each member's
// type.
func (s *Store) whereJSONKey(q *gorm.DB, column, key string, value any) *gorm.DB {
	raw, _ := json.Marshal(value)
	if s.dialect == Postgres {
		return q.Where("("+column+"::jsonb -> ?) = ?::jsonb", key, string(raw))
	}
	member := "EXISTS (SELECT 1 FROM json_each(" + column + ") AS m WHERE m.key = ? AND "
	switch v := value.(type) {
	case nil:
		return q.Where(member+"m.type = 'null')", key)
	case bool:
		return q.Where(member+"m.type = ?)", key, strconv.FormatBool(v))
	case string:
		return q.Where(member+"m.type = 'text' AND m.value = ?)", key, v)
	case float64:
		return q.Where(member+"m.type IN ('integer', 'real') AND m.value = ?)", key, v)
	default: // an object or an array: compare the JSON texts
		return q.Where(member+"m.type IN ('object', 'array') AND json(m.value) = json(?))", key, string(raw))
	}
}

// UpdateUser changes the user id in one transaction, as UpdateSource
// does, and sets its last_updated; its date_joined and
// password_change_date stay. It returns ErrNotFound, change's own error or
// a *ConflictError, and writes nothing then.
func (s *Store) UpdateUser(ctx context.Context, id int64, change func(*User) error) (*User, error) {
	return updateLocked(s, ctx, userRow(id), change,
		func(tx *writeTx, u *User) error {
			u.Version++
			u.LastUpdated = time.Now().UTC().Truncate(time.Microsecond)
			return tx.db.Model(u).Select("*").Omit("id", "uuid", "date_joined", "password_change_date").Updates(u).Error
		})
}

// DeleteUser removes a user if check (nil: none) lets it; the database
// removes their tokens and connections in the same statement (ON DELETE
// CASCADE), and each removal has its event. It returns ErrNotFound or
// check's error, and removes nothing then.
func (s *Store) DeleteUser(ctx context.Context, id int64, check func(*User) error) error {
	return removeLocked(s, ctx, userRow(id), check, func(tx *writeTx, u *User) error {
		if tx.audit != nil {
			var tokens []Token
			if err := tx.db.Omit("key", "key_hash").Where("user_id = ?", u.ID).Order("identifier").Find(&tokens).Error; err != nil {
				return err
			}
			conns, err := cascadedConnections(tx.db, "user_id", u.ID)
			if err != nil {
				return err
			}
			if err := tx.recordCascade(append(removedRows(tokens), conns...)); err != nil {
				return err
			}
		}
		return tx.db.Where("id = ?", u.ID).Delete(&User{}).Error
	})
}

// userRow finds the user with id.
func userRow(id int64) row[User] {
	return row[User]{
		what: fmt.Sprintf("user %d", id),
		find: func(tx *gorm.DB) *gorm.DB { return tx.Where("id = ?", id) },
		read: take[User],
	}
}

// removedRows lists rows a cascade removes, for their events.
func removedRows[T any, P auditedRow[T]](rows []T) []audited {
	out := make([]audited, len(rows))
	for i := range rows {
		out[i] = P(&rows[i])
	}
	return out
}

// cascadedConnections reads, in tx, what the events of the connections
// whose column (user_id or source_id) is id need: the connections a
// delete of that user or source removes with it.
func cascadedConnections(tx *gorm.DB, column string, id any) ([]audited, error) {
	var conns []Connection
	if err := tx.Select("id", "user_id", "source_id").Where(column+" = ?", id).Order("id").Find(&conns).Error; err != nil {
		return nil, err
	}
	return removedRows(conns), nil
}

// OwnedBy lists the tokens and connections of a user, ordered by id.
func (s *Store) OwnedBy(ctx context.Context, userID int64) ([]Token, []Connection, error) {
	var tokens []Token
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("identifier").Find(&tokens).Error; err != nil {
		return nil, nil, fmt.Errorf("tokens of user: %w", translate(err))
	}
	var conns []Connection
	if err := s.db.WithContext(ctx).Where("user_id = ?", userID).Order("id").Find(&conns).Error; err != nil {
		return nil, nil, fmt.Errorf("connections of user: %w", translate(err))
	}
	return tokens, conns, nil
}

// dedupe drops repeated values, sorted, so that ?type=a&type=a&type=b makes
// the same SQL as ?type=b&type=a.
func dedupe(values []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	sort.Strings(out)
	return out
}
