package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Actions recorded in the audit log.
const (
	ActionSetRole         = "set_role"
	ActionMute            = "mute"   // MuteUser with a zero time also writes it, details "lifted: ..."
	ActionUnmute          = "unmute" // MuteAs with a zero time
	ActionBan             = "ban"    // BanUser with a zero time also writes it, details "lifted: ..."
	ActionUnban           = "unban"  // BanAs with a zero time
	ActionDeleteMessage   = "delete_message"
	ActionSetRoomTopic    = "set_room_topic"
	ActionSetRoomLocked   = "set_room_locked"
	ActionSetRoomArchived = "set_room_archived"
	ActionSetRoomSlowMode = "set_room_slow_mode"
	ActionChangeRoom      = "change_room" // a RoomChange of several settings; details are its JSON
	ActionResolveReport   = "resolve_report"
	ActionKick            = "kick" // LogAs: a user's connections (target user:ID) or one of them (details name it)
)

// AuditEntry is one line of the append-only audit log.
type AuditEntry struct {
	ID        int64
	ActorID   int64
	ActorName string // filled by reads
	Action    string // one of the Action constants
	Target    string // "user:12", "room:3", "message:99", "report:5"
	Details   string
	// Address is the client address the action came from (Actor.Address);
	// empty for tools with no client and for entries older than schema 6.
	Address   string
	CreatedAt time.Time
}

// Actor is who performs a moderation action, as the audit log records it:
// the user and the client address the request came from (the web layer's
// idea of it, e.g. the peer or a trusted proxy's header).
type Actor struct {
	ID      int64
	Address string
}

// Report is a user's flag on a message.
type Report struct {
	ID         int64
	MessageID  int64
	ReporterID int64
	Reason     string
	CreatedAt  time.Time
	ResolvedAt time.Time // zero while open
	ResolvedBy int64
	Resolution string
}

// moderate runs one UPDATE that must hit a row and appends its audit entry,
// in one transaction: the log never misses an action that took effect.
func (s *Store) moderate(ctx context.Context, a Actor, action, target, details, update string, args ...any) error {
	return s.writeTx(ctx, action+" "+target, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, update, args...)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(ErrNotFound, err)
		}
		return appendAudit(ctx, tx, a, action, target, details)
	})
}

// appendAudit writes one audit entry inside tx, the transaction of the
// change it records.
// LogAs records an action that changes nothing stored (a kick closes
// connections, which live only in the server's memory) in the audit log.
// Actions that change the database write their entry themselves, in the
// change's transaction.
func (s *Store) LogAs(ctx context.Context, a Actor, action, target, details string) error {
	return s.writeTx(ctx, action+" "+target, func(tx *sql.Tx) error {
		return appendAudit(ctx, tx, a, action, target, details)
	})
}

