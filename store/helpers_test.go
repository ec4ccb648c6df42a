package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestMain(m *testing.M) {
	// The crash test re-executes this binary as the child that gets killed.
	if os.Getenv(crashChildEnv) != "" {
		os.Exit(runCrashChild())
	}
	code := m.Run()
	removeBenchFixture()
	os.Exit(code)
}

// openTest opens a Store on a fresh file in t.TempDir() and closes it at the
// end of the test.
func openTest(t testing.TB, cfg Config) *Store {
	t.Helper()
	if cfg.Path == "" {
		cfg.Path = filepath.Join(t.TempDir(), "chat.db")
	}
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// fixture is a user, a moderator and a room to post in.
type fixture struct {
	user, mod User
	room      Room
}

func newFixture(t testing.TB, s *Store) fixture {
	t.Helper()
	ctx := context.Background()
	user, err := s.CreateUser(ctx, "alice", []byte("hash"), RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := s.CreateUser(ctx, "mod", []byte("hash"), RoleModerator)
	if err != nil {
		t.Fatal(err)
	}
	room, err := s.CreateRoom(ctx, NewRoom{Name: "lobby", Title: "Lobby", CreatorID: user.ID})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{user: user, mod: mod, room: room}
}

func mustAppend(t testing.TB, s *Store, m NewMessage) Appended {
	t.Helper()
	a, err := s.AppendMessage(context.Background(), m)
	if err != nil {
		t.Fatalf("AppendMessage(%+v): %v", m, err)
	}
	return a
}

func ids(msgs []Message) []int64 {
	out := make([]int64, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

// sqlHandle is a raw read-write connection for building old or odd files.
type sqlHandle struct{ db *sql.DB }

func openSQL(t testing.TB, path string) *sqlHandle {
	t.Helper()
	db := openDB(Config{Path: path, Synchronous: SyncFull, BusyTimeout: time.Second}.writerDSN(), nil)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return &sqlHandle{db: db}
}

func (h *sqlHandle) exec(t testing.TB, query string, args ...any) {
	t.Helper()
	if _, err := h.db.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}
