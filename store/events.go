package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event kinds.
const (
	EventMessage = "message" // a new message
	EventEdit    = "edit"    // its author changed a message's text
	EventDelete  = "delete"  // a message was soft-deleted
	EventRoom    = "room"    // the room's settings changed
)

// Event is one entry of a room's event log. Every durable change in a room
// is one event; replaying a room's events in id order rebuilds what its
// members see.
type Event struct {
	ID        int64 // cursor: strictly increasing in commit order, never reused
	RoomID    int64
	Kind      string // one of the Event* constants
	MessageID int64  // message, edit, delete; 0 for room
	UserID    int64  // author (message, edit) or actor (delete, room)
	UserName  string // filled by reads; empty in Submit results
	UserGuest bool   // filled by reads; false in Submit results
	// Body is the text of a message or edit event. Reads in PublicView leave
	// it empty once the message has been deleted.
	Body      string
	Data      string    // room: a JSON object of what changed, e.g. {"locked":true}
	ClientKey string    // message: the author's client key, if any
	CreatedAt time.Time // commit time (ms precision)
}

// A Write is one queued change that makes one event: a NewMessage,
// EditMessage, DeleteMessage or RoomChange. Writes go to Submit.
type Write interface {
	what() string    // names the write in errors
	validate() error // before queueing; an error wraps ErrInvalid
	// apply runs the write inside the batch's transaction. An error that
	// concerns only this write (isRowError, ErrNotFound, ErrForbidden) fails
	// it alone; any other aborts the batch.
	apply(b *batchTx) (Result, error)
	// savepoint says whether apply may fail alone after it changed rows, so
	// the writer must wrap it in a savepoint to undo them. A savepoint costs
	// two statements; appends, the bulk of the traffic, do without.
	savepoint() bool
}

// Result is what a Write became once its transaction committed (or failed).
type Result struct {
	// Event is the new event. For a duplicate NewMessage it is the original
	// message event (same ID, MessageID, Body, CreatedAt).
	Event Event
	// Duplicate: a NewMessage whose author had already stored its client
	// key. Nothing was written; do not broadcast it again.
	Duplicate bool
	// Err: the write failed and nothing of it was stored. It wraps
	// ErrNotFound, ErrForbidden, ErrInvalid (a broken constraint, e.g. an
	// unknown room), or for a failed transaction ErrDiskFull, ErrReadOnly,
	// ErrCorrupt or an unclassified database error.
	Err error
}

// EditMessage replaces a message's text. Only its author may edit it; the
// message must be in RoomID and not deleted.
type EditMessage struct {
	RoomID, MessageID, UserID int64
	Body                      string // must not be empty
}

// DeleteMessage soft-deletes a message in RoomID.
type DeleteMessage struct {
	RoomID, MessageID, ActorID int64
	// AsModerator false: only the author may delete. True: any message of
	// the room, with an audit entry in the same transaction.
	AsModerator bool
	Reason      string // for the audit log
	Address     string // the actor's client address, for the audit log
}

// RoomChange changes a room's settings: every non-nil field. It writes the
// rooms row, the 'room' event (Data: a JSON object of the fields set, keys
// locked, archived, slow_mode, title, topic) and an audit entry, in one
// transaction. At least one field must be set.
type RoomChange struct {
	RoomID, ActorID  int64
	Address          string // the actor's client address, for the audit log
	Locked, Archived *bool
	SlowMode         *int // seconds between one user's posts, >= 0; 0 is off
	Title, Topic     *string
}

