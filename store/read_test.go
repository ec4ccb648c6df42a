package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// appendN appends n messages "m1".."mn" to the fixture's room, interleaved
// with messages in a second room so room filtering is exercised.
func appendN(t *testing.T, s *Store, f fixture, n int) (room []int64) {
	t.Helper()
	other, err := s.CreateRoom(context.Background(), NewRoom{Name: "other", CreatorID: f.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= n; i++ {
		a := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprintf("m%d", i)})
		room = append(room, a.ID)
		mustAppend(t, s, NewMessage{RoomID: other.ID, AuthorID: f.user.ID, Body: "elsewhere"})
	}
	return room
}

func TestReadPages(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	id := appendN(t, s, f, 10) // id[i] is message m(i+1)
	ctx := context.Background()
	tests := []struct {
		name string
		read func() ([]Message, error)
		want []int64
	}{
		{"latest 3", func() ([]Message, error) { return s.LatestMessages(ctx, f.room.ID, 3, PublicView) }, id[7:]},
		{"latest more than exist", func() ([]Message, error) { return s.LatestMessages(ctx, f.room.ID, 100, PublicView) }, id},
		{"before the 5th", func() ([]Message, error) { return s.MessagesBefore(ctx, f.room.ID, id[4], 2, PublicView) }, id[2:4]},
		{"before the first", func() ([]Message, error) { return s.MessagesBefore(ctx, f.room.ID, id[0], 5, PublicView) }, nil},
		{"after the 7th", func() ([]Message, error) { return s.MessagesAfter(ctx, f.room.ID, id[6], 50, PublicView) }, id[7:]},
		{"after zero, limited", func() ([]Message, error) { return s.MessagesAfter(ctx, f.room.ID, 0, 4, PublicView) }, id[:4]},
		{"after the last", func() ([]Message, error) { return s.MessagesAfter(ctx, f.room.ID, id[9], 50, PublicView) }, nil},
		{"unknown room", func() ([]Message, error) { return s.LatestMessages(ctx, 999, 10, PublicView) }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(msgs); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
			for _, m := range msgs {
				if m.RoomID != f.room.ID || m.AuthorName != "alice" {
					t.Errorf("message %+v: wrong room or author", m)
				}
			}
		})
	}
}

func TestSoftDeleteHidesBodyFromReadersNotModerators(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	keep := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "keep"})
	gone := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "secret"})
	if err := s.DeleteMessage(ctx, f.mod.ID, gone.ID, "rude"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMessage(ctx, f.mod.ID, gone.ID, "again"); err != nil {
		t.Errorf("second delete: %v", err)
	}
	if err := s.DeleteMessage(ctx, f.mod.ID, 999, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("delete unknown = %v, want ErrNotFound", err)
	}
	for _, tt := range []struct {
		view          View
		wantBody      string
		wantDeletedBy int64
	}{{PublicView, "", 0}, {ModeratorView, "secret", f.mod.ID}} {
		msgs, err := s.LatestMessages(ctx, f.room.ID, 10, tt.view)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 2 || msgs[0].ID != keep.ID || msgs[0].Body != "keep" {
			t.Fatalf("view %d: %+v", tt.view, msgs)
		}
		d := msgs[1]
		if !d.Deleted() || d.Body != tt.wantBody || d.DeletedBy != tt.wantDeletedBy {
			t.Errorf("view %d: deleted message = %+v", tt.view, d)
		}
	}
	if m, _ := s.MessageByID(ctx, gone.ID, PublicView); m.Body != "" {
		t.Errorf("MessageByID public body = %q", m.Body)
	}
	log, err := s.AuditLog(ctx, 0, 10)
	if err != nil || len(log) != 1 || log[0].Action != ActionDeleteMessage ||
		log[0].Target != fmt.Sprintf("message:%d", gone.ID) || log[0].Details != "rude" {
		t.Errorf("audit log = %+v, %v; want one delete", log, err)
	}
}

