package store

// The admin dashboard's side of the store: moderation writes that record
// who did them and from which client address (the *As methods), and the
// dashboard's tables (the Query* methods), each paged by a cursor and
// bounded by clampLimit.

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrLastAdmin: the change would leave no administrator able to act
// (demoting or banning the last one who is not banned). It comes wrapped
// with what was refused.
var ErrLastAdmin = errors.New("store: the last administrator")

// ErrConflict: the action does not apply to the target's current state:
// banning a banned user, unmuting one who is not muted, resolving a
// resolved report, deleting a deleted message, giving a user the role they
// have. It always comes together with ErrInvalid (errors.Is matches both),
// so callers that only know ErrInvalid still refuse it; the web layer
// answers it with 409 Conflict rather than 400.
var ErrConflict = errors.New("store: conflict")

// conflictError is an ErrConflict that is also an ErrInvalid, worded once:
// "store: conflict: ada is already banned for good".
type conflictError struct{ why string }

func (e conflictError) Error() string { return ErrConflict.Error() + ": " + e.why }

func (e conflictError) Is(target error) bool { return target == ErrConflict || target == ErrInvalid }

func conflict(format string, args ...any) error { return conflictError{fmt.Sprintf(format, args...)} }

// Forever is the time a mute or ban "for good" lasts until: the last day
// of year 9999, which every later comparison treats as never ending.
func Forever() time.Time { return time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }

// IsForever reports whether until means "for good" (year 9999 or later).
func IsForever(until time.Time) bool { return until.Year() >= 9999 }

// Resolutions of a report, as ResolveReportAs records them.
const (
	ResolutionDeleted   = "deleted"   // the message was deleted
	ResolutionWarned    = "warned"    // its author was warned
	ResolutionDismissed = "dismissed" // nothing to do
)

func messageTarget(id int64) string { return fmt.Sprintf("message:%d", id) }

// userTx reads one user inside tx, or ErrNotFound.
func userTx(ctx context.Context, tx *sql.Tx, id int64) (User, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+userColumns+` WHERE id = ?`, id)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return User{}, err
		}
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return scanUser(rows)
}

// activeAdminsSQL counts the administrators who can act at ?: not banned.
const activeAdminsSQL = `SELECT count(*) FROM users
	WHERE role = 'admin' AND (banned_until IS NULL OR banned_until <= ?)`

// CountAdmins returns the number of administrators who are not banned now:
// the ones who can still act. The last-admin rule keeps it at one or more.
func (s *Store) CountAdmins(ctx context.Context) (int, error) {
	if err := s.checkOpen("count admins"); err != nil {
		return 0, err
	}
	var n int
	if err := s.readDB.QueryRowContext(ctx, activeAdminsSQL, toMillis(now())).Scan(&n); err != nil {
		return 0, fmt.Errorf("count admins: %w", classify(err))
	}
	return n, nil
}

// keepsAnAdmin fails with ErrLastAdmin if u is an administrator able to act
// at t and the only one: removing them (by demotion or ban) would leave
// nobody to run the server.
func keepsAnAdmin(ctx context.Context, tx *sql.Tx, u User, t time.Time) error {
	if u.Role != RoleAdmin || u.BannedAt(t) {
		return nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, activeAdminsSQL, toMillis(t)).Scan(&n); err != nil {
		return err
	}
	if n <= 1 {
		return fmt.Errorf("%w: %s is the only administrator who is not banned; make another one first", ErrLastAdmin, u.Name)
	}
	return nil
}

// SetRoleAs changes a user's role and records it (details "moderator (was
// user)") with the actor's address in the same transaction. It refuses,
// changing nothing: an unknown role or a guest (ErrInvalid), the role the
// user has (ErrConflict), demoting the last administrator able to act
// (ErrLastAdmin), an unknown user (ErrNotFound).
func (s *Store) SetRoleAs(ctx context.Context, a Actor, userID int64, role Role) error {
	return s.setRole(ctx, a, userID, role, true)
}

