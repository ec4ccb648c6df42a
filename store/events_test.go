package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
)

// submit runs one Write through Submit and waits for its Result.
func submit(t testing.TB, s *Store, w Write) Result {
	t.Helper()
	ch := make(chan Result, 1)
	if err := s.Submit(w, func(r Result) { ch <- r }); err != nil {
		t.Fatalf("Submit(%+v): %v", w, err)
	}
	return <-ch
}

// holdWriter submits a write whose done blocks the writer goroutine until
// the returned release is called: everything submitted meanwhile waits in
// the queue and forms the next batch.
func holdWriter(t testing.TB, s *Store, w Write) (release func()) {
	t.Helper()
	held, unblock := make(chan struct{}), make(chan struct{})
	if err := s.Submit(w, func(Result) { close(held); <-unblock }); err != nil {
		t.Fatal(err)
	}
	<-held
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release
}

func countEvents(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := s.readDB.QueryRow(`SELECT count(*) FROM events`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// eventFixture adds to a fixture: bob (a plain user), a second room, and
// alice's messages: one live in the lobby, one deleted, one in the other room.
type eventFixture struct {
	fixture
	bob                  User
	other                Room
	live, deleted, there Appended
}

func newEventFixture(t testing.TB, s *Store) eventFixture {
	t.Helper()
	ctx := context.Background()
	f := eventFixture{fixture: newFixture(t, s)}
	var err error
	if f.bob, err = s.CreateUser(ctx, "bob", []byte("h"), RoleUser); err != nil {
		t.Fatal(err)
	}
	if f.other, err = s.CreateRoom(ctx, NewRoom{Name: "other", CreatorID: f.user.ID}); err != nil {
		t.Fatal(err)
	}
	f.live = mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "live", ClientKey: "k-live"})
	f.deleted = mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "gone"})
	if err := s.DeleteMessage(ctx, f.mod.ID, f.deleted.ID, "test"); err != nil {
		t.Fatal(err)
	}
	f.there = mustAppend(t, s, NewMessage{RoomID: f.other.ID, AuthorID: f.user.ID, Body: "there"})
	return f
}

