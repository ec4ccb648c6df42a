package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// makeReadOnly makes path impossible to open for writing, in a way that holds
// even for root: file mode 0444 when not root (root ignores mode bits),
// otherwise the immutable attribute (chattr +i), which root obeys too. Either
// way SQLite's open(O_RDWR) fails, it falls back to a read-only handle, and
// writes fail with SQLITE_READONLY, exactly as on a read-only mount.
func makeReadOnly(t *testing.T, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		if err := os.Chmod(path, 0o444); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(path, 0o644) })
	} else {
		if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
			t.Skipf("cannot make %s read-only as root: chattr +i: %v %s", path, err, out)
		}
		t.Cleanup(func() { exec.Command("chattr", "-i", path).Run() })
	}
	if f, err := os.OpenFile(path, os.O_RDWR, 0); err == nil {
		f.Close()
		t.Fatalf("%s still opens for writing", path)
	}
}

func TestReadOnlyFileFailsWritesKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ro.db")
	s := openTest(t, Config{Path: path})
	f := newFixture(t, s)
	var acked []int64
	for range 5 {
		acked = append(acked, mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "kept"}).ID)
	}
	s.Close()
	makeReadOnly(t, path)

	ro := openTest(t, Config{Path: path})
	ctx := context.Background()
	for range 2 { // the second append shows the first failure left nothing stuck
		_, err := ro.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "lost?"})
		if !errors.Is(err, ErrReadOnly) || !strings.Contains(err.Error(), "read-only") {
			t.Fatalf("append to read-only file = %v, want ErrReadOnly", err)
		}
	}
	if _, err := ro.CreateUser(ctx, "carol", []byte("h"), RoleUser); !errors.Is(err, ErrReadOnly) {
		t.Errorf("create user on read-only file = %v, want ErrReadOnly", err)
	}
	msgs, err := ro.LatestMessages(ctx, f.room.ID, 10, PublicView)
	if err != nil || len(msgs) != len(acked) {
		t.Fatalf("read-only file: read %d messages, %v; want %d", len(msgs), err, len(acked))
	}
}

// TestDiskFullFailsWritesKeepsAcknowledged caps the file at a few pages and
// appends until the cap bites. Every append acknowledged before that is
// still there after reopening with room to grow, and writing resumes.
func TestDiskFullFailsWritesKeepsAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "full.db")
	s := openTest(t, Config{Path: path, MaxPageCount: 40})
	f := newFixture(t, s)
	ctx := context.Background()
	body := strings.Repeat("x", 1000)
	var acked []int64
	var err error
	for len(acked) < 10_000 {
		var a Appended
		if a, err = s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: body}); err != nil {
			break
		}
		acked = append(acked, a.ID)
	}
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("after %d appends: err = %v, want ErrDiskFull", len(acked), err)
	}
	if len(acked) == 0 {
		t.Fatal("the cap left no room for any message")
	}
	if _, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: body}); !errors.Is(err, ErrDiskFull) {
		t.Errorf("append on a still-full disk = %v, want ErrDiskFull", err)
	}
	if got := readAll(t, s, f.room.ID); len(got) != len(acked) {
		t.Errorf("full store reads %d messages, want the %d acknowledged", len(got), len(acked))
	}
	s.Close()

	s2 := openTest(t, Config{Path: path})
	got := readAll(t, s2, f.room.ID)
	if len(got) != len(acked) {
		t.Fatalf("after reopening: %d messages, want %d", len(got), len(acked))
	}
	for i, m := range got {
		if m.ID != acked[i] || m.Body != body {
			t.Fatalf("message %d = id %d, want %d intact", i, m.ID, acked[i])
		}
	}
	mustAppend(t, s2, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "room again"})
}

func TestOpenRejectsBadConfigAndCorruptFiles(t *testing.T) {
	garbage := filepath.Join(t.TempDir(), "garbage.db")
	if err := os.WriteFile(garbage, []byte(strings.Repeat("not a database ", 1000)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		cfg  Config
		want error
	}{
		{"no path", Config{}, ErrInvalid},
		{"bad synchronous", Config{Path: filepath.Join(t.TempDir(), "x.db"), Synchronous: "SOMETIMES"}, ErrInvalid},
		{"not a database", Config{Path: garbage}, ErrCorrupt},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.cfg)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Open = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestConnectionSettings pins the durability and safety settings each pool
// actually runs with, not just what the DSN asks for.
func TestConnectionSettings(t *testing.T) {
	for _, sync := range []struct {
		cfg  Synchronous
		want int
	}{{"", 2}, {SyncNormal, 1}, {SyncOff, 0}} {
		t.Run(string(sync.cfg), func(t *testing.T) {
			s := openTest(t, Config{Synchronous: sync.cfg})
			for _, tt := range []struct {
				db     string
				pragma string
				want   string
			}{
				{"writer", "journal_mode", "wal"},
				{"writer", "synchronous", fmt.Sprint(sync.want)},
				{"writer", "foreign_keys", "1"},
				{"writer", "busy_timeout", "5000"},
				{"reader", "query_only", "1"},
				{"reader", "foreign_keys", "1"},
			} {
				db := s.writeDB
				if tt.db == "reader" {
					db = s.readDB
				}
				var got string
				if err := db.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil || got != tt.want {
					t.Errorf("%s PRAGMA %s = %q, %v; want %q", tt.db, tt.pragma, got, err, tt.want)
				}
			}
		})
	}
}

// A data directory whose name holds the characters a URI gives a meaning
// to still opens the file it names.
func TestOpenPathWithURICharacters(t *testing.T) {
	for _, dir := range []string{"a#b", "a?b", "a%20b", "a b"} {
		path := filepath.Join(t.TempDir(), dir, "chat.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		s, err := Open(context.Background(), Config{Path: path})
		if err != nil {
			t.Errorf("open %q: %v", path, err)
			continue
		}
		s.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("open %q made no file there: %v", path, err)
		}
	}
}