func appendAudit(ctx context.Context, tx *sql.Tx, a Actor, action, target, details string) error {
	_, err := tx.ExecContext(ctx, insertAuditSQL, a.ID, action, target, details, a.Address, toMillis(now()))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// DeleteMessage soft-deletes a message as a moderator: ordinary readers no
// longer get its body. It goes through the writer like Submit, so it makes a
// 'delete' event in commit order, and records the deletion in the audit log
// in the same transaction. Deleting a deleted message changes nothing and
// succeeds; an unknown id is ErrNotFound.
func (s *Store) DeleteMessage(ctx context.Context, actorID, messageID int64, reason string) error {
	err := s.DeleteMessageAs(ctx, Actor{ID: actorID}, messageID, reason)
	if errors.Is(err, ErrConflict) {
		return nil // already deleted: nothing to change
	}
	return err
}

// existsOrNotFound returns nil if query finds a row, ErrNotFound if not.
func existsOrNotFound(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	var one int
	err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
	return notFound(err)
}

// AuditLog returns up to limit entries with ids below beforeID (zero: from
// the newest), newest first.
func (s *Store) AuditLog(ctx context.Context, beforeID int64, limit int) ([]AuditEntry, error) {
	if beforeID <= 0 {
		beforeID = maxID
	}
	return queryAll(ctx, s, "audit log",
		`SELECT `+auditColumns+` WHERE a.id < ? ORDER BY a.id DESC LIMIT ?`,
		scanAudit, beforeID, clampLimit(limit))
}

const auditColumns = `a.id, a.actor_id, COALESCE(u.name, ''), a.action, a.target, a.details, a.address, a.created_at
	FROM audit_log AS a LEFT JOIN users AS u ON u.id = a.actor_id`

func scanAudit(rows *sql.Rows) (AuditEntry, error) {
	var (
		e         AuditEntry
		createdAt int64
	)
	err := rows.Scan(&e.ID, &e.ActorID, &e.ActorName, &e.Action, &e.Target, &e.Details, &e.Address, &createdAt)
	e.CreatedAt = fromMillis(createdAt)
	return e, err
}

const reportColumns = `id, message_id, reporter_id, reason, created_at, resolved_at, resolved_by, resolution FROM reports`

// ReportMessage flags a message. A user reports a message at most once: a
// second report returns the first. An unknown message or reporter is ErrInvalid.
func (s *Store) ReportMessage(ctx context.Context, reporterID, messageID int64, reason string) (Report, error) {
	r := Report{MessageID: messageID, ReporterID: reporterID, Reason: reason, CreatedAt: now()}
	err := s.writeTx(ctx, fmt.Sprintf("report message:%d", messageID), func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx,
			`INSERT INTO reports (message_id, reporter_id, reason, created_at) VALUES (?, ?, ?, ?)
			 ON CONFLICT (message_id, reporter_id) DO NOTHING RETURNING id`,
			messageID, reporterID, reason, toMillis(r.CreatedAt)).Scan(&r.ID)
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		rows, err := tx.QueryContext(ctx,
			`SELECT `+reportColumns+` WHERE message_id = ? AND reporter_id = ?`, messageID, reporterID)
		if err != nil {
			return err
		}
		defer rows.Close()
		if !rows.Next() {
			return errors.Join(ErrNotFound, rows.Err())
		}
		r, err = scanReport(rows)
		return err
	})
	return r, err
}

// ResolveReport closes a report with the moderator's resolution and records
// it in the audit log. Resolving a resolved report keeps the first
// resolution and succeeds; an unknown id is ErrNotFound.
func (s *Store) ResolveReport(ctx context.Context, actorID, reportID int64, resolution string) error {
	target := fmt.Sprintf("report:%d", reportID)
	return s.writeTx(ctx, "resolve "+target, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			`UPDATE reports SET resolved_at = ?, resolved_by = ?, resolution = ?
			 WHERE id = ? AND resolved_at IS NULL`,
			toMillis(now()), actorID, resolution, reportID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return errors.Join(err, existsOrNotFound(ctx, tx, `SELECT 1 FROM reports WHERE id = ?`, reportID))
		}
		return appendAudit(ctx, tx, Actor{ID: actorID}, ActionResolveReport, target, resolution)
	})
}

// OpenReports returns up to limit unresolved reports with ids above
// afterID, oldest first: the moderators' queue.
func (s *Store) OpenReports(ctx context.Context, afterID int64, limit int) ([]Report, error) {
	return queryAll(ctx, s, "open reports",
		`SELECT `+reportColumns+` WHERE resolved_at IS NULL AND id > ? ORDER BY id LIMIT ?`,
		scanReport, afterID, clampLimit(limit))
}

func scanReport(rows *sql.Rows) (Report, error) {
	var (
		r                      Report
		createdAt              int64
		resolvedAt, resolvedBy sql.NullInt64
	)
	err := rows.Scan(&r.ID, &r.MessageID, &r.ReporterID, &r.Reason, &createdAt,
		&resolvedAt, &resolvedBy, &r.Resolution)
	r.CreatedAt = fromMillis(createdAt)
	r.ResolvedAt = fromNullMillis(resolvedAt)
	r.ResolvedBy = resolvedBy.Int64
	return r, err
}
