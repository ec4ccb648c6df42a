package store

import (
	"errors"
	"fmt"

	"github.com/mattn/go-sqlite3"
)

// Sentinel errors. Errors returned by a Store wrap one of these where the
// cause is known, so callers branch with errors.Is; the message keeps the
// underlying SQLite error for the log.
var (
	// ErrNotFound: the user, room, message or report does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrForbidden: not allowed, e.g. editing or deleting someone else's
	// message without DeleteMessage.AsModerator.
	ErrForbidden = errors.New("store: not allowed")
	// ErrNameTaken: a user or room with that name already exists. User names
	// compare case-insensitively.
	ErrNameTaken = errors.New("store: name taken")
	// ErrInvalid: an argument breaks a rule of the schema (empty body,
	// unknown room or author, a name that is not URL-safe, ...).
	ErrInvalid = errors.New("store: invalid argument")
	// ErrQueueFull: the writer's queue is full; the write was not queued.
	// The caller may retry later with the same client key.
	ErrQueueFull = errors.New("store: write queue full")
	// ErrClosed: the Store is closed or closing.
	ErrClosed = errors.New("store: closed")
	// ErrDiskFull: the disk, or the MaxPageCount cap, is full.
	ErrDiskFull = errors.New("store: disk full")
	// ErrReadOnly: the database file cannot be written (permissions,
	// a read-only mount, an immutable file).
	ErrReadOnly = errors.New("store: database is read-only")
	// ErrCorrupt: the file is not a database or is damaged. Restore a backup.
	ErrCorrupt = errors.New("store: database corrupt")
	// ErrNewerSchema: the database was written by a newer binary.
	ErrNewerSchema = errors.New("store: database schema is newer than this binary")
)

// classify wraps a database error with the sentinel naming its cause, if any:
// "append message: store: disk full: database or disk is full".
// An error that already names its cause is returned as it is.
func classify(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) || alreadyClassified(err) {
		return err
	}
	switch se.Code {
	case sqlite3.ErrFull:
		return fmt.Errorf("%w: %w", ErrDiskFull, err)
	case sqlite3.ErrReadonly:
		return fmt.Errorf("%w: %w", ErrReadOnly, err)
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case sqlite3.ErrConstraint:
		if se.ExtendedCode == sqlite3.ErrConstraintUnique {
			return fmt.Errorf("%w: %w", ErrNameTaken, err)
		}
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return err
}

// isRowError reports whether err concerns only the row being written (a
// broken constraint), so SQLite rolled back that one statement and the
// surrounding transaction can go on.
func isRowError(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

func alreadyClassified(err error) bool {
	return errors.Is(err, ErrDiskFull) || errors.Is(err, ErrReadOnly) ||
		errors.Is(err, ErrCorrupt) || errors.Is(err, ErrNameTaken) || errors.Is(err, ErrInvalid)
}
