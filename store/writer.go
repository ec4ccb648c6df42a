package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// writer is the group-commit loop: one goroutine owns the writer connection
// for appends, takes every request waiting in its queue (up to maxBatch),
// inserts them in one transaction, commits once, and only then answers each
// request. One fsync thus makes a whole batch durable.
type writer struct {
	db       *sql.DB
	insert   *sql.Stmt // prepared on the writer's one connection
	lookup   *sql.Stmt
	maxBatch int

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *appendRequest
	done   chan struct{} // closed when run returns
}

// appendRequest is one queued append. result has room for one value so the
// writer never blocks on a caller that stopped waiting.
type appendRequest struct {
	ctx    context.Context
	msg    NewMessage
	result chan appendResult
}

type appendResult struct {
	appended Appended
	err      error
}

const insertMessageSQL = `
INSERT INTO messages (room_id, author_id, body, created_at, client_key)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (author_id, client_key) DO NOTHING`

const lookupMessageKeySQL = `
SELECT id, created_at FROM messages WHERE author_id = ? AND client_key = ?`

func startWriter(db *sql.DB, queueSize, maxBatch int) (*writer, error) {
	insert, err := db.Prepare(insertMessageSQL)
	if err != nil {
		return nil, fmt.Errorf("prepare insert: %w", classify(err))
	}
	lookup, err := db.Prepare(lookupMessageKeySQL)
	if err != nil {
		insert.Close()
		return nil, fmt.Errorf("prepare lookup: %w", classify(err))
	}
	w := &writer{
		db:       db,
		insert:   insert,
		lookup:   lookup,
		maxBatch: maxBatch,
		queue:    make(chan *appendRequest, queueSize),
		done:     make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// enqueue hands req to the writer without blocking: a full queue is the
// caller's error to see, not a reason to wait.
func (w *writer) enqueue(req *appendRequest) error {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return ErrClosed
	}
	select {
	case w.queue <- req:
		return nil
	default:
		return ErrQueueFull
	}
}

// stop refuses new requests, waits until every queued one is committed and
// answered, and releases the statements.
func (w *writer) stop() {
	w.mu.Lock()
	w.closed = true
	close(w.queue)
	w.mu.Unlock()
	<-w.done
	w.insert.Close()
	w.lookup.Close()
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*appendRequest, 0, w.maxBatch)
	results := make([]appendResult, w.maxBatch)
	for first := range w.queue {
		batch = w.fill(append(batch[:0], first))
		w.commit(batch, results[:len(batch)])
		clear(batch) // drop references to answered requests
	}
}

// fill adds whatever is already waiting, up to maxBatch, without waiting for
// more: latency stays one commit when the queue is quiet, and batches grow
// by themselves when callers arrive faster than commits complete.
func (w *writer) fill(batch []*appendRequest) []*appendRequest {
	for len(batch) < w.maxBatch {
		select {
		case req, ok := <-w.queue:
			if !ok {
				return batch
			}
			batch = append(batch, req)
		default:
			return batch
		}
	}
	return batch
}

// commit writes batch in one transaction and answers every request. If the
// transaction fails as a whole (disk full, read-only, I/O), every request in
// it gets that error; the next batch starts afresh on a clean connection.
func (w *writer) commit(batch []*appendRequest, results []appendResult) {
	err := w.insertBatch(batch, results, now())
	for i, req := range batch {
		if err != nil {
			req.result <- appendResult{err: err}
		} else {
			req.result <- results[i]
		}
	}
}

// insertBatch inserts each request in one transaction. A row that breaks a
// constraint (unknown room, say) fails alone: SQLite rolls back just that
// statement, so its neighbours are still committed.
func (w *writer) insertBatch(batch []*appendRequest, results []appendResult, at time.Time) error {
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("append message: begin: %w", classify(err))
	}
	defer tx.Rollback() // no-op after Commit
	insert, lookup := tx.Stmt(w.insert), tx.Stmt(w.lookup)
	for i, req := range batch {
		if err := req.ctx.Err(); err != nil {
			results[i] = appendResult{err: fmt.Errorf("append message: not written: %w", err)}
			continue
		}
		appended, err := insertOne(insert, lookup, req.msg, at)
		if err != nil && !isRowError(err) {
			return fmt.Errorf("append message: %w", classify(err))
		}
		if err != nil {
			err = fmt.Errorf("append message: %w", classify(err))
		}
		results[i] = appendResult{appended: appended, err: err}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("append message: commit: %w", classify(err))
	}
	return nil
}

// insertOne stores msg, or finds the message its author already stored under
// the same client key and reports it as a duplicate.
func insertOne(insert, lookup *sql.Stmt, msg NewMessage, at time.Time) (Appended, error) {
	key := sql.NullString{String: msg.ClientKey, Valid: msg.ClientKey != ""}
	// Exec, not a RETURNING query: the row count and rowid come back with the
	// step itself, which keeps the per-message cost inside a batch low.
	res, err := insert.Exec(msg.RoomID, msg.AuthorID, msg.Body, toMillis(at), key)
	if err != nil {
		return Appended{}, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		id, idErr := res.LastInsertId()
		return Appended{ID: id, CreatedAt: at}, errors.Join(err, idErr)
	}
	// DO NOTHING fired: the key is taken; return the original.
	var id, createdAt int64
	if err := lookup.QueryRow(msg.AuthorID, key).Scan(&id, &createdAt); err != nil {
		return Appended{}, fmt.Errorf("look up client key: %w", err)
	}
	return Appended{ID: id, CreatedAt: fromMillis(createdAt), Duplicate: true}, nil
}
