package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Role is what a user may do.
type Role string

const (
	RoleUser      Role = "user"
	RoleModerator Role = "moderator"
	RoleAdmin     Role = "admin"
)

func (r Role) valid() bool { return r == RoleUser || r == RoleModerator || r == RoleAdmin }

// User is a stored account.
type User struct {
	ID           int64
	Name         string // unique, compared case-insensitively
	PasswordHash []byte // bcrypt, computed by the caller
	Role         Role
	CreatedAt    time.Time
	MutedUntil   time.Time // zero: not muted
	MuteReason   string    // why, as the moderator gave it
	BannedUntil  time.Time // zero: not banned
	BanReason    string
	// Guest: created by CreateGuest, with no password (an empty hash).
	Guest bool
	// SessionVersion starts at 1; BumpSessionVersion raises it so that
	// session cookies issued at an older version stop being accepted.
	SessionVersion int64
}

// MutedAt reports whether the user is muted at t.
func (u User) MutedAt(t time.Time) bool { return t.Before(u.MutedUntil) }

// BannedAt reports whether the user is banned at t.
func (u User) BannedAt(t time.Time) bool { return t.Before(u.BannedUntil) }

// MaxNameLen bounds user and room names (in bytes).
const MaxNameLen = 64

const userColumns = `id, name, password_hash, role, created_at, muted_until, mute_reason, banned_until, ban_reason,
	guest, session_version FROM users`

// CreateUser stores a new user. It fails with ErrNameTaken if the name is
// taken in any letter case, ErrInvalid for an empty or overlong name, an
// empty hash or an unknown role.
func (s *Store) CreateUser(ctx context.Context, name string, passwordHash []byte, role Role) (User, error) {
	if name == "" || len(name) > MaxNameLen || len(passwordHash) == 0 || !role.valid() {
		return User{}, fmt.Errorf("create user %q: %w: need a name of 1-%d bytes, a hash and a known role",
			name, ErrInvalid, MaxNameLen)
	}
	u := User{Name: name, PasswordHash: passwordHash, Role: role, CreatedAt: now(), SessionVersion: 1}
	err := s.writeTx(ctx, fmt.Sprintf("create user %q", name), func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO users (name, password_hash, role, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
			name, passwordHash, role, toMillis(u.CreatedAt)).Scan(&u.ID)
	})
	return u, err
}