// Submit queues w for the writer and returns at once. It fails with
// ErrInvalid for a malformed write (checked before queueing), ErrQueueFull
// when the bounded queue is full and ErrClosed after Close; done is then
// never called.
//
// Otherwise done (if not nil) is called exactly once, on the writer
// goroutine, after the transaction holding w has committed or failed.
// Across all Submits, done calls come in commit order, which is the order of
// the event ids. done must not block: the next batch waits for it. In
// particular it must not call the Store's blocking writes (AppendMessage,
// DeleteMessage, the room setters), which would wait for the writer that
// is running done; Submit from done is fine.
//
// Submit is safe from any goroutine and never blocks.
func (s *Store) Submit(w Write, done func(Result)) error {
	if w == nil {
		return fmt.Errorf("submit: %w: nil write", ErrInvalid)
	}
	if err := w.validate(); err != nil {
		return fmt.Errorf("%s: %w", w.what(), err)
	}
	if err := s.writer.enqueue(&request{w: w, done: done}); err != nil {
		return fmt.Errorf("%s: %w", w.what(), err)
	}
	return nil
}

// submitWait is Submit for the blocking methods: it waits for the result or
// ctx. A write still queued when ctx ends is skipped by the writer; one
// already in a transaction may commit.
func (s *Store) submitWait(ctx context.Context, w Write) (Result, error) {
	if err := w.validate(); err != nil {
		return Result{}, fmt.Errorf("%s: %w", w.what(), err)
	}
	ch := make(chan Result, 1) // the writer never waits for a caller that left
	if err := s.writer.enqueue(&request{ctx: ctx, w: w, done: func(r Result) { ch <- r }}); err != nil {
		return Result{}, fmt.Errorf("%s: %w", w.what(), err)
	}
	select {
	case r := <-ch:
		return r, r.Err
	case <-ctx.Done():
		return Result{}, fmt.Errorf("%s: outcome unknown: %w", w.what(), ctx.Err())
	}
}

