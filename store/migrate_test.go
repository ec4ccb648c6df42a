package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(steps) < 2 || SchemaVersion() != len(steps) {
		t.Fatalf("got %d steps, SchemaVersion %d", len(steps), SchemaVersion())
	}
	for i, step := range steps {
		if step.version != i+1 {
			t.Errorf("step %d (%s) has version %d", i, step.name, step.version)
		}
	}
}

// seedAt inserts rows valid at schema version k: a user, a room and two
// messages (one soft-deleted once the columns exist), through plain SQL as
// an older binary would have.
func seedAt(t *testing.T, s *sqlHandle, k int) {
	t.Helper()
	if k < 1 {
		return
	}
	s.exec(t, `INSERT INTO users (id, name, password_hash, created_at) VALUES (1, 'old', x'00', 1000)`)
	s.exec(t, `INSERT INTO rooms (id, name, title, creator_id, created_at) VALUES (1, 'old-room', 'Old', 1, 1000)`)
	s.exec(t, `INSERT INTO messages (id, room_id, author_id, body, created_at) VALUES (1, 1, 1, 'first', 1000)`)
	s.exec(t, `INSERT INTO messages (id, room_id, author_id, body, created_at) VALUES (2, 1, 1, 'second', 2000)`)
	if k >= 3 {
		s.exec(t, `UPDATE messages SET deleted_at = 3000, deleted_by = 1 WHERE id = 2`)
		s.exec(t, `INSERT INTO audit_log (actor_id, action, target, details, created_at)
			VALUES (1, 'delete_message', 'message:2', 'old', 3000)`)
	}
	if k >= 5 {
		// From version 5 on, a binary writes each change's event with it.
		s.exec(t, `INSERT INTO events (room_id, kind, message_id, user_id, body, created_at) VALUES
			(1, 'message', 1, 1, 'first', 1000), (1, 'message', 2, 1, 'second', 2000), (1, 'delete', 2, 1, '', 3000)`)
	}
}

func TestOpenMigratesFromEveryEarlierVersion(t *testing.T) {
	steps, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for k := 0; k < len(steps); k++ {
		t.Run(fmt.Sprintf("from_v%d", k), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			old := openSQL(t, path)
			if err := migrateTo(context.Background(), old.db, steps[:k]); err != nil {
				t.Fatalf("build version %d: %v", k, err)
			}
			seedAt(t, old, k)
			old.db.Close()

			s := openTest(t, Config{Path: path})
			assertVersion(t, s, len(steps))
			last := assertBackfilled(t, s, k)
			if k >= 1 {
				assertOldRowsReadable(t, s, k)
			}
			if k >= 3 {
				audit, err := s.QueryAudit(context.Background(), AuditQuery{})
				if err != nil || len(audit) != 1 || audit[0].Address != "" || audit[0].ActorName != "old" {
					t.Errorf("migrated audit log = %+v, %v; want the old entry, no address", audit, err)
				}
			}
			f := newFixture(t, s) // every table of the newest schema works
			a := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "new", ClientKey: "k"})
			if k >= 1 && a.ID <= 2 {
				t.Errorf("new message got id %d, want above the migrated ones", a.ID)
			}
			if a.EventID <= last {
				t.Errorf("new message got event %d, want above the backfilled %d", a.EventID, last)
			}
			if _, err := s.ReportMessage(context.Background(), f.user.ID, a.ID, "spam"); err != nil {
				t.Errorf("ReportMessage: %v", err)
			}
		})
	}
}

func assertVersion(t *testing.T, s *Store, want int) {
	t.Helper()
	got, err := userVersion(context.Background(), s.readDB)
	if err != nil || got != want {
		t.Fatalf("user_version = %d, %v; want %d", got, err, want)
	}
}

func assertOldRowsReadable(t *testing.T, s *Store, k int) {
	t.Helper()
	msgs, err := s.LatestMessages(context.Background(), 1, 10, PublicView)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].Body != "first" || msgs[0].AuthorName != "old" {
		t.Fatalf("migrated messages = %+v", msgs)
	}
	wantDeleted := k >= 3
	if msgs[1].Deleted() != wantDeleted || (msgs[1].Body == "") != wantDeleted {
		t.Errorf("message 2 after migration from v%d: deleted=%v body=%q", k, msgs[1].Deleted(), msgs[1].Body)
	}
}

// assertBackfilled checks the events the migration to version 5 made for
// the rows seedAt stored: one 'message' event per message in id order, then
// a 'delete' event for the deleted one. It returns the last event id.
func assertBackfilled(t *testing.T, s *Store, k int) int64 {
	t.Helper()
	ctx := context.Background()
	evs, err := s.EventsAfter(ctx, 1, 0, 10, ModeratorView)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		kind          string
		message, user int64
		body          string
		at            int64
	}
	var want []row
	if k >= 1 {
		want = []row{{EventMessage, 1, 1, "first", 1000}, {EventMessage, 2, 1, "second", 2000}}
	}
	if k >= 3 {
		want = append(want, row{EventDelete, 2, 1, "", 3000})
	}
	var got []row
	for i, e := range evs {
		if i > 0 && e.ID <= evs[i-1].ID {
			t.Errorf("event %d follows %d", e.ID, evs[i-1].ID)
		}
		got = append(got, row{e.Kind, e.MessageID, e.UserID, e.Body, toMillis(e.CreatedAt)})
	}
	if len(want) > 0 && !slices.Equal(got, want) {
		t.Errorf("backfilled events from v%d:\n got %+v\nwant %+v", k, got, want)
	}
	if k >= 1 {
		if u, err := s.UserByID(ctx, 1); err != nil || u.Guest || u.SessionVersion != 1 {
			t.Errorf("migrated user = %+v, %v; want no guest, session version 1", u, err)
		}
		if r, err := s.RoomByID(ctx, 1); err != nil || r.SlowMode != 0 {
			t.Errorf("migrated room = %+v, %v; want slow mode off", r, err)
		}
	}
	last, err := s.LastEventID(ctx, 1)
	if err != nil || (k >= 1) != (last > 0) {
		t.Fatalf("LastEventID = %d, %v", last, err)
	}
	return last
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	s := openTest(t, Config{Path: path})
	s.Close()
	h := openSQL(t, path)
	h.exec(t, fmt.Sprintf("PRAGMA user_version = %d", SchemaVersion()+1))
	h.db.Close()

	_, err := Open(context.Background(), Config{Path: path})
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open = %v, want ErrNewerSchema", err)
	}
	want := fmt.Sprintf("schema version %d but this binary knows only up to %d", SchemaVersion()+1, SchemaVersion())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not say %q", err, want)
	}
}