// TestSubmitWrites runs each write kind through Submit, succeeding and
// failing. A failed write stores nothing; a committed one is read back as
// the event its Result announced.
func TestSubmitWrites(t *testing.T) {
	s := openTest(t, Config{})
	f := newEventFixture(t, s)
	ctx := context.Background()
	room, alice, bob, mod := f.room.ID, f.user.ID, f.bob.ID, f.mod.ID
	tests := []struct {
		name      string
		write     Write
		wantErr   error // nil: committed
		wantDup   bool
		wantEvent Event // compared without ID and CreatedAt; Kind empty: not compared
	}{
		{"message", NewMessage{RoomID: room, AuthorID: alice, Body: "hi", ClientKey: "k1"}, nil, false,
			Event{RoomID: room, Kind: EventMessage, UserID: alice, Body: "hi", ClientKey: "k1"}},
		{"message duplicate key", NewMessage{RoomID: room, AuthorID: alice, Body: "changed", ClientKey: "k-live"}, nil, true,
			Event{RoomID: room, Kind: EventMessage, MessageID: f.live.ID, UserID: alice, Body: "live", ClientKey: "k-live"}},
		{"message unknown room", NewMessage{RoomID: 999, AuthorID: alice, Body: "x"}, ErrInvalid, false, Event{}},
		{"message unknown author", NewMessage{RoomID: room, AuthorID: 999, Body: "x"}, ErrInvalid, false, Event{}},

		{"edit", EditMessage{RoomID: room, MessageID: f.live.ID, UserID: alice, Body: "live, edited"}, nil, false,
			Event{RoomID: room, Kind: EventEdit, MessageID: f.live.ID, UserID: alice, Body: "live, edited"}},
		{"edit unknown message", EditMessage{RoomID: room, MessageID: 999, UserID: alice, Body: "x"}, ErrNotFound, false, Event{}},
		{"edit message of another room", EditMessage{RoomID: room, MessageID: f.there.ID, UserID: alice, Body: "x"}, ErrNotFound, false, Event{}},
		{"edit deleted message", EditMessage{RoomID: room, MessageID: f.deleted.ID, UserID: alice, Body: "x"}, ErrNotFound, false, Event{}},
		{"edit someone else's", EditMessage{RoomID: room, MessageID: f.live.ID, UserID: bob, Body: "x"}, ErrForbidden, false, Event{}},
		{"edit as moderator is still someone else's", EditMessage{RoomID: room, MessageID: f.live.ID, UserID: mod, Body: "x"}, ErrForbidden, false, Event{}},

		{"delete someone else's", DeleteMessage{RoomID: room, MessageID: f.live.ID, ActorID: bob}, ErrForbidden, false, Event{}},
		{"delete unknown message", DeleteMessage{RoomID: room, MessageID: 999, ActorID: mod, AsModerator: true}, ErrNotFound, false, Event{}},
		{"delete message of another room", DeleteMessage{RoomID: room, MessageID: f.there.ID, ActorID: mod, AsModerator: true}, ErrNotFound, false, Event{}},
		{"delete deleted message", DeleteMessage{RoomID: room, MessageID: f.deleted.ID, ActorID: mod, AsModerator: true}, ErrNotFound, false, Event{}},
		{"delete own", DeleteMessage{RoomID: f.other.ID, MessageID: f.there.ID, ActorID: alice}, nil, false,
			Event{RoomID: f.other.ID, Kind: EventDelete, MessageID: f.there.ID, UserID: alice}},
		{"delete as moderator", DeleteMessage{RoomID: room, MessageID: f.live.ID, ActorID: mod, AsModerator: true, Reason: "rude"}, nil, false,
			Event{RoomID: room, Kind: EventDelete, MessageID: f.live.ID, UserID: mod}},

		{"room change", RoomChange{RoomID: room, ActorID: mod, Locked: ptr(false), SlowMode: ptr(0), Title: ptr("T")}, nil, false,
			Event{RoomID: room, Kind: EventRoom, UserID: mod, Data: `{"locked":false,"slow_mode":0,"title":"T"}`}},
		{"room change unknown room", RoomChange{RoomID: 999, ActorID: mod, Locked: ptr(true)}, ErrNotFound, false, Event{}},
		// The rooms row is updated before the audit insert fails: the
		// savepoint must undo it (checked below: the room stays unlocked).
		{"room change unknown actor", RoomChange{RoomID: room, ActorID: 999, Locked: ptr(true)}, ErrInvalid, false, Event{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, last := countEvents(t, s), lastEvent(t, s)
			res := submit(t, s, tt.write)
			if !errors.Is(res.Err, tt.wantErr) || (tt.wantErr == nil) != (res.Err == nil) {
				t.Fatalf("Err = %v, want %v", res.Err, tt.wantErr)
			}
			if res.Duplicate != tt.wantDup {
				t.Errorf("Duplicate = %v, want %v", res.Duplicate, tt.wantDup)
			}
			wantNew := 0
			if tt.wantErr == nil && !tt.wantDup {
				wantNew = 1
			}
			if got := countEvents(t, s) - before; got != wantNew {
				t.Errorf("stored %d events, want %d", got, wantNew)
			}
			if tt.wantErr != nil {
				if res.Event != (Event{}) {
					t.Errorf("failed write has event %+v", res.Event)
				}
				return
			}
			got := res.Event
			if tt.wantDup {
				if got.ID != f.live.EventID || !got.CreatedAt.Equal(f.live.CreatedAt) {
					t.Errorf("duplicate event %+v, want the original %d at %v", got, f.live.EventID, f.live.CreatedAt)
				}
			} else if got.ID <= last || got.CreatedAt.IsZero() {
				t.Errorf("new event id %d after %d, at %v", got.ID, last, got.CreatedAt)
			}
			want := tt.wantEvent
			want.ID, want.CreatedAt = got.ID, got.CreatedAt
			if want.Kind == EventMessage && want.MessageID == 0 {
				want.MessageID = got.MessageID
			}
			if got != want {
				t.Errorf("event\n %+v, want\n %+v", got, want)
			}
			read := readEvent(t, s, got.RoomID, got.ID)
			read.UserName, read.UserGuest = "", false // Submit results leave them empty
			if read != got {
				t.Errorf("read back\n %+v, Submit said\n %+v", read, got)
			}
		})
	}

	r, _ := s.RoomByID(ctx, room)
	if r.Locked || r.Title != "T" {
		t.Errorf("room after the changes: %+v; want unlocked, titled T", r)
	}
	m, _ := s.MessageByID(ctx, f.live.ID, ModeratorView)
	if m.Body != "live, edited" || m.EditedAt.IsZero() || !m.Deleted() || m.DeletedBy != mod {
		t.Errorf("edited then deleted message = %+v", m)
	}
	// Newest first: the room change, the moderator's delete, and the
	// fixture's; the author's own delete is not audited.
	log, _ := s.AuditLog(ctx, 0, 10)
	if len(log) != 3 || log[0].Action != ActionChangeRoom || log[0].Details != `{"locked":false,"slow_mode":0,"title":"T"}` ||
		log[1].Action != ActionDeleteMessage || log[1].Details != "rude" || log[1].ActorID != mod ||
		log[2].Target != fmt.Sprintf("message:%d", f.deleted.ID) {
		t.Errorf("audit log = %+v; want the room change and the two moderator deletes", log)
	}
}

