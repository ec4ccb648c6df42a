package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// writer is the group-commit loop: one goroutine owns the writer connection
// for every write that makes an event, takes every request waiting in its
// queue (up to maxBatch), applies them in one transaction, commits once, and
// only then calls each request's done, in queue order. One fsync thus makes a
// whole batch durable, and because event ids are handed out in queue order
// inside the transaction and batches commit one after another, the order in
// which done is called is the order of the ids.
type writer struct {
	db       *sql.DB
	stmts    writerStmts // prepared on the writer's one connection
	maxBatch int

	mu     sync.RWMutex // guards closed against sends on a closed queue
	closed bool
	queue  chan *request
	done   chan struct{} // closed when run returns

	commits, writes atomic.Int64 // for WriterStats
	recent          commitWindow // the latest commits' times and sizes, for WriterStats
}

// request is one queued Write. ctx is nil for Submit; a blocking wrapper
// passes its own so a write whose caller gave up before its turn is skipped.
type request struct {
	ctx  context.Context
	w    Write
	done func(Result) // nil: nobody listens
}

// WriterStats are the writer's figures. Commits, Writes and QueueLen count
// since Open; Writes/Commits is the mean batch size over the whole run. The
// commit figures describe committed transactions only: a commit's time is
// from BEGIN to the end of COMMIT (the fsync included), what every write
// in the batch waited for once its turn came (time spent queued before the
// batch is not in it). The recent figures cover the last commitWindowSize
// commits, so they follow the current load rather than the whole run; all
// are zero before the first commit.
type WriterStats struct {
	Commits  int64 // transactions committed
	Writes   int64 // writes in those transactions, including ones that failed alone
	QueueLen int   // writes waiting now

	LastCommit time.Duration // the latest commit's time
	LastBatch  int           // writes in the latest commit
	CommitMean time.Duration // mean commit time over the recent commits
	CommitP99  time.Duration // 99th percentile of the recent commits' times (their maximum while there are at most 100)
	BatchMean  float64       // mean writes per commit over the recent commits
}

// WriterStats reads the writer's figures. Safe from any goroutine: the
// counters are atomics and the recent window is under its own lock, held
// by the writer for one append per commit.
func (s *Store) WriterStats() WriterStats {
	ws := WriterStats{
		Commits:  s.writer.commits.Load(),
		Writes:   s.writer.writes.Load(),
		QueueLen: len(s.writer.queue),
	}
	s.writer.recent.fill(&ws)
	return ws
}

// commitWindowSize is how many of the latest commits the recent figures of
// WriterStats cover.
const commitWindowSize = 256

// commitWindow is a ring of the latest commits' times and batch sizes. The
// writer goroutine records; any goroutine reads.
type commitWindow struct {
	mu      sync.Mutex
	times   [commitWindowSize]time.Duration
	batches [commitWindowSize]int
	next    int // where the next commit goes
	n       int // how many slots hold a commit
}

// record adds one committed transaction of batch writes that took d.
func (cw *commitWindow) record(d time.Duration, batch int) {
	cw.mu.Lock()
	cw.times[cw.next] = d
	cw.batches[cw.next] = batch
	cw.next = (cw.next + 1) % commitWindowSize
	cw.n = min(cw.n+1, commitWindowSize)
	cw.mu.Unlock()
}

// fill sets the commit figures of ws from the window.
func (cw *commitWindow) fill(ws *WriterStats) {
	cw.mu.Lock()
	n := cw.n
	if n == 0 {
		cw.mu.Unlock()
		return
	}
	last := (cw.next - 1 + commitWindowSize) % commitWindowSize
	ws.LastCommit, ws.LastBatch = cw.times[last], cw.batches[last]
	times := slices.Clone(cw.times[:n]) // the ring's order does not matter below
	writes := 0
	for _, b := range cw.batches[:n] {
		writes += b
	}
	cw.mu.Unlock()

	var total time.Duration
	for _, d := range times {
		total += d
	}
	ws.CommitMean = total / time.Duration(n)
	ws.BatchMean = float64(writes) / float64(n)
	slices.Sort(times)
	ws.CommitP99 = times[min(n*99/100, n-1)]
}