func (b *batchTx) insertEvent(e Event) (Event, error) {
	e.CreatedAt = b.at
	msg := sql.NullInt64{Int64: e.MessageID, Valid: e.MessageID != 0}
	res, err := b.stmt(b.stmts.insertEvent).Exec(e.RoomID, e.Kind, msg, e.UserID, e.Body, e.Data, toMillis(b.at))
	if err != nil {
		return Event{}, fmt.Errorf("insert event: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return e, err
}

func (m NewMessage) what() string { return "append message" }

// apply stores m and its event, or finds the message its author already
// stored under the same client key and reports it as a duplicate.
func (m NewMessage) apply(b *batchTx) (Result, error) {
	key := sql.NullString{String: m.ClientKey, Valid: m.ClientKey != ""}
	// Exec, not a RETURNING query: the row count and rowid come back with the
	// step itself, which keeps the per-message cost inside a batch low.
	res, err := b.stmt(b.stmts.insertMessage).Exec(m.RoomID, m.AuthorID, m.Body, toMillis(b.at), key)
	if err != nil {
		return Result{}, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return Result{}, err
	}
	if n == 0 { // DO NOTHING fired: the key is taken; return the original.
		return m.original(b, key)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return Result{}, err
	}
	e, err := b.insertEvent(Event{RoomID: m.RoomID, Kind: EventMessage, MessageID: id,
		UserID: m.AuthorID, Body: m.Body, ClientKey: m.ClientKey})
	if isRowError(err) {
		// Cannot happen: the message insert just checked the room and
		// author. Were it to, the message must not commit without its
		// event, and there is no savepoint: fail the batch (%v, not %w).
		return Result{}, fmt.Errorf("message %d: %v", id, err)
	}
	return Result{Event: e}, err
}

// savepoint is false: the message insert is the only statement that can
// fail alone, and SQLite undoes a failed statement by itself.
func (NewMessage) savepoint() bool { return false }

func (EditMessage) savepoint() bool   { return true }
func (DeleteMessage) savepoint() bool { return true }
func (RoomChange) savepoint() bool    { return true }

func (m NewMessage) original(b *batchTx, key sql.NullString) (Result, error) {
	e := Event{Kind: EventMessage, UserID: m.AuthorID, ClientKey: m.ClientKey}
	var createdAt int64
	err := b.stmt(b.stmts.lookupKey).QueryRow(m.AuthorID, key).
		Scan(&e.MessageID, &e.RoomID, &e.ID, &e.Body, &createdAt)
	if err != nil {
		return Result{}, fmt.Errorf("look up client key: %w", err)
	}
	e.CreatedAt = fromMillis(createdAt)
	return Result{Event: e, Duplicate: true}, nil
}

func (e EditMessage) what() string { return fmt.Sprintf("edit message %d", e.MessageID) }

func (e EditMessage) validate() error {
	switch {
	case e.RoomID <= 0 || e.MessageID <= 0 || e.UserID <= 0:
		return fmt.Errorf("%w: room, message and user are required", ErrInvalid)
	case e.Body == "":
		return fmt.Errorf("%w: empty body", ErrInvalid)
	}
	return nil
}

func (e EditMessage) apply(b *batchTx) (Result, error) {
	res, err := b.stmt(b.stmts.editMessage).Exec(e.Body, toMillis(b.at), e.MessageID, e.RoomID, e.UserID)
	if err != nil {
		return Result{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = b.whyNoRow(e.MessageID, e.RoomID, e.UserID)
		}
		return Result{}, err
	}
	ev, err := b.insertEvent(Event{RoomID: e.RoomID, Kind: EventEdit, MessageID: e.MessageID,
		UserID: e.UserID, Body: e.Body})
	return Result{Event: ev}, err
}

// whyNoRow explains why an edit or delete of message id in room by user
// changed nothing: ErrNotFound for an unknown, foreign-room or deleted
// message, ErrForbidden for someone else's.
func (b *batchTx) whyNoRow(id, room, user int64) error {
	var (
		inRoom, author int64
		deleted        bool
	)
	err := b.stmt(b.stmts.messageOf).QueryRow(id).Scan(&inRoom, &author, &deleted)
	switch {
	case err == sql.ErrNoRows:
		return fmt.Errorf("message %d: %w", id, ErrNotFound)
	case err != nil:
		return err
	case inRoom != room:
		return fmt.Errorf("message %d is not in room %d: %w", id, room, ErrNotFound)
	case deleted:
		return fmt.Errorf("message %d is deleted: %w", id, ErrNotFound)
	case author != user:
		return fmt.Errorf("message %d is user %d's: %w", id, author, ErrForbidden)
	}
	// Unreachable: the update's conditions are the ones checked above.
	// Fail the write alone rather than its batch.
	return fmt.Errorf("message %d changed meanwhile: %w", id, ErrNotFound)
}

func (d DeleteMessage) what() string { return fmt.Sprintf("delete message %d", d.MessageID) }

func (d DeleteMessage) validate() error {
	if d.RoomID <= 0 || d.MessageID <= 0 || d.ActorID <= 0 {
		return fmt.Errorf("%w: room, message and actor are required", ErrInvalid)
	}
	return nil
}

func (d DeleteMessage) apply(b *batchTx) (Result, error) {
	res, err := b.stmt(b.stmts.deleteMessage).Exec(toMillis(b.at), d.ActorID,
		d.MessageID, d.RoomID, d.AsModerator, d.ActorID)
	if err != nil {
		return Result{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = b.whyNoRow(d.MessageID, d.RoomID, d.ActorID)
		}
		return Result{}, err
	}
	ev, err := b.insertEvent(Event{RoomID: d.RoomID, Kind: EventDelete, MessageID: d.MessageID, UserID: d.ActorID})
	if err != nil || !d.AsModerator {
		return Result{Event: ev}, err
	}
	err = b.audit(Actor{d.ActorID, d.Address}, ActionDeleteMessage, messageTarget(d.MessageID), d.Reason)
	return Result{Event: ev}, err
}

func (b *batchTx) audit(a Actor, action, target, details string) error {
	if _, err := b.stmt(b.stmts.insertAudit).Exec(a.ID, action, target, details, a.Address, toMillis(b.at)); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

func (c RoomChange) what() string { return fmt.Sprintf("change room %d", c.RoomID) }

func (c RoomChange) validate() error {
	switch {
	case c.RoomID <= 0 || c.ActorID <= 0:
		return fmt.Errorf("%w: room and actor are required", ErrInvalid)
	case c.Locked == nil && c.Archived == nil && c.SlowMode == nil && c.Title == nil && c.Topic == nil:
		return fmt.Errorf("%w: no change", ErrInvalid)
	case c.SlowMode != nil && *c.SlowMode < 0:
		return fmt.Errorf("%w: negative slow mode", ErrInvalid)
	}
	return nil
}

// roomData is a RoomChange's event Data: only the fields set, in this order.
type roomData struct {
	Locked   *bool   `json:"locked,omitempty"`
	Archived *bool   `json:"archived,omitempty"`
	SlowMode *int    `json:"slow_mode,omitempty"`
	Title    *string `json:"title,omitempty"`
	Topic    *string `json:"topic,omitempty"`
}

func (c RoomChange) data() string {
	out, _ := json.Marshal(roomData{c.Locked, c.Archived, c.SlowMode, c.Title, c.Topic}) // cannot fail
	return string(out)
}

// auditEntry names the change for the audit log. A change of one setting
// keeps the action and details the single-setting methods always wrote; any
// other combination is ActionChangeRoom with the event's JSON.
func (c RoomChange) auditEntry() (action, details string) {
	switch {
	case c.Archived == nil && c.SlowMode == nil && c.Title == nil && c.Topic == nil:
		return ActionSetRoomLocked, strconv.FormatBool(*c.Locked)
	case c.Locked == nil && c.SlowMode == nil && c.Title == nil && c.Topic == nil:
		return ActionSetRoomArchived, strconv.FormatBool(*c.Archived)
	case c.Locked == nil && c.Archived == nil && c.Title == nil && c.Topic == nil:
		return ActionSetRoomSlowMode, strconv.Itoa(*c.SlowMode)
	case c.Locked == nil && c.Archived == nil && c.SlowMode == nil && c.Title != nil && c.Topic != nil:
		return ActionSetRoomTopic, *c.Title + ": " + *c.Topic
	}
	return ActionChangeRoom, c.data()
}

func (c RoomChange) apply(b *batchTx) (Result, error) {
	res, err := b.stmt(b.stmts.changeRoom).Exec(c.Locked, c.Archived, c.SlowMode, c.Title, c.Topic, c.RoomID)
	if err != nil {
		return Result{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = fmt.Errorf("room %d: %w", c.RoomID, ErrNotFound)
		}
		return Result{}, err
	}
	ev, err := b.insertEvent(Event{RoomID: c.RoomID, Kind: EventRoom, UserID: c.ActorID, Data: c.data()})
	if err != nil {
		return Result{}, err
	}
	action, details := c.auditEntry()
	return Result{Event: ev}, b.audit(Actor{c.ActorID, c.Address}, action, roomTarget(c.RoomID), details)
}

// The event reads. Each walks the (room_id, id) index from one end or from a
// given id and stops after LIMIT rows; TestQueryPlansUseIndexes keeps that
// true. The message join says whether the message has since been deleted.
const (
	eventColumns = `e.id, e.room_id, e.kind, e.message_id, e.user_id, u.name, u.guest,
		e.body, e.data, m.client_key, e.created_at, m.deleted_at IS NOT NULL
		FROM events AS e JOIN users AS u ON u.id = e.user_id
		LEFT JOIN messages AS m ON m.id = e.message_id`
	eventsAfterSQL = `SELECT ` + eventColumns + `
		WHERE e.room_id = ? AND e.id > ? ORDER BY e.id ASC LIMIT ?`
	eventsBeforeSQL = `SELECT ` + eventColumns + `
		WHERE e.room_id = ? AND e.id < ? ORDER BY e.id DESC LIMIT ?`
	lastEventSQL = `SELECT id FROM events WHERE room_id = ? ORDER BY id DESC LIMIT 1`
	eventRoomSQL = `SELECT room_id FROM events WHERE id = ?`
)

// EventsAfter returns up to limit events of a room with ids above afterID,
// oldest first: what a resuming client missed. If it returns limit events
// there may be more; ask again after the last id.
func (s *Store) EventsAfter(ctx context.Context, roomID, afterID int64, limit int, view View) ([]Event, error) {
	return s.queryEvents(ctx, "events after", view, eventsAfterSQL, roomID, afterID, clampLimit(limit))
}

// EventsBefore returns up to limit events of a room with ids below beforeID
// (zero or less: the newest page), oldest first: scroll-back.
func (s *Store) EventsBefore(ctx context.Context, roomID, beforeID int64, limit int, view View) ([]Event, error) {
	if beforeID <= 0 {
		beforeID = maxID
	}
	evs, err := s.queryEvents(ctx, "events before", view, eventsBeforeSQL, roomID, beforeID, clampLimit(limit))
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs, err
}

// LastEventID returns the id of a room's newest event, 0 if it has none
// (or there is no such room): the cursor a client starts from.
func (s *Store) LastEventID(ctx context.Context, roomID int64) (int64, error) {
	ids, err := queryAll(ctx, s, fmt.Sprintf("last event of room %d", roomID), lastEventSQL, scanInt64, roomID)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	return ids[0], nil
}

// EventRoomID returns the room an event belongs to, or ErrNotFound.
func (s *Store) EventRoomID(ctx context.Context, eventID int64) (int64, error) {
	what := fmt.Sprintf("event %d", eventID)
	ids, err := queryAll(ctx, s, what, eventRoomSQL, scanInt64, eventID)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, fmt.Errorf("%s: %w", what, ErrNotFound)
	}
	return ids[0], nil
}

func scanInt64(rows *sql.Rows) (int64, error) {
	var v int64
	err := rows.Scan(&v)
	return v, err
}

func (s *Store) queryEvents(ctx context.Context, what string, view View, query string, args ...any) ([]Event, error) {
	scan := func(rows *sql.Rows) (Event, error) { return scanEvent(rows, view) }
	return queryAll(ctx, s, what, query, scan, args...)
}

func scanEvent(rows *sql.Rows, view View) (Event, error) {
	var (
		e         Event
		messageID sql.NullInt64
		key       sql.NullString
		createdAt int64
		deleted   bool
	)
	err := rows.Scan(&e.ID, &e.RoomID, &e.Kind, &messageID, &e.UserID, &e.UserName, &e.UserGuest,
		&e.Body, &e.Data, &key, &createdAt, &deleted)
	e.MessageID = messageID.Int64
	if e.Kind == EventMessage {
		e.ClientKey = key.String
	}
	e.CreatedAt = fromMillis(createdAt)
	if deleted && view != ModeratorView {
		e.Body = ""
	}
	return e, err
}

// MessageByKey returns the message event its author stored under a client
// key, or ErrNotFound: how an application answers a retried send with its
// original ack when it no longer remembers it (after a restart, say),
// rather than refuse a message that is in fact stored.
func (s *Store) MessageByKey(ctx context.Context, authorID int64, key string) (Event, error) {
	if err := s.checkOpen("message by key"); err != nil {
		return Event{}, err
	}
	e := Event{Kind: EventMessage, UserID: authorID, ClientKey: key}
	var createdAt int64
	err := s.readDB.QueryRowContext(ctx, lookupKeySQL, authorID, key).
		Scan(&e.MessageID, &e.RoomID, &e.ID, &e.Body, &createdAt)
	if err != nil {
		return Event{}, fmt.Errorf("message by key: %w", notFound(err))
	}
	e.CreatedAt = fromMillis(createdAt)
	return e, nil
}
