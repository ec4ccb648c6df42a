package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Room is a chat room.
type Room struct {
	ID        int64
	Name      string // unique, URL-safe: [a-z0-9_-]{1,64}
	Title     string
	Topic     string
	CreatorID int64
	CreatedAt time.Time
	Locked    bool // read-only: the application refuses new messages
	Archived  bool // hidden from the room list; history stays readable
	SlowMode  int  // seconds between one user's posts; 0 is off (the application enforces it)
}

// NewRoom is a room to create.
type NewRoom struct {
	Name      string
	Title     string
	Topic     string
	CreatorID int64
}

// ValidRoomName reports whether name can name a room: 1 to MaxNameLen bytes
// of lower-case ASCII letters, digits, '-' and '_', so it is safe in a URL
// path without escaping.
func ValidRoomName(name string) bool {
	if name == "" || len(name) > MaxNameLen {
		return false
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

const roomColumns = `id, name, title, topic, creator_id, created_at, locked, archived, slow_mode FROM rooms`

// CreateRoom stores a new room. It fails with ErrNameTaken if the name is
// taken, ErrInvalid if it is not a ValidRoomName or the creator is unknown.
func (s *Store) CreateRoom(ctx context.Context, r NewRoom) (Room, error) {
	what := fmt.Sprintf("create room %q", r.Name)
	if !ValidRoomName(r.Name) {
		return Room{}, fmt.Errorf("%s: %w: name must match [a-z0-9_-]{1,%d}", what, ErrInvalid, MaxNameLen)
	}
	room := Room{Name: r.Name, Title: r.Title, Topic: r.Topic, CreatorID: r.CreatorID, CreatedAt: now()}
	err := s.writeTx(ctx, what, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx,
			`INSERT INTO rooms (name, title, topic, creator_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			r.Name, r.Title, r.Topic, r.CreatorID, toMillis(room.CreatedAt)).Scan(&room.ID)
	})
	return room, err
}

// RoomByID returns the room with that id, or ErrNotFound.
func (s *Store) RoomByID(ctx context.Context, id int64) (Room, error) {
	return s.queryRoom(ctx, fmt.Sprintf("room %d", id), `SELECT `+roomColumns+` WHERE id = ?`, id)
}

// RoomByName returns the room with that name, or ErrNotFound.
func (s *Store) RoomByName(ctx context.Context, name string) (Room, error) {
	return s.queryRoom(ctx, fmt.Sprintf("room %q", name), `SELECT `+roomColumns+` WHERE name = ?`, name)
}

// ListRooms returns up to limit rooms with ids above afterID, by id,
// leaving out archived rooms unless includeArchived.
func (s *Store) ListRooms(ctx context.Context, afterID int64, limit int, includeArchived bool) ([]Room, error) {
	return queryAll(ctx, s, "list rooms",
		`SELECT `+roomColumns+` WHERE id > ? AND (? OR NOT archived) ORDER BY id LIMIT ?`,
		scanRoom, afterID, includeArchived, clampLimit(limit))
}

// SetRoomTopic changes a room's title and topic. Like the other setters it
// is a RoomChange through the writer: it makes a 'room' event in commit
// order, with an audit entry in the same transaction. An unknown room is
// ErrNotFound.
func (s *Store) SetRoomTopic(ctx context.Context, actorID, roomID int64, title, topic string) error {
	return s.changeRoom(ctx, RoomChange{RoomID: roomID, ActorID: actorID, Title: &title, Topic: &topic})
}

// SetRoomLocked makes a room read-only (or writable again).
func (s *Store) SetRoomLocked(ctx context.Context, actorID, roomID int64, locked bool) error {
	return s.changeRoom(ctx, RoomChange{RoomID: roomID, ActorID: actorID, Locked: &locked})
}

// SetRoomArchived archives a room (or brings it back).
func (s *Store) SetRoomArchived(ctx context.Context, actorID, roomID int64, archived bool) error {
	return s.changeRoom(ctx, RoomChange{RoomID: roomID, ActorID: actorID, Archived: &archived})
}

// SetRoomSlowMode sets the seconds one user must wait between posts in a
// room (0: off). Enforcing it is the application's policy.
func (s *Store) SetRoomSlowMode(ctx context.Context, actorID, roomID int64, seconds int) error {
	return s.changeRoom(ctx, RoomChange{RoomID: roomID, ActorID: actorID, SlowMode: &seconds})
}

func (s *Store) changeRoom(ctx context.Context, c RoomChange) error {
	_, err := s.submitWait(ctx, c)
	return err
}

func roomTarget(id int64) string { return fmt.Sprintf("room:%d", id) }

func (s *Store) queryRoom(ctx context.Context, what, query string, args ...any) (Room, error) {
	rooms, err := queryAll(ctx, s, what, query, scanRoom, args...)
	if err != nil {
		return Room{}, err
	}
	if len(rooms) == 0 {
		return Room{}, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return rooms[0], nil
}

func scanRoom(rows *sql.Rows) (Room, error) {
	var (
		r         Room
		createdAt int64
	)
	err := rows.Scan(&r.ID, &r.Name, &r.Title, &r.Topic, &r.CreatorID, &createdAt, &r.Locked, &r.Archived, &r.SlowMode)
	r.CreatedAt = fromMillis(createdAt)
	return r, err
}
