package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// Store is the chat's durable history: one SQLite file, one writer connection
// fed by a bounded queue, and a pool of read-only connections.
//
// Every method is safe to call from many goroutines at once. Every method
// but Submit and WriterStats blocks until the database has answered.
type Store struct {
	cfg     Config
	writeDB *sql.DB // exactly one connection; owned by the writer and the write helpers
	readDB  *sql.DB // query_only pool of cfg.Readers connections
	writer  *writer
	closed  atomic.Bool
}

// Open opens (creating if needed) the database at cfg.Path, migrates it to
// SchemaVersion, and starts the writer. It fails with ErrNewerSchema if the
// file comes from a newer binary, ErrCorrupt if it is not a database.
func Open(ctx context.Context, cfg Config) (*Store, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	writeDB, err := openWriteDB(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
	}
	readDB := openDB(cfg.readerDSN(), nil)
	readDB.SetMaxOpenConns(cfg.Readers)
	readDB.SetMaxIdleConns(cfg.Readers)
	if err := readDB.PingContext(ctx); err != nil {
		writeDB.Close()
		readDB.Close()
		return nil, fmt.Errorf("open store %s: readers: %w", cfg.Path, classify(err))
	}
	w, err := startWriter(writeDB, cfg.QueueSize, cfg.MaxBatch)
	if err != nil {
		writeDB.Close()
		readDB.Close()
		return nil, fmt.Errorf("open store %s: %w", cfg.Path, err)
	}
	return &Store{cfg: cfg, writeDB: writeDB, readDB: readDB, writer: w}, nil
}

// openWriteDB opens the single writer connection, checks WAL took effect and
// migrates the schema.
func openWriteDB(ctx context.Context, cfg Config) (*sql.DB, error) {
	db := openDB(cfg.writerDSN(), func(conn *sqlite3.SQLiteConn) error {
		if cfg.MaxPageCount <= 0 {
			return nil
		}
		// max_page_count is per connection, so it is set on every (re)connect.
		_, err := conn.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", cfg.MaxPageCount), nil)
		return err
	})
	// One connection: SQLite allows one writer at a time anyway, and owning
	// it outright means a write never waits on SQLITE_BUSY from our own pool.
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		db.Close()
		return nil, fmt.Errorf("writer: %w", classify(err))
	}
	if mode != "wal" {
		db.Close()
		return nil, fmt.Errorf("writer: journal_mode is %q, want wal", mode)
	}
	if err := migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// Close stops accepting work, lets the writer commit and answer every write
// already queued, then closes the connections. Later calls return ErrClosed.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	s.writer.stop()
	return errors.Join(s.readDB.Close(), s.writeDB.Close())
}

// QueueLen is the number of writes waiting for the writer, for metrics.
func (s *Store) QueueLen() int { return len(s.writer.queue) }

// connector opens go-sqlite3 connections for one DSN with an optional
// per-connection hook, without registering a driver name globally.
type connector struct {
	dsn    string
	driver *sqlite3.SQLiteDriver
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.driver.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.driver }

func openDB(dsn string, hook func(*sqlite3.SQLiteConn) error) *sql.DB {
	return sql.OpenDB(connector{dsn: dsn, driver: &sqlite3.SQLiteDriver{ConnectHook: hook}})
}

// Pagination of every list. A limit of zero or less means DefaultPageSize;
// more than MaxPageSize is cut to MaxPageSize, so no query returns an
// unbounded result.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

func clampLimit(limit int) int {
	switch {
	case limit <= 0:
		return DefaultPageSize
	case limit > MaxPageSize:
		return MaxPageSize
	}
	return limit
}

// Times are stored as Unix milliseconds; NULL means "never" (the zero Time).

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}

// now is the commit timestamp, truncated to what the database keeps so a
// returned value equals the one read back later.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// writeTx runs fn in one transaction on the writer connection. It is for the
// writes that make no event (users, guests, sessions, new rooms, roles,
// mutes, bans, reports): they are rare, and share the writer's one
// connection, queueing in database/sql between group commits. A write that
// makes an event must go through the writer's queue instead, or its event
// could commit out of the order the writer reports.
func (s *Store) writeTx(ctx context.Context, what string, fn func(tx *sql.Tx) error) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	tx, err := s.writeDB.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%s: begin: %w", what, classify(err))
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return fmt.Errorf("%s: %w", what, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%s: commit: %w", what, classify(err))
	}
	return nil
}

// checkOpen is the guard at the top of every read.
func (s *Store) checkOpen(what string) error {
	if s.closed.Load() {
		return fmt.Errorf("%s: %w", what, ErrClosed)
	}
	return nil
}

// notFound turns sql.ErrNoRows into ErrNotFound and classifies the rest.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return classify(err)
}