func startWriter(db *sql.DB, queueSize, maxBatch int) (*writer, error) {
	stmts, err := prepareWriterStmts(db)
	if err != nil {
		return nil, err
	}
	w := &writer{
		db:       db,
		stmts:    stmts,
		maxBatch: maxBatch,
		queue:    make(chan *request, queueSize),
		done:     make(chan struct{}),
	}
	go w.run()
	return w, nil
}

// enqueue hands req to the writer without blocking: a full queue is the
// caller's error to see, not a reason to wait.
func (w *writer) enqueue(req *request) error {
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
	w.stmts.close()
}

func (w *writer) run() {
	defer close(w.done)
	batch := make([]*request, 0, w.maxBatch)
	results := make([]Result, w.maxBatch)
	for first := range w.queue {
		batch = w.fill(append(batch[:0], first))
		w.commit(batch, results[:len(batch)])
		clear(batch) // drop references to answered requests
		clear(results)
	}
}

// fill adds whatever is already waiting, up to maxBatch, without waiting for
// more: latency stays one commit when the queue is quiet, and batches grow
// by themselves when callers arrive faster than commits complete.
func (w *writer) fill(batch []*request) []*request {
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

// commit applies batch in one transaction and then calls every done, in
// batch order, on this goroutine. If the transaction fails as a whole (disk
// full, read-only, I/O), every request in it gets that error; the next batch
// starts afresh on a clean connection.
func (w *writer) commit(batch []*request, results []Result) {
	start := time.Now()
	err := w.applyBatch(batch, results, now())
	if err == nil {
		w.recent.record(time.Since(start), len(batch))
		w.commits.Add(1)
		w.writes.Add(int64(len(batch)))
	}
	for i, req := range batch {
		if err != nil {
			results[i] = Result{Err: fmt.Errorf("%s: %w", req.w.what(), err)}
		}
		if req.done != nil {
			req.done(results[i])
		}
	}
}

// applyBatch applies each request in one transaction. A write that fails on
// its own row (a broken constraint, an unknown or foreign message) is rolled
// back alone, so its neighbours are still committed: by its own savepoint, or
// for a NewMessage by SQLite's statement rollback. Any other error aborts the
// whole transaction.
func (w *writer) applyBatch(batch []*request, results []Result, at time.Time) error {
	tx, err := w.db.Begin()
	if err != nil {
		return fmt.Errorf("begin: %w", classify(err))
	}
	defer tx.Rollback() // no-op after Commit
	b := &batchTx{tx: tx, stmts: &w.stmts, at: at}
	for i, req := range batch {
		if req.ctx != nil && req.ctx.Err() != nil {
			results[i] = Result{Err: fmt.Errorf("%s: not written: %w", req.w.what(), req.ctx.Err())}
			continue
		}
		res, err := b.applyOne(req.w)
		if err != nil {
			return err
		}
		results[i] = res
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", classify(err))
	}
	return nil
}

// batchTx is the transaction of one batch, with the writer's statements
// bound to it on first use.
type batchTx struct {
	tx    *sql.Tx
	stmts *writerStmts
	bound map[*sql.Stmt]*sql.Stmt
	at    time.Time // the batch's commit time: every event's created_at
}

// stmt returns s bound to the batch's transaction.
func (b *batchTx) stmt(s *sql.Stmt) *sql.Stmt {
	if t, ok := b.bound[s]; ok {
		return t
	}
	if b.bound == nil {
		b.bound = make(map[*sql.Stmt]*sql.Stmt)
	}
	t := b.tx.Stmt(s)
	b.bound[s] = t
	return t
}

// applyOne runs w, inside a savepoint if w asks for one. An error that
// concerns w alone rolls back to the savepoint and becomes w's Result; any
// other error is returned and aborts the batch.
func (b *batchTx) applyOne(w Write) (Result, error) {
	savepoint := w.savepoint()
	if savepoint {
		if _, err := b.stmt(b.stmts.savepoint).Exec(); err != nil {
			return Result{}, fmt.Errorf("savepoint: %w", classify(err))
		}
	}
	res, err := w.apply(b)
	if err != nil && !isRowError(err) && !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrForbidden) {
		return Result{}, classify(err)
	}
	if err != nil {
		res = Result{Err: fmt.Errorf("%s: %w", w.what(), classify(err))}
		if savepoint {
			if _, rbErr := b.stmt(b.stmts.rollbackTo).Exec(); rbErr != nil {
				return Result{}, fmt.Errorf("rollback to savepoint: %w", classify(rbErr))
			}
		}
	}
	if savepoint {
		if _, err := b.stmt(b.stmts.release).Exec(); err != nil {
			return Result{}, fmt.Errorf("release savepoint: %w", classify(err))
		}
	}
	return res, nil
}

