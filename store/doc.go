// Package store is the chat application's durable layer: users and guests,
// rooms, messages, each room's event log, moderation and the audit log in
// one SQLite file, through database/sql and github.com/mattn/go-sqlite3.
//
// It is the counterpart of what a Tornado application does with a database
// driver behind IOLoop.run_in_executor: plain Go that knows nothing of the
// loop. Every method is safe to call from many goroutines at once. All of
// them block until the database has answered except Submit, which never
// blocks; the application calls the store only from goroutines other than
// its event loop.
//
// Every durable change in a room is an event in the room's log: a message,
// an edit, a deletion, a change of the room's settings. An event's id is a
// cursor that increases strictly in commit order, so a client that resumes
// from its last id with EventsAfter sees everything after it, in order,
// with no gap. Every write that makes an event goes through Submit to one
// writer goroutine, which owns the only read-write connection and commits
// every write waiting in its bounded queue in one transaction (group
// commit). Only after that commit does it call each write's done callback,
// in commit order, on the writer goroutine: the application can broadcast
// events in the order it is told of them and never show a cursor that a
// later read could skip. AppendMessage, DeleteMessage and the room setters
// are blocking wrappers around Submit.
//
// Writes are durable before they are reported. A client-chosen key per
// message makes retries idempotent: the retry gets the original message and
// event back, flagged Duplicate. Reads use a separate pool of query-only
// connections; the WAL journal lets them run beside the writer, and every
// message or event read walks a (room_id, id) index, never a whole table.
//
// Errors name their cause with sentinels callers branch on with errors.Is:
// ErrQueueFull, ErrDiskFull, ErrReadOnly, ErrCorrupt, ErrNotFound,
// ErrForbidden, ErrNameTaken, ErrInvalid (with ErrConflict for an action
// that does not apply to the current state), ErrLastAdmin, ErrNewerSchema,
// ErrClosed.
// Nothing is dropped silently. A write that fails on its own row fails
// alone; a failed group commit fails each of its writes and does not affect
// the next one.
//
// The admin dashboard's moderation writes (SetRoleAs, MuteAs, BanAs,
// DeleteMessageAs, ResolveReportAs) name an Actor, the user and the client
// address, and write the audit row in the same transaction as the change;
// none may remove the last administrator who can act (ErrLastAdmin).
// Beside the server-wide mute and ban it records mutes in one room and
// bans of an address or CIDR range (MuteInRoomAs, BanAddressAs). Its
// tables (QueryUsers, QueryRooms, QueryMessages, MessageContext,
// QueryReports, QueryAudit) are bounded pages, each after a keyset cursor.
//
// The schema is an embedded, ordered list of SQL steps; Open migrates an
// older file (giving its existing messages events) and refuses a newer one.
// docs/store.md describes the schema, the event log, the durability
// guarantees and how to back up.
//
// A word for applications that serve rooms live (chat/rooms): the store
// does not know who is connected, so an event reaches clients only if the
// code that wrote it publishes it. Write events through the application's
// engine, which Submits them and publishes each after its commit. The
// blocking methods that write events (AppendMessage, DeleteMessage,
// SetRoomTopic, SetRoomLocked, SetRoomArchived, SetRoomSlowMode) are for
// tools, seeding and tests while no server runs.
package store
