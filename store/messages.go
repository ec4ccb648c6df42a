package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// NewMessage is a message to append.
type NewMessage struct {
	RoomID   int64
	AuthorID int64
	Body     string // must not be empty
	// ClientKey, if not empty, makes the append idempotent: a second append
	// by the same author with the same key stores nothing and returns the
	// first one's id. Keys are at most MaxClientKeyLen bytes.
	ClientKey string
}

// MaxClientKeyLen bounds NewMessage.ClientKey; a UUID in text is 36 bytes.
const MaxClientKeyLen = 128

// Appended is what AppendMessage returns once the message is durable.
type Appended struct {
	ID        int64 // the message's id
	EventID   int64 // its 'message' event's id (the original's, for a duplicate)
	CreatedAt time.Time
	// Duplicate is true if the author's ClientKey was already stored: ID,
	// EventID and CreatedAt are the original's and nothing new was written
	// (the caller should not broadcast it again).
	Duplicate bool
}

// Message is a stored message.
type Message struct {
	ID         int64
	RoomID     int64
	AuthorID   int64
	AuthorName string
	Body       string // empty for a deleted message unless read with ModeratorView
	ClientKey  string
	CreatedAt  time.Time
	DeletedAt  time.Time // zero unless deleted
	DeletedBy  int64     // zero unless deleted and read with ModeratorView
	EditedAt   time.Time // zero unless its author edited it; Body is the latest text
}

// Deleted reports whether the message was soft-deleted.
func (m Message) Deleted() bool { return !m.DeletedAt.IsZero() }

// View says who reads messages.
type View int

const (
	// PublicView is what room members see: a deleted message keeps its id,
	// room and time (so clients can drop it) but not its body or deleter.
	PublicView View = iota
	// ModeratorView sees deleted bodies and who deleted them.
	ModeratorView
)

func (m NewMessage) validate() error {
	switch {
	case m.RoomID <= 0 || m.AuthorID <= 0:
		return fmt.Errorf("%w: room and author are required", ErrInvalid)
	case m.Body == "":
		return fmt.Errorf("%w: empty body", ErrInvalid)
	case len(m.ClientKey) > MaxClientKeyLen:
		return fmt.Errorf("%w: client key longer than %d bytes", ErrInvalid, MaxClientKeyLen)
	}
	return nil
}

// AppendMessage is Submit for one message, waiting until the transaction
// that holds it has committed: a returned id is durable (to the Synchronous
// level). It fails at once with ErrQueueFull if the writer's queue is full.
//
// If ctx ends while the message is queued or being committed, AppendMessage
// returns ctx's error, but the message may still be stored; retrying with
// the same ClientKey returns its id.
func (s *Store) AppendMessage(ctx context.Context, m NewMessage) (Appended, error) {
	res, err := s.submitWait(ctx, m)
	if err != nil {
		return Appended{}, err
	}
	return Appended{ID: res.Event.MessageID, EventID: res.Event.ID, CreatedAt: res.Event.CreatedAt,
		Duplicate: res.Duplicate}, nil
}

// The read queries. Each walks the (room_id, id) index from one end or from
// a given id and stops after LIMIT rows; TestQueryPlans keeps that true.
const (
	messageColumns = `m.id, m.room_id, m.author_id, u.name, m.body, m.client_key,
		m.created_at, m.deleted_at, m.deleted_by, m.edited_at
		FROM messages AS m JOIN users AS u ON u.id = m.author_id`
	latestSQL = `SELECT ` + messageColumns + `
		WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`
	beforeSQL = `SELECT ` + messageColumns + `
		WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`
	afterSQL = `SELECT ` + messageColumns + `
		WHERE m.room_id = ? AND m.id > ? ORDER BY m.id ASC LIMIT ?`
	searchSQL = `SELECT ` + messageColumns + `
		WHERE m.room_id = ? AND m.id < ? AND m.body LIKE ? ESCAPE '\'
		ORDER BY m.id DESC LIMIT ?`
	messageByIDSQL = `SELECT ` + messageColumns + ` WHERE m.id = ?`
)

