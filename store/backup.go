package store

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent snapshot of the database to path while writes
// go on. It runs VACUUM INTO on a connection of its own opened read-only
// (mode=ro): it reads one WAL snapshot and never takes the write lock, so
// appends keep committing. (The readers' query_only setting refuses VACUUM
// INTO, hence the separate connection.) The
// copy is written to a temporary file beside path, synced, and renamed over
// path, so path is either the previous backup or a complete new one.
func (s *Store) Backup(ctx context.Context, path string) error {
	if err := s.checkOpen("backup"); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.Remove(tmp); err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("backup: remove stale %s: %w", tmp, err)
	}
	if err := vacuumInto(ctx, s.cfg, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", path, classify(err))
	}
	if err := syncFile(tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fmt.Errorf("backup to %s: sync directory: %w", path, err)
	}
	return nil
}

// syncFile fsyncs a file or directory, since VACUUM INTO does not promise
// its output reached the disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func vacuumInto(ctx context.Context, cfg Config, dest string) error {
	db := openDB(cfg.backupDSN(), nil)
	defer db.Close()
	_, err := db.ExecContext(ctx, `VACUUM INTO ?`, dest)
	return err
}