// CreateGuest stores a guest: a user with role user, Guest set and no
// password (the only kind of user with an empty hash). Guests share the
// users' name space: it fails with ErrNameTaken if any user or guest has the
// name in any letter case, ErrInvalid for an empty or overlong name.
func (s *Store) CreateGuest(ctx context.Context, name string) (User, error) {
	what := fmt.Sprintf("create guest %q", name)
	if name == "" || len(name) > MaxNameLen {
		return User{}, fmt.Errorf("%s: %w: need a name of 1-%d bytes", what, ErrInvalid, MaxNameLen)
	}
	u := User{Name: name, PasswordHash: []byte{}, Role: RoleUser, CreatedAt: now(), Guest: true, SessionVersion: 1}
	err := s.writeTx(ctx, what, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO users (name, password_hash, role, created_at, guest) VALUES (?, x'', ?, ?, 1) RETURNING id`,
			name, RoleUser, toMillis(u.CreatedAt)).Scan(&u.ID)
	})
	return u, err
}

// BumpSessionVersion raises a user's session version by one and returns the
// new value: sessions issued at an older version are no longer valid (log
// out everywhere, a password change). An unknown user is ErrNotFound.
func (s *Store) BumpSessionVersion(ctx context.Context, userID int64) (int64, error) {
	var v int64
	err := s.writeTx(ctx, fmt.Sprintf("bump session version of user %d", userID), func(tx *sql.Tx) error {
		return notFound(tx.QueryRowContext(ctx,
			`UPDATE users SET session_version = session_version + 1 WHERE id = ? RETURNING session_version`,
			userID).Scan(&v))
	})
	return v, err
}

// SetPassword replaces a registered user's password hash and raises the
// session version in the same write transaction, returning the new
// version: a password change signs out every session issued before it, and
// no session can see the new hash with the old version. An empty hash is
// ErrInvalid, and so is a guest (guests have no password); an unknown user
// is ErrNotFound.
func (s *Store) SetPassword(ctx context.Context, userID int64, passwordHash []byte) (int64, error) {
	what := fmt.Sprintf("set password of user %d", userID)
	if len(passwordHash) == 0 {
		return 0, fmt.Errorf("%s: %w: empty hash", what, ErrInvalid)
	}
	var v int64
	err := s.writeTx(ctx, what, func(tx *sql.Tx) error {
		var guest bool
		if err := notFound(tx.QueryRowContext(ctx, `SELECT guest FROM users WHERE id = ?`, userID).Scan(&guest)); err != nil {
			return err
		}
		if guest {
			return fmt.Errorf("%w: a guest has no password", ErrInvalid)
		}
		return tx.QueryRowContext(ctx,
			`UPDATE users SET password_hash = ?, session_version = session_version + 1 WHERE id = ? RETURNING session_version`,
			passwordHash, userID).Scan(&v)
	})
	return v, err
}

// UserByID returns the user with that id, or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	return s.queryUser(ctx, fmt.Sprintf("user %d", id), `SELECT `+userColumns+` WHERE id = ?`, id)
}

// UserByName returns the user with that name in any letter case, or ErrNotFound.
func (s *Store) UserByName(ctx context.Context, name string) (User, error) {
	return s.queryUser(ctx, fmt.Sprintf("user %q", name), `SELECT `+userColumns+` WHERE name = ?`, name)
}

// ListUsers returns up to limit users with ids above afterID, by id.
func (s *Store) ListUsers(ctx context.Context, afterID int64, limit int) ([]User, error) {
	return s.queryUsers(ctx, "list users",
		`SELECT `+userColumns+` WHERE id > ? ORDER BY id LIMIT ?`, afterID, clampLimit(limit))
}

// ListBanned returns up to limit users banned at t with ids above afterID, by id.
func (s *Store) ListBanned(ctx context.Context, t time.Time, afterID int64, limit int) ([]User, error) {
	return s.queryUsers(ctx, "list banned",
		`SELECT `+userColumns+` WHERE banned_until > ? AND id > ? ORDER BY id LIMIT ?`,
		toMillis(t), afterID, clampLimit(limit))
}

// ListMuted returns up to limit users muted at t with ids above afterID, by id.
func (s *Store) ListMuted(ctx context.Context, t time.Time, afterID int64, limit int) ([]User, error) {
	return s.queryUsers(ctx, "list muted",
		`SELECT `+userColumns+` WHERE muted_until > ? AND id > ? ORDER BY id LIMIT ?`,
		toMillis(t), afterID, clampLimit(limit))
}

// SetRole changes a user's role and records it in the audit log (with no
// address: it is the tools' form of SetRoleAs). Giving a user the role they
// have succeeds; demoting the last administrator able to act is
// ErrLastAdmin, an unknown role ErrInvalid, an unknown user ErrNotFound.
func (s *Store) SetRole(ctx context.Context, actorID, userID int64, role Role) error {
	return s.setRole(ctx, Actor{ID: actorID}, userID, role, false)
}

// MuteUser mutes a user until the given time (zero: unmute) and records it
// in the audit log with the reason.
func (s *Store) MuteUser(ctx context.Context, actorID, userID int64, until time.Time, reason string) error {
	return s.moderate(ctx, Actor{ID: actorID}, ActionMute, userTarget(userID), untilDetails(until, reason),
		`UPDATE users SET muted_until = ?, mute_reason = ? WHERE id = ?`, nullMillis(until), muteReason(until, reason), userID)
}

// BanUser bans a user until the given time (zero: lift the ban) with a
// reason shown to them, and records it in the audit log.
func (s *Store) BanUser(ctx context.Context, actorID, userID int64, until time.Time, reason string) error {
	return s.moderate(ctx, Actor{ID: actorID}, ActionBan, userTarget(userID), untilDetails(until, reason),
		`UPDATE users SET banned_until = ?, ban_reason = ? WHERE id = ?`, nullMillis(until), reason, userID)
}

func userTarget(id int64) string { return fmt.Sprintf("user:%d", id) }

func untilDetails(until time.Time, reason string) string {
	switch {
	case until.IsZero():
		return "lifted: " + reason
	case IsForever(until):
		return "for good: " + reason
	}
	return "until " + until.UTC().Format(time.RFC3339) + ": " + reason
}

func (s *Store) queryUser(ctx context.Context, what, query string, args ...any) (User, error) {
	users, err := s.queryUsers(ctx, what, query, args...)
	if err != nil {
		return User{}, err
	}
	if len(users) == 0 {
		return User{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return users[0], nil
}

func (s *Store) queryUsers(ctx context.Context, what, query string, args ...any) ([]User, error) {
	return queryAll(ctx, s, what, query, scanUser, args...)
}

func scanUser(rows *sql.Rows) (User, error) {
	var (
		u                 User
		createdAt         int64
		mutedTo, bannedTo sql.NullInt64
	)
	err := rows.Scan(&u.ID, &u.Name, &u.PasswordHash, &u.Role, &createdAt, &mutedTo, &u.MuteReason, &bannedTo, &u.BanReason,
		&u.Guest, &u.SessionVersion)
	u.CreatedAt = fromMillis(createdAt)
	u.MutedUntil = fromNullMillis(mutedTo)
	u.BannedUntil = fromNullMillis(bannedTo)
	return u, err
}

// queryAll runs a read on the reader pool and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, what, query string,
	scan func(*sql.Rows) (T, error), args ...any) ([]T, error) {
	if err := s.checkOpen(what); err != nil {
		return nil, err
	}
	rows, err := s.readDB.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, classify(err))
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", what, classify(err))
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, classify(err))
	}
	return out, nil
}