// setRole is SetRoleAs; strict false (the older SetRole) lets giving the
// same role again succeed, and skips the guest check as SetRole always did.
func (s *Store) setRole(ctx context.Context, a Actor, userID int64, role Role, strict bool) error {
	what := fmt.Sprintf("set role of user %d to %q", userID, role)
	if !role.valid() {
		return fmt.Errorf("%s: %w: unknown role", what, ErrInvalid)
	}
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		switch {
		case strict && u.Role == role:
			return conflict("%s is already %s", u.Name, role)
		case strict && u.Guest && role != RoleUser:
			return fmt.Errorf("%w: %s is a guest; only registered users take roles", ErrInvalid, u.Name)
		}
		if role != RoleAdmin {
			if err := keepsAnAdmin(ctx, tx, u, now()); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ? WHERE id = ?`, role, userID); err != nil {
			return err
		}
		details := string(role)
		if strict {
			details = fmt.Sprintf("%s (was %s)", role, u.Role)
		}
		return appendAudit(ctx, tx, a, ActionSetRole, userTarget(userID), details)
	})
}

// checkUntil refuses a mute or ban end that is not in the future (zero
// means lifting it and is fine).
func checkUntil(until, at time.Time) error {
	if !until.IsZero() && !until.After(at) {
		return fmt.Errorf("%w: the end %s is not in the future", ErrInvalid, until.UTC().Format(time.RFC3339))
	}
	return nil
}

// MuteAs mutes a user until the given time, with a reason, or with a zero
// time unmutes them; the audit entry (mute or unmute, "until T: reason" or
// "for good: reason") and the actor's address are written in the same
// transaction. until at or after Forever is for good. It refuses, changing
// nothing: an end not in the future (ErrInvalid), muting a muted user or
// unmuting one who is not (ErrConflict: unmute first to change a mute's
// length), an unknown user (ErrNotFound). Enforcing the mute is the
// application's policy.
func (s *Store) MuteAs(ctx context.Context, a Actor, userID int64, until time.Time, reason string) error {
	what := fmt.Sprintf("mute user %d", userID)
	if until.IsZero() {
		what = fmt.Sprintf("unmute user %d", userID)
	}
	at := now()
	if err := checkUntil(until, at); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		action := ActionMute
		switch muted := u.MutedAt(at); {
		case until.IsZero() && !muted:
			return conflict("%s is not muted", u.Name)
		case until.IsZero():
			action = ActionUnmute
		case muted:
			return conflict("%s is already muted %s", u.Name, untilWords(u.MutedUntil))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET muted_until = ?, mute_reason = ? WHERE id = ?`,
			nullMillis(until), muteReason(until, reason), userID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, action, userTarget(userID), untilDetails(until, reason))
	})
}

// muteReason is what users.mute_reason keeps: the reason while muted,
// nothing once unmuted.
func muteReason(until time.Time, reason string) string {
	if until.IsZero() {
		return ""
	}
	return reason
}