// LatestMessages returns a room's newest limit messages, oldest first.
func (s *Store) LatestMessages(ctx context.Context, roomID int64, limit int, view View) ([]Message, error) {
	msgs, err := s.queryMessages(ctx, "latest messages", view, latestSQL, roomID, clampLimit(limit))
	reverse(msgs)
	return msgs, err
}

// MessagesBefore returns up to limit messages with ids below beforeID,
// oldest first: the page above the oldest one a client shows (scroll-back).
func (s *Store) MessagesBefore(ctx context.Context, roomID, beforeID int64, limit int, view View) ([]Message, error) {
	msgs, err := s.queryMessages(ctx, "messages before", view, beforeSQL, roomID, beforeID, clampLimit(limit))
	reverse(msgs)
	return msgs, err
}

// MessagesAfter returns up to limit messages with ids above afterID, oldest
// first: what a reconnecting client missed. If it returns limit messages,
// there may be more; ask again after the last id.
func (s *Store) MessagesAfter(ctx context.Context, roomID, afterID int64, limit int, view View) ([]Message, error) {
	return s.queryMessages(ctx, "messages after", view, afterSQL, roomID, afterID, clampLimit(limit))
}

// SearchMessages is the moderators' search: up to limit messages of a room
// whose body contains substr (ASCII case-insensitive), newest first, with
// ids below beforeID (zero: from the newest). Deleted messages are included.
// It reads the room's history newest first until it has limit matches, so
// its cost is bounded by the room's size, never the whole table.
func (s *Store) SearchMessages(ctx context.Context, roomID int64, substr string, beforeID int64, limit int) ([]Message, error) {
	if beforeID <= 0 {
		beforeID = maxID
	}
	pattern := "%" + escapeLike(substr) + "%"
	return s.queryMessages(ctx, "search messages", ModeratorView, searchSQL, roomID, beforeID, pattern, clampLimit(limit))
}

// MessageByID returns one message, or ErrNotFound.
func (s *Store) MessageByID(ctx context.Context, id int64, view View) (Message, error) {
	msgs, err := s.queryMessages(ctx, "message by id", view, messageByIDSQL, id)
	if err != nil {
		return Message{}, err
	}
	if len(msgs) == 0 {
		return Message{}, fmt.Errorf("message %d: %w", id, ErrNotFound)
	}
	return msgs[0], nil
}

// maxID stands for "no upper bound" in id ranges.
const maxID = int64(1<<63 - 1)

// escapeLike makes s match literally inside a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Store) queryMessages(ctx context.Context, what string, view View, query string, args ...any) ([]Message, error) {
	msgs, err := queryAll(ctx, s, what, query, scanMessage, args...)
	for i := range msgs {
		msgs[i] = msgs[i].as(view)
	}
	return msgs, err
}

func scanMessage(rows *sql.Rows) (Message, error) {
	var (
		m                    Message
		key                  sql.NullString
		createdAt            int64
		deletedAt, deletedBy sql.NullInt64
		editedAt             sql.NullInt64
	)
	err := rows.Scan(&m.ID, &m.RoomID, &m.AuthorID, &m.AuthorName, &m.Body, &key,
		&createdAt, &deletedAt, &deletedBy, &editedAt)
	m.ClientKey = key.String
	m.CreatedAt = fromMillis(createdAt)
	m.DeletedAt = fromNullMillis(deletedAt)
	m.DeletedBy = deletedBy.Int64
	m.EditedAt = fromNullMillis(editedAt)
	return m, err
}

// as hides what view may not see.
func (m Message) as(view View) Message {
	if view != ModeratorView && m.Deleted() {
		m.Body = ""
		m.DeletedBy = 0
	}
	return m
}

func reverse(msgs []Message) {
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
}