// writerStmts are the statements of the write path, prepared once.
type writerStmts struct {
	savepoint, rollbackTo, release *sql.Stmt

	insertMessage, lookupKey, insertEvent *sql.Stmt
	editMessage, deleteMessage, messageOf *sql.Stmt
	changeRoom, insertAudit               *sql.Stmt
}

const (
	insertMessageSQL = `
INSERT INTO messages (room_id, author_id, body, created_at, client_key)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (author_id, client_key) DO NOTHING`

	// The original message and its 'message' event, for a duplicate key.
	lookupKeySQL = `
SELECT m.id, m.room_id, e.id, e.body, e.created_at
FROM messages AS m JOIN events AS e ON e.message_id = m.id AND e.kind = 'message'
WHERE m.author_id = ? AND m.client_key = ?`

	insertEventSQL = `
INSERT INTO events (room_id, kind, message_id, user_id, body, data, created_at)
VALUES (?, ?, ?, ?, ?, ?, ?)`

	editMessageSQL = `
UPDATE messages SET body = ?, edited_at = ?
WHERE id = ? AND room_id = ? AND author_id = ? AND deleted_at IS NULL`

	// The last two parameters: "as moderator" and the actor, who must
	// otherwise be the author.
	deleteMessageSQL = `
UPDATE messages SET deleted_at = ?, deleted_by = ?
WHERE id = ? AND room_id = ? AND deleted_at IS NULL AND (? OR author_id = ?)`

	// Why an edit or delete hit no row: unknown, elsewhere, deleted, or not
	// the actor's.
	messageOfSQL = `SELECT room_id, author_id, deleted_at IS NOT NULL FROM messages WHERE id = ?`

	// A NULL parameter leaves its column as it is.
	changeRoomSQL = `
UPDATE rooms SET locked = COALESCE(?, locked), archived = COALESCE(?, archived),
	slow_mode = COALESCE(?, slow_mode), title = COALESCE(?, title), topic = COALESCE(?, topic)
WHERE id = ?`

	insertAuditSQL = `
INSERT INTO audit_log (actor_id, action, target, details, address, created_at) VALUES (?, ?, ?, ?, ?, ?)`
)

func prepareWriterStmts(db *sql.DB) (writerStmts, error) {
	var st writerStmts
	for _, p := range []struct {
		dst   **sql.Stmt
		query string
	}{
		{&st.savepoint, `SAVEPOINT write`},
		{&st.rollbackTo, `ROLLBACK TO write`},
		{&st.release, `RELEASE write`},
		{&st.insertMessage, insertMessageSQL},
		{&st.lookupKey, lookupKeySQL},
		{&st.insertEvent, insertEventSQL},
		{&st.editMessage, editMessageSQL},
		{&st.deleteMessage, deleteMessageSQL},
		{&st.messageOf, messageOfSQL},
		{&st.changeRoom, changeRoomSQL},
		{&st.insertAudit, insertAuditSQL},
	} {
		s, err := db.Prepare(p.query)
		if err != nil {
			st.close()
			return writerStmts{}, fmt.Errorf("prepare %q: %w", p.query, classify(err))
		}
		*p.dst = s
	}
	return st, nil
}

func (st *writerStmts) close() {
	for _, s := range []*sql.Stmt{st.savepoint, st.rollbackTo, st.release,
		st.insertMessage, st.lookupKey, st.insertEvent, st.editMessage,
		st.deleteMessage, st.messageOf, st.changeRoom, st.insertAudit} {
		if s != nil {
			s.Close()
		}
	}
}
