package store

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Synchronous is SQLite's synchronous setting for the writer connection. It
// decides when a commit counts as durable; see docs/store.md.
type Synchronous string

const (
	// SyncFull fsyncs the write-ahead log on every commit: an acknowledged
	// message survives a power cut. The default.
	SyncFull Synchronous = "FULL"
	// SyncNormal fsyncs only at checkpoints: an acknowledged message survives
	// a process crash but the last commits may be lost on a power cut.
	SyncNormal Synchronous = "NORMAL"
	// SyncOff never fsyncs. For throwaway databases only.
	SyncOff Synchronous = "OFF"
)

// Config says how to open a Store. Only Path is required; every other zero
// value means the documented default.
type Config struct {
	// Path is the database file. It is created if missing.
	Path string

	// Synchronous is the writer's durability level. Zero means SyncFull.
	Synchronous Synchronous

	// BusyTimeout is how long a connection waits for a lock held by another
	// process before failing. Zero means 5 seconds.
	BusyTimeout time.Duration

	// QueueSize bounds the writes (Submit and its blocking wrappers) waiting
	// for the writer. A write that finds the queue full fails at once with
	// ErrQueueFull. Zero means 4096. At most QueueSize + MaxBatch writes are
	// in flight at any time.
	QueueSize int

	// MaxBatch bounds how many writes the writer commits in one transaction.
	// One means one transaction per write (no group commit). Zero means 256.
	MaxBatch int

	// Readers bounds the pool of read-only connections. Zero means 4.
	Readers int

	// MaxPageCount, if positive, caps the database size at this many pages
	// (PRAGMA max_page_count; a page is 4096 bytes by default). Writes beyond
	// it fail with ErrDiskFull. Zero means no cap beyond SQLite's own.
	MaxPageCount int
}

// Defaults for the zero values of Config.
const (
	defaultBusyTimeout = 5 * time.Second
	defaultQueueSize   = 4096
	defaultMaxBatch    = 256
	defaultReaders     = 4
)

// withDefaults returns c with every zero field replaced by its default, or an
// error naming the first invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Path == "" {
		return c, fmt.Errorf("%w: config: empty Path", ErrInvalid)
	}
	switch c.Synchronous {
	case "":
		c.Synchronous = SyncFull
	case SyncFull, SyncNormal, SyncOff:
	default:
		return c, fmt.Errorf("%w: config: unknown Synchronous %q", ErrInvalid, c.Synchronous)
	}
	if c.BusyTimeout <= 0 {
		c.BusyTimeout = defaultBusyTimeout
	}
	if c.QueueSize <= 0 {
		c.QueueSize = defaultQueueSize
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = defaultMaxBatch
	}
	if c.Readers <= 0 {
		c.Readers = defaultReaders
	}
	return c, nil
}

// writerDSN configures the one read-write connection: WAL so readers never
// block it, the chosen synchronous level, foreign keys, a busy timeout, and
// BEGIN IMMEDIATE so a transaction takes the write lock up front instead of
// failing with SQLITE_BUSY halfway through.
func (c Config) writerDSN() string {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", string(c.Synchronous))
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", fmt.Sprint(c.BusyTimeout.Milliseconds()))
	q.Set("_txlock", "immediate")
	return fileURI(c.Path) + "?" + q.Encode()
}

// readerDSN configures the read pool. query_only makes any write through a
// reader an error, so a bug cannot bypass the writer.
func (c Config) readerDSN() string {
	q := url.Values{}
	q.Set("_query_only", "1")
	q.Set("_foreign_keys", "1")
	q.Set("_busy_timeout", fmt.Sprint(c.BusyTimeout.Milliseconds()))
	return fileURI(c.Path) + "?" + q.Encode()
}

// backupDSN opens the file read-only at the OS level for VACUUM INTO.
func (c Config) backupDSN() string {
	q := url.Values{}
	q.Set("mode", "ro")
	q.Set("_busy_timeout", fmt.Sprint(c.BusyTimeout.Milliseconds()))
	return fileURI(c.Path) + "?" + q.Encode()
}

// fileURI makes path an SQLite file: URI. The characters a URI gives a
// meaning to are escaped ("%", "?", "#"): unescaped, a "#" in a directory
// name would end the path there and open another file.
func fileURI(path string) string {
	return "file:" + strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
}