// BanAs bans a user until the given time with a reason shown to them, or
// with a zero time lifts the ban. A ban raises the user's session version
// in the same transaction as the ban and its audit entry, so every session
// cookie issued before it is refused from then on; it returns the new
// version. Lifting a ban leaves the version as it is (the old cookies stay
// dead; the user signs in again) and returns it. until at or after Forever
// is for good. It refuses, changing nothing: an end not in the future
// (ErrInvalid), banning a banned user or unbanning one who is not
// (ErrConflict), banning the last administrator able to act
// (ErrLastAdmin), an unknown user (ErrNotFound).
func (s *Store) BanAs(ctx context.Context, a Actor, userID int64, until time.Time, reason string) (int64, error) {
	what := fmt.Sprintf("ban user %d", userID)
	if until.IsZero() {
		what = fmt.Sprintf("unban user %d", userID)
	}
	at := now()
	if err := checkUntil(until, at); err != nil {
		return 0, fmt.Errorf("%s: %w", what, err)
	}
	var version int64
	err := s.writeTx(ctx, what, func(tx *sql.Tx) error {
		u, err := userTx(ctx, tx, userID)
		if err != nil {
			return err
		}
		banned := u.BannedAt(at)
		if until.IsZero() {
			if !banned {
				return conflict("%s is not banned", u.Name)
			}
			version = u.SessionVersion
			if _, err := tx.ExecContext(ctx,
				`UPDATE users SET banned_until = NULL, ban_reason = '' WHERE id = ?`, userID); err != nil {
				return err
			}
			return appendAudit(ctx, tx, a, ActionUnban, userTarget(userID), untilDetails(until, reason))
		}
		if banned {
			return conflict("%s is already banned %s", u.Name, untilWords(u.BannedUntil))
		}
		if err := keepsAnAdmin(ctx, tx, u, at); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx,
			`UPDATE users SET banned_until = ?, ban_reason = ?, session_version = session_version + 1
			 WHERE id = ? RETURNING session_version`,
			nullMillis(until), reason, userID).Scan(&version); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, ActionBan, userTarget(userID), untilDetails(until, reason))
	})
	if err != nil {
		return 0, err
	}
	return version, nil
}

// untilWords says how long a mute or ban lasts, for messages.
func untilWords(until time.Time) string {
	if IsForever(until) {
		return "for good"
	}
	return "until " + until.UTC().Format(time.RFC3339)
}

// DeleteMessageAs is DeleteMessage for the dashboard: it goes through the
// writer (a 'delete' event in commit order) and writes the audit entry
// with the actor's address in the same transaction. Unlike DeleteMessage it
// refuses a message already deleted (ErrConflict); an unknown id is
// ErrNotFound. The event is not published to connected clients: a server
// deletes through its engine (rooms.Engine.DeleteMessage), which submits a
// DeleteMessage write with the Address set and publishes the tombstone.
func (s *Store) DeleteMessageAs(ctx context.Context, a Actor, messageID int64, reason string) error {
	what := fmt.Sprintf("delete message %d", messageID)
	if err := s.checkOpen(what); err != nil {
		return err
	}
	var (
		roomID  int64
		deleted bool
	)
	err := s.readDB.QueryRowContext(ctx, `SELECT room_id, deleted_at IS NOT NULL FROM messages WHERE id = ?`,
		messageID).Scan(&roomID, &deleted)
	if err != nil {
		return fmt.Errorf("%s: %w", what, notFound(err))
	}
	if deleted {
		return fmt.Errorf("%s: %w", what, conflict("the message is already deleted"))
	}
	_, err = s.submitWait(ctx, DeleteMessage{RoomID: roomID, MessageID: messageID, ActorID: a.ID,
		AsModerator: true, Reason: reason, Address: a.Address})
	if errors.Is(err, ErrNotFound) {
		// Messages are never removed nor moved, so it was deleted meanwhile.
		return fmt.Errorf("%s: %w", what, conflict("the message is already deleted"))
	}
	return err
}