func lastEvent(t testing.TB, s *Store) int64 {
	t.Helper()
	var id int64
	if err := s.readDB.QueryRow(`SELECT coalesce(max(id), 0) FROM events`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// readEvent reads one event back through EventsAfter, in ModeratorView.
func readEvent(t testing.TB, s *Store, room, id int64) Event {
	t.Helper()
	evs, err := s.EventsAfter(context.Background(), room, id-1, 1, ModeratorView)
	if err != nil || len(evs) != 1 || evs[0].ID != id {
		t.Fatalf("EventsAfter(%d, %d) = %+v, %v", room, id-1, evs, err)
	}
	return evs[0]
}

func TestSubmitRefusesInvalidWrites(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	r, u := f.room.ID, f.user.ID
	for name, w := range map[string]Write{
		"nil":                    nil,
		"message without body":   NewMessage{RoomID: r, AuthorID: u},
		"message without room":   NewMessage{AuthorID: u, Body: "x"},
		"edit without body":      EditMessage{RoomID: r, MessageID: 1, UserID: u},
		"edit without message":   EditMessage{RoomID: r, UserID: u, Body: "x"},
		"delete without actor":   DeleteMessage{RoomID: r, MessageID: 1},
		"delete without room":    DeleteMessage{MessageID: 1, ActorID: u},
		"room change of nothing": RoomChange{RoomID: r, ActorID: u},
		"negative slow mode":     RoomChange{RoomID: r, ActorID: u, SlowMode: ptr(-1)},
		"room change no actor":   RoomChange{RoomID: r, Locked: ptr(true)},
	} {
		t.Run(name, func(t *testing.T) {
			called := false
			if err := s.Submit(w, func(Result) { called = true }); !errors.Is(err, ErrInvalid) {
				t.Errorf("Submit = %v, want ErrInvalid", err)
			}
			if called {
				t.Error("done called for a refused write")
			}
		})
	}
	if err := s.SetRoomSlowMode(context.Background(), u, r, -5); !errors.Is(err, ErrInvalid) {
		t.Errorf("SetRoomSlowMode(-5) = %v, want ErrInvalid", err)
	}
	if n := countEvents(t, s); n != 0 {
		t.Errorf("%d events stored", n)
	}
}

// TestSubmitBatchesInCommitOrder holds the writer inside the first batch's
// done, queues a mix of writes (one failing alone), and releases it: they
// commit as one batch, done comes in submission order, and event ids
// increase in that order.
func TestSubmitBatchesInCommitOrder(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	first := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "first"})
	release := holdWriter(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "holds the writer"})
	before := s.WriterStats()

	const n = 40
	var writes []Write
	for i := range n {
		switch i {
		case 10:
			writes = append(writes, EditMessage{RoomID: f.room.ID, MessageID: first.ID, UserID: f.user.ID, Body: "edited"})
		case 20:
			writes = append(writes, EditMessage{RoomID: f.room.ID, MessageID: 999, UserID: f.user.ID, Body: "fails"})
		case 30:
			writes = append(writes, RoomChange{RoomID: f.room.ID, ActorID: f.mod.ID, SlowMode: ptr(5)})
		case n - 1:
			writes = append(writes, DeleteMessage{RoomID: f.room.ID, MessageID: first.ID, ActorID: f.user.ID})
		default:
			writes = append(writes, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprintf("m%d", i)})
		}
	}
	var order []int // appended on the writer goroutine only
	results := make([]Result, n)
	var wg sync.WaitGroup
	for i, w := range writes {
		wg.Add(1)
		if err := s.Submit(w, func(r Result) { order = append(order, i); results[i] = r; wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	if q := s.WriterStats().QueueLen; q != n {
		t.Errorf("QueueLen = %d while held, want %d", q, n)
	}
	release()
	wg.Wait()

	for i, got := range order {
		if got != i {
			t.Fatalf("done order %v, want submission order", order)
		}
	}
	var last int64
	for i, r := range results {
		if i == 20 {
			if !errors.Is(r.Err, ErrNotFound) {
				t.Errorf("edit of an unknown message: %v, want ErrNotFound", r.Err)
			}
			continue
		}
		if r.Err != nil || r.Event.ID <= last {
			t.Fatalf("write %d: %+v after event %d", i, r, last)
		}
		last = r.Event.ID
	}
	after := s.WriterStats()
	if commits, writes := after.Commits-before.Commits, after.Writes-before.Writes; commits != 1 || writes != n {
		t.Errorf("the queued writes took %d commits for %d writes; want 1 commit of %d", commits, writes, n)
	}
	if after.Writes <= after.Commits {
		t.Errorf("WriterStats %+v: mean batch size not above 1", after)
	}
}

// TestSubmitOrderUnderConcurrency: many goroutines submit at once; done is
// called in strictly increasing event id order and every event is read back
// once, in that order.
func TestSubmitOrderUnderConcurrency(t *testing.T) {
	const goroutines, each = 20, 50
	s := openTest(t, Config{QueueSize: goroutines * each})
	f := newFixture(t, s)
	var ids []int64 // appended on the writer goroutine only
	var wg sync.WaitGroup
	wg.Add(goroutines * each)
	for g := range goroutines {
		go func() {
			for i := range each {
				w := NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprintf("g%d i%d", g, i)}
				if err := s.Submit(w, func(r Result) {
					if r.Err != nil {
						t.Error(r.Err)
					}
					ids = append(ids, r.Event.ID)
					wg.Done()
				}); err != nil {
					t.Error(err)
					wg.Done()
				}
			}
		}()
	}
	wg.Wait()
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			t.Fatalf("done for event %d came after done for %d", ids[i], ids[i-1])
		}
	}
	var read []int64
	for after := int64(0); ; {
		page, err := s.EventsAfter(context.Background(), f.room.ID, after, MaxPageSize, PublicView)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range page {
			read = append(read, e.ID)
		}
		if len(page) < MaxPageSize {
			break
		}
		after = page[len(page)-1].ID
	}
	if !slices.Equal(read, ids) {
		t.Errorf("read %d events, done reported %d, or in another order", len(read), len(ids))
	}
}

