package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"sort"
)

// migrationFiles holds the schema as an ordered list of steps. Step k (1-based)
// takes a database from user_version k-1 to k. Steps are append-only: once
// released, a step is never edited; a change is a new step.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded steps in order. Files are named
// NNNN_description.sql and must be numbered 1, 2, 3, ... without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	steps := make([]migration, 0, len(names))
	for i, name := range names {
		var version int
		if _, err := fmt.Sscanf(name, "migrations/%04d_", &version); err != nil || version != i+1 {
			return nil, fmt.Errorf("migration %s: want number %04d", name, i+1)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}
		steps = append(steps, migration{version: version, name: name, sql: string(body)})
	}
	return steps, nil
}

// SchemaVersion is the user_version this binary migrates databases to.
func SchemaVersion() int {
	steps, err := migrations()
	if err != nil {
		panic(err) // the embedded files are fixed at build time; a test covers them
	}
	return len(steps)
}

// migrate brings db up to the newest schema, applying only the steps after
// its current user_version, or refuses a database from a newer binary.
func migrate(ctx context.Context, db *sql.DB) error {
	steps, err := migrations()
	if err != nil {
		return err
	}
	return migrateTo(ctx, db, steps)
}

// migrateTo applies steps to db. Each step and its user_version bump commit
// in one transaction, so a crash mid-migration leaves the previous version.
func migrateTo(ctx context.Context, db *sql.DB, steps []migration) error {
	current, err := userVersion(ctx, db)
	if err != nil {
		return err
	}
	if current > len(steps) {
		return fmt.Errorf("%w: the file is at schema version %d but this binary knows only up to %d; "+
			"run a newer binary or restore a backup", ErrNewerSchema, current, len(steps))
	}
	for _, step := range steps[current:] {
		if err := applyStep(ctx, db, step); err != nil {
			return err
		}
	}
	return nil
}

func userVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", classify(err))
	}
	return v, nil
}

func applyStep(ctx context.Context, db *sql.DB, step migration) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate to version %d: %w", step.version, classify(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, step.sql); err != nil {
		return fmt.Errorf("migrate to version %d (%s): %w", step.version, step.name, classify(err))
	}
	// PRAGMA takes no parameters; the version is an int we produced.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", step.version)); err != nil {
		return fmt.Errorf("migrate to version %d: set user_version: %w", step.version, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate to version %d: commit: %w", step.version, classify(err))
	}
	return nil
}