func TestSearchMessages(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	var id []int64
	for _, body := range []string{"Hello world", "100% sure", "snake_case", "hello again", "100 percent"} {
		id = append(id, mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: body}).ID)
	}
	if err := s.DeleteMessage(context.Background(), f.mod.ID, id[3], ""); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		substr   string
		beforeID int64
		limit    int
		want     []int64
	}{
		{"hello", 0, 10, []int64{id[3], id[0]}}, // case-insensitive, deleted included, newest first
		{"hello", id[3], 10, []int64{id[0]}},
		{"hello", 0, 1, []int64{id[3]}},
		{"100%", 0, 10, []int64{id[1]}}, // % is literal
		{"e_c", 0, 10, []int64{id[2]}},  // _ is literal
		{"%", 0, 10, []int64{id[1]}},
		{"nothing", 0, 10, nil},
	}
	for _, tt := range tests {
		t.Run(tt.substr, func(t *testing.T) {
			msgs, err := s.SearchMessages(context.Background(), f.room.ID, tt.substr, tt.beforeID, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(msgs); !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
}

// TestQueryPlansUseIndexes pins the claim that message and event reads walk
// the (room_id, id) indexes (or a primary key) and never scan a table or sort.
func TestQueryPlansUseIndexes(t *testing.T) {
	s := openTest(t, Config{})
	for name, tt := range map[string]struct{ query, want string }{
		"latest":        {latestSQL, "SEARCH m USING INDEX messages_room_id"},
		"before":        {beforeSQL, "SEARCH m USING INDEX messages_room_id"},
		"after":         {afterSQL, "SEARCH m USING INDEX messages_room_id"},
		"search":        {searchSQL, "SEARCH m USING INDEX messages_room_id"},
		"by id":         {messageByIDSQL, "SEARCH m USING INTEGER PRIMARY KEY"},
		"events after":  {eventsAfterSQL, "SEARCH e USING INDEX events_room_id"},
		"events before": {eventsBeforeSQL, "SEARCH e USING INDEX events_room_id"},
		"last event":    {lastEventSQL, "SEARCH events USING COVERING INDEX events_room_id"},
		"event room":    {eventRoomSQL, "SEARCH events USING INTEGER PRIMARY KEY"},
		"duplicate key": {lookupKeySQL, "SEARCH e USING INDEX events_message_created"},
	} {
		t.Run(name, func(t *testing.T) {
			args := make([]any, strings.Count(tt.query, "?"))
			for i := range args {
				args[i] = 1
			}
			rows, err := s.readDB.Query("EXPLAIN QUERY PLAN "+tt.query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, unused int
				var detail string
				if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			text := strings.Join(plan, "\n")
			if strings.Contains(text, "SCAN") || strings.Contains(text, "TEMP B-TREE") ||
				!strings.Contains(text, tt.want) {
				t.Errorf("plan scans, sorts or does not say %q:\n%s", tt.want, text)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	s := openTest(t, Config{})
	ctx := context.Background()
	alice, err := s.CreateUser(ctx, "Alice", []byte("hash"), RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		hash []byte
		role Role
		want error
	}{
		{"alice", []byte("h"), RoleUser, ErrNameTaken},
		{"ALICE", []byte("h"), RoleUser, ErrNameTaken},
		{"", []byte("h"), RoleUser, ErrInvalid},
		{strings.Repeat("x", MaxNameLen+1), []byte("h"), RoleUser, ErrInvalid},
		{"bob", nil, RoleUser, ErrInvalid},
		{"bob", []byte("h"), "root", ErrInvalid},
	} {
		if _, err := s.CreateUser(ctx, tt.name, tt.hash, tt.role); !errors.Is(err, tt.want) {
			t.Errorf("CreateUser(%q, %q, %q) = %v, want %v", tt.name, tt.hash, tt.role, err, tt.want)
		}
	}
	got, err := s.UserByName(ctx, "aLiCe")
	if err != nil || got.ID != alice.ID || string(got.PasswordHash) != "hash" || !got.CreatedAt.Equal(alice.CreatedAt) {
		t.Errorf("UserByName = %+v, %v; want %+v", got, err, alice)
	}
	if _, err := s.UserByID(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("UserByID(999) = %v, want ErrNotFound", err)
	}
	for i := range 5 {
		if _, err := s.CreateUser(ctx, fmt.Sprintf("u%d", i), []byte("h"), RoleUser); err != nil {
			t.Fatal(err)
		}
	}
	page1, _ := s.ListUsers(ctx, 0, 4)
	page2, _ := s.ListUsers(ctx, page1[len(page1)-1].ID, 4)
	if len(page1) != 4 || len(page2) != 2 || page2[0].ID <= page1[3].ID {
		t.Errorf("pages of 4 over 6 users: %d then %d", len(page1), len(page2))
	}
}

func TestModerationIsAudited(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	now := time.Now()
	later := now.Add(time.Hour)
	steps := []struct {
		do     func() error
		action string
	}{
		{func() error { return s.BanUser(ctx, f.mod.ID, f.user.ID, later, "spam") }, ActionBan},
		{func() error { return s.MuteUser(ctx, f.mod.ID, f.user.ID, later, "loud") }, ActionMute},
		{func() error { return s.SetRole(ctx, f.mod.ID, f.user.ID, RoleModerator) }, ActionSetRole},
		{func() error { return s.SetRoomLocked(ctx, f.mod.ID, f.room.ID, true) }, ActionSetRoomLocked},
		{func() error { return s.SetRoomArchived(ctx, f.mod.ID, f.room.ID, true) }, ActionSetRoomArchived},
		{func() error { return s.SetRoomTopic(ctx, f.mod.ID, f.room.ID, "New", "topic") }, ActionSetRoomTopic},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
	}
	if err := s.BanUser(ctx, f.mod.ID, 999, later, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("ban unknown user = %v, want ErrNotFound", err)
	}
	log, err := s.AuditLog(ctx, 0, 100)
	if err != nil || len(log) != len(steps) {
		t.Fatalf("audit log has %d entries, %v; want %d", len(log), err, len(steps))
	}
	for i, e := range log { // newest first
		if want := steps[len(steps)-1-i].action; e.Action != want || e.ActorID != f.mod.ID {
			t.Errorf("entry %d = %+v, want action %s", i, e, want)
		}
	}
	older, _ := s.AuditLog(ctx, log[1].ID, 100)
	if len(older) != len(steps)-2 {
		t.Errorf("audit page before entry 2 has %d entries", len(older))
	}
	if _, err := s.writeDB.Exec(`DELETE FROM audit_log`); err == nil {
		t.Error("deleting from the audit log succeeded; it must be append-only")
	}

	u, _ := s.UserByID(ctx, f.user.ID)
	if !u.BannedAt(now) || u.BanReason != "spam" || !u.MutedAt(now) || u.Role != RoleModerator || u.BannedAt(later) {
		t.Errorf("user after moderation: %+v", u)
	}
	for name, list := range map[string]func() ([]User, error){
		"banned": func() ([]User, error) { return s.ListBanned(ctx, now, 0, 10) },
		"muted":  func() ([]User, error) { return s.ListMuted(ctx, now, 0, 10) },
	} {
		if got, err := list(); err != nil || len(got) != 1 || got[0].ID != f.user.ID {
			t.Errorf("%s = %+v, %v", name, got, err)
		}
	}
	if err := s.BanUser(ctx, f.mod.ID, f.user.ID, time.Time{}, "appeal"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ListBanned(ctx, now, 0, 10); len(got) != 0 {
		t.Errorf("banned after lifting: %+v", got)
	}

	r, _ := s.RoomByID(ctx, f.room.ID)
	if !r.Locked || !r.Archived || r.Title != "New" || r.Topic != "topic" {
		t.Errorf("room after moderation: %+v", r)
	}
	visible, _ := s.ListRooms(ctx, 0, 10, false)
	all, _ := s.ListRooms(ctx, 0, 10, true)
	if len(visible) != 0 || len(all) != 1 {
		t.Errorf("ListRooms: %d visible, %d in all; want 0 and 1", len(visible), len(all))
	}
}

func TestRooms(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	for _, tt := range []struct {
		room NewRoom
		want error
	}{
		{NewRoom{Name: "lobby", CreatorID: f.user.ID}, ErrNameTaken},
		{NewRoom{Name: "Lobby", CreatorID: f.user.ID}, ErrInvalid},
		{NewRoom{Name: "has space", CreatorID: f.user.ID}, ErrInvalid},
		{NewRoom{Name: "a/b", CreatorID: f.user.ID}, ErrInvalid},
		{NewRoom{Name: "", CreatorID: f.user.ID}, ErrInvalid},
		{NewRoom{Name: "ok", CreatorID: 999}, ErrInvalid},
		{NewRoom{Name: "go-lang_2", CreatorID: f.user.ID}, nil},
	} {
		if _, err := s.CreateRoom(ctx, tt.room); !errors.Is(err, tt.want) {
			t.Errorf("CreateRoom(%+v) = %v, want %v", tt.room, err, tt.want)
		}
	}
	if r, err := s.RoomByName(ctx, "lobby"); err != nil || r.ID != f.room.ID || r.Title != "Lobby" {
		t.Errorf("RoomByName = %+v, %v", r, err)
	}
	if _, err := s.RoomByName(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("RoomByName(nope) = %v, want ErrNotFound", err)
	}
}

func TestReports(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	m := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "bad"})
	r1, err := s.ReportMessage(ctx, f.mod.ID, m.ID, "offensive")
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.ReportMessage(ctx, f.mod.ID, m.ID, "still offensive")
	if err != nil || again.ID != r1.ID || again.Reason != "offensive" {
		t.Errorf("second report = %+v, %v; want the first", again, err)
	}
	if _, err := s.ReportMessage(ctx, f.mod.ID, 999, ""); !errors.Is(err, ErrInvalid) {
		t.Errorf("report unknown message = %v, want ErrInvalid", err)
	}
	r2, _ := s.ReportMessage(ctx, f.user.ID, m.ID, "mine")
	open, _ := s.OpenReports(ctx, 0, 10)
	if !slices.Equal(reportIDs(open), []int64{r1.ID, r2.ID}) {
		t.Fatalf("open reports %v", reportIDs(open))
	}
	if err := s.ResolveReport(ctx, f.mod.ID, r1.ID, "deleted"); err != nil {
		t.Fatal(err)
	}
	if err := s.ResolveReport(ctx, f.mod.ID, r1.ID, "other"); err != nil {
		t.Errorf("resolving twice: %v", err)
	}
	if err := s.ResolveReport(ctx, f.mod.ID, 999, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("resolve unknown = %v, want ErrNotFound", err)
	}
	open, _ = s.OpenReports(ctx, 0, 10)
	if !slices.Equal(reportIDs(open), []int64{r2.ID}) {
		t.Errorf("open reports after resolving %d: %v", r1.ID, reportIDs(open))
	}
	if log, _ := s.AuditLog(ctx, 0, 10); len(log) != 1 || log[0].Details != "deleted" {
		t.Errorf("audit log = %+v; want one resolution", log)
	}
}

func reportIDs(rs []Report) []int64 {
	out := make([]int64, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

// TestBackupWhileWriting takes a backup while writers keep committing; the
// copy is a valid database holding at least everything acknowledged before
// the backup began.
func TestBackupWhileWriting(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	for range 200 {
		mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "before"})
	}
	stop, started := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	var during int
	wg.Go(func() {
		defer close(started)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "during"}); err != nil {
				t.Error(err)
				return
			}
			if during++; during == 1 {
				started <- struct{}{} // backups start once writes are flowing
			}
		}
	})
	<-started
	path := filepath.Join(t.TempDir(), "backup.db")
	for range 3 { // the second and third replace the first
		if err := s.Backup(ctx, path); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if during == 0 {
		t.Error("no write committed while backing up")
	}
	b := openTest(t, Config{Path: path})
	var check string
	if err := b.readDB.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("backup integrity_check = %q, %v", check, err)
	}
	if got := countMessages(t, b); got < 200 {
		t.Errorf("backup holds %d messages, want at least the 200 acknowledged before it", got)
	}
}