// TestSubmitQueueFullAndClose: with the writer held, a one-slot queue takes
// one write and refuses the next; Close still commits and answers the
// queued one, and Submit after Close is ErrClosed.
func TestSubmitQueueFullAndClose(t *testing.T) {
	s := openTest(t, Config{QueueSize: 1})
	f := newFixture(t, s)
	msg := NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"}
	release := holdWriter(t, s, msg)
	queued := make(chan Result, 1)
	if err := s.Submit(msg, func(r Result) { queued <- r }); err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(msg, func(Result) { t.Error("done called for a refused write") }); !errors.Is(err, ErrQueueFull) {
		t.Fatalf("Submit to a full queue = %v, want ErrQueueFull", err)
	}
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	release()
	if r := <-queued; r.Err != nil {
		t.Errorf("queued write at Close: %v", r.Err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if err := s.Submit(msg, nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Submit after Close = %v, want ErrClosed", err)
	}
}

// TestSubmitWholeBatchFailure fills a size-capped file with one held batch:
// the transaction fails as a whole, so every write in it gets ErrDiskFull
// and none is stored; the writer goes on afterwards.
func TestSubmitWholeBatchFailure(t *testing.T) {
	s := openTest(t, Config{MaxPageCount: 40})
	f := newFixture(t, s)
	release := holdWriter(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"})
	before := countEvents(t, s)
	const n = 60 // 60 messages of 4 KB cannot fit in 40 pages
	results := make(chan Result, n)
	for range n {
		w := NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: strings.Repeat("x", 4000)}
		if err := s.Submit(w, func(r Result) { results <- r }); err != nil {
			t.Fatal(err)
		}
	}
	release()
	for range n {
		if r := <-results; !errors.Is(r.Err, ErrDiskFull) || !strings.HasPrefix(r.Err.Error(), "append message: ") {
			t.Fatalf("write in the failed batch: %v, want ErrDiskFull", r.Err)
		}
	}
	if got := countEvents(t, s); got != before {
		t.Errorf("%d events stored by a failed batch", got-before)
	}
	if r := submit(t, s, RoomChange{RoomID: f.room.ID, ActorID: f.mod.ID, Locked: ptr(true)}); r.Err != nil {
		t.Errorf("small write after the failed batch: %v", r.Err)
	}
}

// TestEventViews: a deleted message's message and edit events keep their
// text for moderators and lose it in PublicView; reads fill the user.
func TestEventViews(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	guest, err := s.CreateGuest(ctx, "visitor")
	if err != nil {
		t.Fatal(err)
	}
	m := submit(t, s, NewMessage{RoomID: f.room.ID, AuthorID: guest.ID, Body: "secret", ClientKey: "g1"}).Event
	submit(t, s, EditMessage{RoomID: f.room.ID, MessageID: m.MessageID, UserID: guest.ID, Body: "secret 2"})
	submit(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "kept"})
	if err := s.DeleteMessage(ctx, f.mod.ID, m.MessageID, "spam"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteMessage(ctx, f.mod.ID, m.MessageID, "again"); err != nil {
		t.Errorf("second DeleteMessage: %v", err)
	}
	type row struct {
		kind, user, body, key string
		guest                 bool
	}
	for _, tt := range []struct {
		view View
		want []row
	}{
		{PublicView, []row{
			{EventMessage, "visitor", "", "g1", true}, {EventEdit, "visitor", "", "", true},
			{EventMessage, "alice", "kept", "", false}, {EventDelete, "mod", "", "", false}}},
		{ModeratorView, []row{
			{EventMessage, "visitor", "secret", "g1", true}, {EventEdit, "visitor", "secret 2", "", true},
			{EventMessage, "alice", "kept", "", false}, {EventDelete, "mod", "", "", false}}},
	} {
		evs, err := s.EventsAfter(ctx, f.room.ID, 0, 10, tt.view)
		if err != nil {
			t.Fatal(err)
		}
		var got []row
		for _, e := range evs {
			got = append(got, row{e.Kind, e.UserName, e.Body, e.ClientKey, e.UserGuest})
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("view %d:\n got %+v\nwant %+v", tt.view, got, tt.want)
		}
	}
}

func TestEventPages(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	other, err := s.CreateRoom(ctx, NewRoom{Name: "other", CreatorID: f.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	if id, err := s.LastEventID(ctx, f.room.ID); err != nil || id != 0 {
		t.Errorf("LastEventID of an empty room = %d, %v; want 0", id, err)
	}
	var id []int64 // the lobby's event ids
	for i := range 10 {
		a := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprintf("m%d", i)})
		id = append(id, a.EventID)
		mustAppend(t, s, NewMessage{RoomID: other.ID, AuthorID: f.user.ID, Body: "elsewhere"})
	}
	tests := []struct {
		name   string
		before bool
		from   int64
		limit  int
		want   []int64
	}{
		{"after zero", false, 0, 100, id},
		{"after zero, limited", false, 0, 4, id[:4]},
		{"after the 7th", false, id[6], 50, id[7:]},
		{"after the last", false, id[9], 50, nil},
		{"newest page", true, 0, 3, id[7:]},
		{"newest page, negative", true, -1, 3, id[7:]},
		{"before the 5th", true, id[4], 2, id[2:4]},
		{"before the first", true, id[0], 5, nil},
		{"before more than exist", true, id[5], 100, id[:5]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := s.EventsAfter
			if tt.before {
				read = s.EventsBefore
			}
			evs, err := read(ctx, f.room.ID, tt.from, tt.limit, PublicView)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, e := range evs {
				got = append(got, e.ID)
				if e.RoomID != f.room.ID {
					t.Errorf("event %+v of another room", e)
				}
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("ids %v, want %v", got, tt.want)
			}
		})
	}
	if last, err := s.LastEventID(ctx, f.room.ID); err != nil || last != id[9] {
		t.Errorf("LastEventID = %d, %v; want %d", last, err, id[9])
	}
	if r, err := s.EventRoomID(ctx, id[3]); err != nil || r != f.room.ID {
		t.Errorf("EventRoomID = %d, %v; want %d", r, err, f.room.ID)
	}
	if _, err := s.EventRoomID(ctx, 9999); !errors.Is(err, ErrNotFound) {
		t.Errorf("EventRoomID(9999) = %v, want ErrNotFound", err)
	}
}

// TestBlockingSettersMakeEvents: the blocking moderation methods go through
// the writer and leave one event each, with the audit entries they always
// wrote.
func TestBlockingSettersMakeEvents(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	m := mustAppend(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"})
	steps := []struct {
		do              func() error
		action, details string
		data            string // the room event's Data; empty for the delete
	}{
		{func() error { return s.SetRoomLocked(ctx, f.mod.ID, f.room.ID, true) }, ActionSetRoomLocked, "true", `{"locked":true}`},
		{func() error { return s.SetRoomArchived(ctx, f.mod.ID, f.room.ID, false) }, ActionSetRoomArchived, "false", `{"archived":false}`},
		{func() error { return s.SetRoomSlowMode(ctx, f.mod.ID, f.room.ID, 10) }, ActionSetRoomSlowMode, "10", `{"slow_mode":10}`},
		{func() error { return s.SetRoomTopic(ctx, f.mod.ID, f.room.ID, "Hall", "news") }, ActionSetRoomTopic, "Hall: news", `{"title":"Hall","topic":"news"}`},
		{func() error { return s.DeleteMessage(ctx, f.mod.ID, m.ID, "why") }, ActionDeleteMessage, "why", ""},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.action, err)
		}
	}
	for _, err := range []error{
		s.SetRoomLocked(ctx, f.mod.ID, 999, true),
		s.SetRoomSlowMode(ctx, f.mod.ID, 999, 1),
		s.DeleteMessage(ctx, f.mod.ID, 999, ""),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("setter on an unknown target = %v, want ErrNotFound", err)
		}
	}
	evs, err := s.EventsAfter(ctx, f.room.ID, m.EventID, 100, ModeratorView)
	if err != nil || len(evs) != len(steps) {
		t.Fatalf("%d events after the message, %v; want %d", len(evs), err, len(steps))
	}
	log, _ := s.AuditLog(ctx, 0, 100)
	for i, st := range steps {
		e, a := evs[i], log[len(steps)-1-i]
		wantKind := EventRoom
		if st.data == "" {
			wantKind = EventDelete
		}
		if e.Kind != wantKind || e.Data != st.data || e.UserID != f.mod.ID {
			t.Errorf("event %d = %+v, want %s with %s", i, e, wantKind, st.data)
		}
		if a.Action != st.action || a.Details != st.details {
			t.Errorf("audit entry %d = %+v, want %s %q", i, a, st.action, st.details)
		}
	}
	r, _ := s.RoomByID(ctx, f.room.ID)
	if !r.Locked || r.Archived || r.SlowMode != 10 || r.Title != "Hall" || r.Topic != "news" {
		t.Errorf("room = %+v", r)
	}
}