// ResolveReportAs closes an open report with a resolution (ResolutionDeleted,
// ResolutionWarned or ResolutionDismissed) and writes the audit entry with
// the actor's address in the same transaction. It records what was done; it
// does not do it (delete the message through the engine first). It refuses
// an unknown resolution (ErrInvalid), a resolved report (ErrConflict, with
// ErrInvalid) and an unknown one (ErrNotFound).
func (s *Store) ResolveReportAs(ctx context.Context, a Actor, reportID int64, resolution string) error {
	target := fmt.Sprintf("report:%d", reportID)
	what := "resolve " + target
	switch resolution {
	case ResolutionDeleted, ResolutionWarned, ResolutionDismissed:
	default:
		return fmt.Errorf("%s: %w: unknown resolution %q", what, ErrInvalid, resolution)
	}
	return s.writeTx(ctx, what, func(tx *sql.Tx) error {
		var resolved sql.NullInt64
		var was string
		err := tx.QueryRowContext(ctx, `SELECT resolved_at, resolution FROM reports WHERE id = ?`, reportID).
			Scan(&resolved, &was)
		if err != nil {
			return notFound(err)
		}
		if resolved.Valid {
			return conflict("the report was already resolved (%s)", was)
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE reports SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?`,
			toMillis(now()), a.ID, resolution, reportID); err != nil {
			return err
		}
		return appendAudit(ctx, tx, a, ActionResolveReport, target, resolution)
	})
}

// A cursor is an opaque page position: the sort it belongs to and the last
// row's sort key and id, as unpadded base64url JSON. Every sort ends with
// the id, so rows with equal keys keep one order and a page never skips
// nor repeats one, however the rows before it change.
type cursor struct {
	Sort string `json:"s"`
	Desc bool   `json:"d,omitempty"`
	Str  string `json:"k,omitempty"` // a text key (name)
	Num  int64  `json:"n,omitempty"` // a number key (joined, messages)
	ID   int64  `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c) // cannot fail
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads s ("" is the first page: ok false) and checks it was
// made for the same sort and direction.
func decodeCursor(s, sort string, desc bool) (c cursor, ok bool, err error) {
	if s == "" {
		return cursor{}, false, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Sort != sort || c.Desc != desc || c.ID <= 0 {
		return cursor{}, false, fmt.Errorf("%w: the page cursor does not belong to this list; start from the first page", ErrInvalid)
	}
	return c, true, nil
}

// UserQuery selects and orders the dashboard's users table.
type UserQuery struct {
	Search string // part of the name, ASCII case-insensitive; "" for all
	Role   Role   // "" for any role
	Guests *bool  // nil: both; true: guests only; false: registered users only
	// Muted, Banned: only users muted (banned) at Now (zero: the present).
	Muted, Banned bool
	Now           time.Time
	// Sort is "name" (the default), "joined" or "messages"; then the id.
	Sort string
	Desc bool
	// After is the next cursor of the page before ("": the first page). It
	// is valid only with the same Sort and Desc (otherwise ErrInvalid).
	After string
	Limit int // clampLimit: 1..MaxPageSize, 0 is DefaultPageSize
}

// UserRow is one row of the users table. Its PasswordHash is always nil.
type UserRow struct {
	User
	Messages int64 // messages the user ever posted, deleted ones included
}

// userSorts maps UserQuery.Sort to its key, the outer query's column.
var userSorts = map[string]string{
	"name":     "name COLLATE NOCASE",
	"joined":   "created_at",
	"messages": "messages",
}

// QueryUsers returns one page of users matching q, the cursor of the next
// page ("" after the last) and the number of users matching q on all
// pages. Costs: the count and the filters read the users table; each row's
// message count walks that user's messages in an index; sorting by
// messages counts every matching user's messages, so its cost grows with
// their history (the dashboard's one sort without an index: keeping a
// counter would cost every append a second row write).
func (s *Store) QueryUsers(ctx context.Context, q UserQuery) ([]UserRow, string, int, error) {
	const what = "query users"
	if q.Sort == "" {
		q.Sort = "name"
	}
	key, ok := userSorts[q.Sort]
	if !ok {
		return nil, "", 0, fmt.Errorf("%s: %w: unknown sort %q (name, joined or messages)", what, ErrInvalid, q.Sort)
	}
	if q.Role != "" && !q.Role.valid() {
		return nil, "", 0, fmt.Errorf("%s: %w: unknown role %q", what, ErrInvalid, q.Role)
	}
	after, hasAfter, err := decodeCursor(q.After, q.Sort, q.Desc)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", what, err)
	}
	at := q.Now
	if at.IsZero() {
		at = now()
	}
	var (
		where []string
		args  []any
	)
	if q.Search != "" {
		where, args = append(where, `u.name LIKE ? ESCAPE '\'`), append(args, "%"+escapeLike(q.Search)+"%")
	}
	if q.Role != "" {
		where, args = append(where, `u.role = ?`), append(args, q.Role)
	}
	if q.Guests != nil {
		where, args = append(where, `u.guest = ?`), append(args, *q.Guests)
	}
	if q.Muted {
		where, args = append(where, `u.muted_until > ?`), append(args, toMillis(at))
	}
	if q.Banned {
		where, args = append(where, `u.banned_until > ?`), append(args, toMillis(at))
	}
	filter := ""
	if len(where) > 0 {
		filter = " WHERE " + strings.Join(where, " AND ")
	}
	if err := s.checkOpen(what); err != nil {
		return nil, "", 0, err
	}
	var total int
	if err := s.readDB.QueryRowContext(ctx, `SELECT count(*) FROM users AS u`+filter, args...).Scan(&total); err != nil {
		return nil, "", 0, fmt.Errorf("%s: count: %w", what, classify(err))
	}

	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	page := ""
	pageArgs := append([]any(nil), args...)
	if hasAfter {
		page = fmt.Sprintf(" WHERE (%s, id) %s (?, ?)", key, cmp)
		if q.Sort == "name" {
			pageArgs = append(pageArgs, after.Str, after.ID)
		} else {
			pageArgs = append(pageArgs, after.Num, after.ID)
		}
	}
	limit := clampLimit(q.Limit)
	pageArgs = append(pageArgs, limit+1) // one more says whether a next page exists
	query := `SELECT * FROM (SELECT u.id, u.name, u.role, u.created_at, u.muted_until, u.mute_reason, u.banned_until,
		u.ban_reason, u.guest, u.session_version,
		(SELECT count(*) FROM messages WHERE author_id = u.id) AS messages
		FROM users AS u` + filter + `)` + page +
		fmt.Sprintf(` ORDER BY %s %s, id %s LIMIT ?`, key, dir, dir)
	rows, err := queryAll(ctx, s, what, query, scanUserRow, pageArgs...)
	if err != nil {
		return nil, "", 0, err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		c := cursor{Sort: q.Sort, Desc: q.Desc, ID: last.ID}
		switch q.Sort {
		case "name":
			c.Str = last.Name
		case "joined":
			c.Num = toMillis(last.CreatedAt)
		case "messages":
			c.Num = last.Messages
		}
		next = c.encode()
	}
	return rows, next, total, nil
}

func scanUserRow(rows *sql.Rows) (UserRow, error) {
	var (
		r                 UserRow
		createdAt         int64
		mutedTo, bannedTo sql.NullInt64
	)
	err := rows.Scan(&r.ID, &r.Name, &r.Role, &createdAt, &mutedTo, &r.MuteReason, &bannedTo, &r.BanReason,
		&r.Guest, &r.SessionVersion, &r.Messages)
	r.CreatedAt = fromMillis(createdAt)
	r.MutedUntil = fromNullMillis(mutedTo)
	r.BannedUntil = fromNullMillis(bannedTo)
	return r, err
}

// RoomRow is one row of the rooms table.
type RoomRow struct {
	Room
	MessagesToday int64     // messages posted since the start of `today`, deleted ones included
	LastActivity  time.Time // the time of the room's newest event; zero if none
}

// QueryRooms returns one page of rooms by name whose name or title
// contains search (ASCII case-insensitive; "" for all), leaving out
// archived ones unless includeArchived, with the next page's cursor (""
// after the last) and the number of matching rooms on all pages.
// MessagesToday counts the messages committed at or after today (zero:
// midnight UTC of the present day; pass the start of the day in the zone
// the dashboard shows). It reads only those messages: the first message of
// the day is found by a binary search on message ids, which rests on
// commit times growing with ids (they do unless the clock is set back).
func (s *Store) QueryRooms(ctx context.Context, search string, includeArchived bool, after string,
	limit int, today time.Time) ([]RoomRow, string, int, error) {
	const what = "query rooms"
	c, hasAfter, err := decodeCursor(after, "room", false)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", what, err)
	}
	if today.IsZero() {
		today = now().Truncate(24 * time.Hour)
	}
	filter := ` WHERE (? OR NOT r.archived)`
	args := []any{includeArchived}
	if search != "" {
		pattern := "%" + escapeLike(search) + "%"
		filter += ` AND (r.name LIKE ? ESCAPE '\' OR r.title LIKE ? ESCAPE '\')`
		args = append(args, pattern, pattern)
	}
	if err := s.checkOpen(what); err != nil {
		return nil, "", 0, err
	}
	var total int
	if err := s.readDB.QueryRowContext(ctx, `SELECT count(*) FROM rooms AS r`+filter, args...).Scan(&total); err != nil {
		return nil, "", 0, fmt.Errorf("%s: count: %w", what, classify(err))
	}
	first, err := s.firstMessageAt(ctx, today)
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", what, err)
	}
	pageArgs := append([]any{first, toMillis(today)}, args...)
	if hasAfter {
		filter += ` AND (r.name, r.id) > (?, ?)`
		pageArgs = append(pageArgs, c.Str, c.ID)
	}
	limit = clampLimit(limit)
	pageArgs = append(pageArgs, limit+1)
	query := `SELECT r.id, r.name, r.title, r.topic, r.creator_id, r.created_at, r.locked, r.archived, r.slow_mode,
		(SELECT count(*) FROM messages WHERE room_id = r.id AND id >= ? AND created_at >= ?),
		(SELECT created_at FROM events WHERE room_id = r.id ORDER BY id DESC LIMIT 1)
		FROM rooms AS r` + filter + ` ORDER BY r.name, r.id LIMIT ?`
	rows, err := queryAll(ctx, s, what, query, scanRoomRow, pageArgs...)
	if err != nil {
		return nil, "", 0, err
	}
	next := ""
	if len(rows) > limit {
		rows = rows[:limit]
		last := rows[limit-1]
		next = cursor{Sort: "room", Str: last.Name, ID: last.ID}.encode()
	}
	return rows, next, total, nil
}

func scanRoomRow(rows *sql.Rows) (RoomRow, error) {
	var (
		r         RoomRow
		createdAt int64
		last      sql.NullInt64
	)
	err := rows.Scan(&r.ID, &r.Name, &r.Title, &r.Topic, &r.CreatorID, &createdAt, &r.Locked, &r.Archived,
		&r.SlowMode, &r.MessagesToday, &last)
	r.CreatedAt = fromMillis(createdAt)
	r.LastActivity = fromNullMillis(last)
	return r, err
}

// firstMessageAt returns the smallest message id committed at or after t
// (above every id if none), by a binary search of primary-key lookups.
func (s *Store) firstMessageAt(ctx context.Context, t time.Time) (int64, error) {
	var newest sql.NullInt64
	if err := s.readDB.QueryRowContext(ctx, `SELECT max(id) FROM messages`).Scan(&newest); err != nil {
		return 0, fmt.Errorf("newest message: %w", classify(err))
	}
	// Invariant: every message below lo is older than t; the first message
	// at or above hi (if any) is not.
	lo, hi := int64(1), newest.Int64+1
	for lo < hi {
		mid := lo + (hi-lo)/2
		var id, at int64
		err := s.readDB.QueryRowContext(ctx,
			`SELECT id, created_at FROM messages WHERE id >= ? ORDER BY id LIMIT 1`, mid).Scan(&id, &at)
		if err != nil {
			return 0, fmt.Errorf("first message of the day: %w", classify(err))
		}
		if at >= toMillis(t) {
			hi = mid
		} else {
			lo = id + 1
		}
	}
	return lo, nil
}

// MessageQuery selects the moderators' message search.
type MessageQuery struct {
	RoomID         int64  // 0: every room
	Author         string // the author's exact name, any letter case; "" for anyone
	Text           string // part of the body, ASCII case-insensitive; "" for any
	IncludeDeleted bool   // deleted messages too (with their bodies, marked by DeletedAt)
	Before         int64  // only ids below it (0: from the newest): the last row's id pages on
	Limit          int    // clampLimit
}

// MessageRow is a message as the dashboard shows it: in ModeratorView
// (deleted bodies and deleters included; Deleted() marks them), with its
// room's name and the number of reports on it.
type MessageRow struct {
	Message
	RoomName string
	Reports  int
}

// messageRowColumns reads a MessageRow; the query may add joins and WHERE.
const messageRowColumns = `m.id, m.room_id, m.author_id, u.name, m.body, m.client_key,
		m.created_at, m.deleted_at, m.deleted_by, m.edited_at, r.name,
		(SELECT count(*) FROM reports WHERE message_id = m.id)`

const messageRowFrom = ` FROM messages AS m JOIN users AS u ON u.id = m.author_id JOIN rooms AS r ON r.id = m.room_id`

func scanMessageRow(rows *sql.Rows) (MessageRow, error) {
	var r MessageRow
	err := scanMessageRowInto(rows, &r)
	return r, err
}

func scanMessageRowInto(rows *sql.Rows, r *MessageRow, more ...any) error {
	var (
		key                  sql.NullString
		createdAt            int64
		deletedAt, deletedBy sql.NullInt64
		editedAt             sql.NullInt64
	)
	dst := append(more, &r.ID, &r.RoomID, &r.AuthorID, &r.AuthorName, &r.Body, &key,
		&createdAt, &deletedAt, &deletedBy, &editedAt, &r.RoomName, &r.Reports)
	err := rows.Scan(dst...)
	r.ClientKey = key.String
	r.CreatedAt = fromMillis(createdAt)
	r.DeletedAt = fromNullMillis(deletedAt)
	r.DeletedBy = deletedBy.Int64
	r.EditedAt = fromNullMillis(editedAt)
	return err
}

// QueryMessages is the moderators' search: up to Limit messages matching
// q, newest first. A room's search walks that room's index from Before;
// an author's reads that author's messages; a text search over every room
// walks all messages newest first until it has Limit matches, so a rare
// text costs a read of the history (the one search to narrow by room).
// An unknown author or room matches nothing.
func (s *Store) QueryMessages(ctx context.Context, q MessageQuery) ([]MessageRow, error) {
	before := q.Before
	if before <= 0 {
		before = maxID
	}
	where := []string{`m.id < ?`}
	args := []any{before}
	if q.RoomID != 0 {
		where, args = append(where, `m.room_id = ?`), append(args, q.RoomID)
	}
	if q.Author != "" {
		where, args = append(where, `m.author_id = (SELECT id FROM users WHERE name = ?)`), append(args, q.Author)
	}
	if q.Text != "" {
		where, args = append(where, `m.body LIKE ? ESCAPE '\'`), append(args, "%"+escapeLike(q.Text)+"%")
	}
	if !q.IncludeDeleted {
		where = append(where, `m.deleted_at IS NULL`)
	}
	args = append(args, clampLimit(q.Limit))
	return queryAll(ctx, s, "query messages", `SELECT `+messageRowColumns+messageRowFrom+
		` WHERE `+strings.Join(where, " AND ")+` ORDER BY m.id DESC LIMIT ?`, scanMessageRow, args...)
}

// MaxContext bounds MessageContext's around.
const MaxContext = 100

// messageContextSQL reads a message and its neighbours in its room in one
// statement, so all come from one snapshot.
const messageContextSQL = `
SELECT * FROM (SELECT ` + messageRowColumns + messageRowFrom + `
	WHERE m.room_id = (SELECT room_id FROM messages WHERE id = ?1) AND m.id < ?1 ORDER BY m.id DESC LIMIT ?2)
UNION ALL
SELECT ` + messageRowColumns + messageRowFrom + ` WHERE m.id = ?1
UNION ALL
SELECT * FROM (SELECT ` + messageRowColumns + messageRowFrom + `
	WHERE m.room_id = (SELECT room_id FROM messages WHERE id = ?1) AND m.id > ?1 ORDER BY m.id ASC LIMIT ?2)`

// MessageContext returns a message with up to `around` messages before and
// after it in its room (0..MaxContext; fewer at the start or end of the
// room), oldest first, in ModeratorView: what a moderator reads to judge a
// report. An unknown message is ErrNotFound.
func (s *Store) MessageContext(ctx context.Context, messageID int64, around int) ([]MessageRow, error) {
	what := fmt.Sprintf("context of message %d", messageID)
	around = min(max(around, 0), MaxContext)
	rows, err := queryAll(ctx, s, what, messageContextSQL, scanMessageRow, messageID, around)
	if err != nil {
		return nil, err
	}
	found := false
	for _, r := range rows {
		found = found || r.ID == messageID
	}
	if !found {
		return nil, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	// The rows before came newest first; sort all by id (at most 201).
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j].ID < rows[j-1].ID; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
	return rows, nil
}

// ReportRow is one report in the queue, with the message it flags (in
// ModeratorView) and the reporter's name.
type ReportRow struct {
	Report
	Message      MessageRow
	ReporterName string
}

// QueryReports returns up to limit reports with ids above after, oldest
// first: the open ones (open true, the moderators' queue, read by the
// reports_open index) or the resolved ones (open false), and the number of
// open reports.
func (s *Store) QueryReports(ctx context.Context, open bool, after int64, limit int) ([]ReportRow, int, error) {
	const what = "query reports"
	if err := s.checkOpen(what); err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.readDB.QueryRowContext(ctx, `SELECT count(*) FROM reports WHERE resolved_at IS NULL`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("%s: count: %w", what, classify(err))
	}
	state := `rp.resolved_at IS NULL`
	if !open {
		state = `rp.resolved_at IS NOT NULL`
	}
	rows, err := queryAll(ctx, s, what, `SELECT rp.id, rp.message_id, rp.reporter_id, rp.reason, rp.created_at,
		rp.resolved_at, rp.resolved_by, rp.resolution, ru.name, `+messageRowColumns+messageRowFrom+`
		JOIN reports AS rp ON rp.message_id = m.id JOIN users AS ru ON ru.id = rp.reporter_id
		WHERE `+state+` AND rp.id > ? ORDER BY rp.id LIMIT ?`, scanReportRow, after, clampLimit(limit))
	return rows, total, err
}

func scanReportRow(rows *sql.Rows) (ReportRow, error) {
	var (
		r                      ReportRow
		createdAt              int64
		resolvedAt, resolvedBy sql.NullInt64
	)
	err := scanMessageRowInto(rows, &r.Message, &r.ID, &r.MessageID, &r.ReporterID, &r.Reason, &createdAt,
		&resolvedAt, &resolvedBy, &r.Resolution, &r.ReporterName)
	r.CreatedAt = fromMillis(createdAt)
	r.ResolvedAt = fromNullMillis(resolvedAt)
	r.ResolvedBy = resolvedBy.Int64
	return r, err
}

// AuditQuery selects audit entries; zero fields do not filter.
type AuditQuery struct {
	ActorID int64
	Target  string // exactly, e.g. "user:12"
	Action  string // one of the Action constants
	Before  int64  // only ids below it (0: from the newest): the last entry's id pages on
	Limit   int    // clampLimit
}

// QueryAudit returns up to Limit audit entries matching q, newest first,
// with ActorName filled. Each filter walks its own index (actor, target,
// action) from Before.
func (s *Store) QueryAudit(ctx context.Context, q AuditQuery) ([]AuditEntry, error) {
	before := q.Before
	if before <= 0 {
		before = maxID
	}
	where := []string{`a.id < ?`}
	args := []any{before}
	if q.ActorID != 0 {
		where, args = append(where, `a.actor_id = ?`), append(args, q.ActorID)
	}
	if q.Target != "" {
		where, args = append(where, `a.target = ?`), append(args, q.Target)
	}
	if q.Action != "" {
		where, args = append(where, `a.action = ?`), append(args, q.Action)
	}
	args = append(args, clampLimit(q.Limit))
	return queryAll(ctx, s, "query audit log", `SELECT `+auditColumns+` WHERE `+strings.Join(where, " AND ")+
		` ORDER BY a.id DESC LIMIT ?`, scanAudit, args...)
}
