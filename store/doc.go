// Package store is the chat application's durable layer: users, rooms,
// messages, moderation and the audit log in one SQLite file, through
// database/sql and github.com/mattn/go-sqlite3.
//
// It is the counterpart of what a Tornado application does with a database
// driver behind IOLoop.run_in_executor: plain blocking code that knows
// nothing of the loop. Every method blocks until the database has answered
// and is safe to call from many goroutines at once. The application calls it
// only from executor workers, never on the loop; appends go through a
// single-worker executor so that the order in which the loop hands messages
// over is the order in which they are queued here.
//
// Writes are durable before they are acknowledged. AppendMessage queues the
// message for one writer goroutine, which owns the only read-write
// connection and commits every message waiting in its bounded queue in one
// transaction (group commit); a caller learns its message's id only after
// that commit. Ids increase monotonically in commit order. A client-chosen
// key per message makes retries idempotent: the retry gets the original id
// back. Reads use a separate pool of query-only connections; the WAL journal
// lets them run beside the writer, and every message read walks the
// (room_id, id) index, never the whole table.
//
// Errors name their cause with sentinels callers branch on with errors.Is:
// ErrQueueFull, ErrDiskFull, ErrReadOnly, ErrCorrupt, ErrNotFound,
// ErrNameTaken, ErrInvalid, ErrNewerSchema, ErrClosed. Nothing is dropped
// silently, and a failed group commit does not affect the next one.
//
// The schema is an embedded, ordered list of SQL steps; Open migrates an
// older file and refuses a newer one. docs/store.md describes the schema,
// the durability guarantees and how to back up.
package store