func TestCreateGuest(t *testing.T) {
	s := openTest(t, Config{})
	ctx := context.Background()
	if _, err := s.CreateUser(ctx, "Alice", []byte("hash"), RoleUser); err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateGuest(ctx, "Visitor")
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.UserByName(ctx, "visitor")
	if err != nil || got.ID != g.ID || !got.Guest || len(got.PasswordHash) != 0 || got.Role != RoleUser ||
		got.SessionVersion != 1 || !got.CreatedAt.Equal(g.CreatedAt) || !g.Guest {
		t.Errorf("guest = %+v, read back %+v, %v", g, got, err)
	}
	for _, tt := range []struct {
		name string
		want error
	}{
		{"alice", ErrNameTaken},   // a user's name, other case
		{"VISITOR", ErrNameTaken}, // a guest's name, other case
		{"", ErrInvalid},
		{strings.Repeat("g", MaxNameLen+1), ErrInvalid},
		{strings.Repeat("g", MaxNameLen), nil},
	} {
		if _, err := s.CreateGuest(ctx, tt.name); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("CreateGuest(%q) = %v, want %v", tt.name, err, tt.want)
		}
	}
	if _, err := s.CreateUser(ctx, "visitor", []byte("h"), RoleUser); !errors.Is(err, ErrNameTaken) {
		t.Errorf("CreateUser with a guest's name = %v, want ErrNameTaken", err)
	}
	if u, _ := s.UserByName(ctx, "alice"); u.Guest || u.SessionVersion != 1 {
		t.Errorf("a registered user = %+v; want not a guest, session version 1", u)
	}
}

func TestBumpSessionVersion(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	for want := int64(2); want <= 3; want++ {
		if v, err := s.BumpSessionVersion(ctx, f.user.ID); err != nil || v != want {
			t.Errorf("BumpSessionVersion = %d, %v; want %d", v, err, want)
		}
	}
	if u, _ := s.UserByID(ctx, f.user.ID); u.SessionVersion != 3 {
		t.Errorf("SessionVersion read back %d, want 3", u.SessionVersion)
	}
	if u, _ := s.UserByID(ctx, f.mod.ID); u.SessionVersion != 1 {
		t.Errorf("another user's SessionVersion %d, want 1", u.SessionVersion)
	}
	if _, err := s.BumpSessionVersion(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("BumpSessionVersion(999) = %v, want ErrNotFound", err)
	}
}

// TestBlockingWriteSkippedWhenCallerLeft: a blocking write whose context has
// ended while it waits in the queue returns the context's error and is not
// written when its turn comes.
func TestBlockingWriteSkippedWhenCallerLeft(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	release := holdWriter(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "holds the writer"})
	before := countEvents(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "left"}); !errors.Is(err, context.Canceled) {
		t.Errorf("AppendMessage with an ended context = %v, want context.Canceled", err)
	}
	if err := s.SetRoomLocked(ctx, f.mod.ID, f.room.ID, true); !errors.Is(err, context.Canceled) {
		t.Errorf("SetRoomLocked with an ended context = %v, want context.Canceled", err)
	}
	release()
	after := submit(t, s, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "after"}) // behind the skipped ones
	if after.Err != nil {
		t.Fatal(after.Err)
	}
	if got := countEvents(t, s) - before; got != 1 {
		t.Errorf("%d events stored, want only the last write's", got)
	}
	if r, _ := s.RoomByID(context.Background(), f.room.ID); r.Locked {
		t.Error("the skipped SetRoomLocked locked the room")
	}
}
