package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
)

func TestAppendIdempotentRetries(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	other, err := s.CreateUser(context.Background(), "bob", []byte("h"), RoleUser)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(author int64, key string) NewMessage {
		return NewMessage{RoomID: f.room.ID, AuthorID: author, Body: "hi " + key, ClientKey: key}
	}
	tests := []struct {
		name      string
		first     NewMessage
		second    NewMessage
		wantSame  bool
		wantCount int // messages stored by the two appends
	}{
		{"same author same key", msg(f.user.ID, "k1"), msg(f.user.ID, "k1"), true, 1},
		{"retry with a changed body keeps the original", msg(f.user.ID, "k2"),
			NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "edited", ClientKey: "k2"}, true, 1},
		{"other author same key", msg(f.user.ID, "k3"), msg(other.ID, "k3"), false, 2},
		{"no key is never deduplicated", msg(f.user.ID, ""), msg(f.user.ID, ""), false, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := countMessages(t, s)
			a := mustAppend(t, s, tt.first)
			b := mustAppend(t, s, tt.second)
			if (a.ID == b.ID) != tt.wantSame || b.Duplicate != tt.wantSame || a.Duplicate {
				t.Errorf("first %+v, second %+v; want same id: %v", a, b, tt.wantSame)
			}
			if (a.EventID == b.EventID) != tt.wantSame || a.EventID == 0 || b.EventID == 0 {
				t.Errorf("event ids %d and %d; want same: %v", a.EventID, b.EventID, tt.wantSame)
			}
			if tt.wantSame && !b.CreatedAt.Equal(a.CreatedAt) {
				t.Errorf("retry CreatedAt %v, original %v", b.CreatedAt, a.CreatedAt)
			}
			if got := countMessages(t, s) - before; got != tt.wantCount {
				t.Errorf("stored %d messages, want %d", got, tt.wantCount)
			}
			if m, _ := s.MessageByID(context.Background(), a.ID, PublicView); m.Body != tt.first.Body {
				t.Errorf("stored body %q, want the first %q", m.Body, tt.first.Body)
			}
		})
	}
}

// TestBatchIsolatesRowsAndDuplicates drives one batch directly: a duplicate
// key inside the batch gets the first row's id, and a row that breaks a
// constraint fails alone while its neighbours commit.
func TestBatchIsolatesRowsAndDuplicates(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	msgs := []NewMessage{
		{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "a", ClientKey: "dup"},
		{RoomID: 999, AuthorID: f.user.ID, Body: "unknown room"},
		{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "a again", ClientKey: "dup"},
		{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "b"},
	}
	batch := make([]*request, len(msgs))
	res := make([]Result, len(batch))
	for i, m := range msgs {
		batch[i] = &request{ctx: ctx, w: m, done: func(r Result) { res[i] = r }}
	}
	s.writer.commit(batch, make([]Result, len(batch)))
	if res[0].Err != nil || res[3].Err != nil || res[2].Err != nil {
		t.Fatalf("good rows failed: %+v", res)
	}
	if !errors.Is(res[1].Err, ErrInvalid) {
		t.Errorf("unknown room: err = %v, want ErrInvalid", res[1].Err)
	}
	if res[2].Event != res[0].Event || !res[2].Duplicate {
		t.Errorf("in-batch retry = %+v, want duplicate of %+v", res[2], res[0].Event)
	}
	if got := countMessages(t, s); got != 2 {
		t.Errorf("stored %d messages, want 2", got)
	}
}

func TestAppendRejectsInvalidMessages(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	long := string(make([]byte, MaxClientKeyLen+1))
	for name, m := range map[string]NewMessage{
		"empty body":      {RoomID: f.room.ID, AuthorID: f.user.ID},
		"no room":         {AuthorID: f.user.ID, Body: "x"},
		"no author":       {RoomID: f.room.ID, Body: "x"},
		"long client key": {RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x", ClientKey: long},
		"unknown author":  {RoomID: f.room.ID, AuthorID: 12345, Body: "x"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.AppendMessage(context.Background(), m); !errors.Is(err, ErrInvalid) {
				t.Errorf("err = %v, want ErrInvalid", err)
			}
		})
	}
}

// TestIDsOrderedUnderConcurrentWriters: 100 writers each append in sequence;
// ids are unique, each writer's ids increase, and reading the room back
// gives every message once, in id order, with non-decreasing times.
func TestIDsOrderedUnderConcurrentWriters(t *testing.T) {
	const writers, perWriter = 100, 20
	s := openTest(t, Config{})
	f := newFixture(t, s)
	got := make([][]int64, writers)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for n := range perWriter {
				a, err := s.AppendMessage(context.Background(), NewMessage{
					RoomID: f.room.ID, AuthorID: f.user.ID, Body: fmt.Sprintf("w%d n%d", w, n)})
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], a.ID)
			}
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for w, list := range got {
		for i, id := range list {
			if seen[id] {
				t.Fatalf("id %d handed out twice", id)
			}
			seen[id] = true
			if i > 0 && id <= list[i-1] {
				t.Fatalf("writer %d: id %d after %d", w, id, list[i-1])
			}
		}
	}
	all := readAll(t, s, f.room.ID)
	if len(all) != writers*perWriter {
		t.Fatalf("read %d messages, want %d", len(all), writers*perWriter)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID || all[i].CreatedAt.Before(all[i-1].CreatedAt) {
			t.Fatalf("message %d (%v) follows %d (%v)", all[i].ID, all[i].CreatedAt, all[i-1].ID, all[i-1].CreatedAt)
		}
		if !seen[all[i].ID] {
			t.Fatalf("stored id %d was never acknowledged", all[i].ID)
		}
	}
}

// TestQueueFullIsAnError holds the writer's only connection so the writer
// stalls. At most MaxBatch appends sit in its stalled batch and QueueSize in
// the queue, so one more concurrent append must be refused.
func TestQueueFullIsAnError(t *testing.T) {
	cfg := Config{QueueSize: 1, MaxBatch: 2}
	s := openTest(t, cfg)
	f := newFixture(t, s)
	ctx := context.Background()
	conn, err := s.writeDB.Conn(ctx) // the writer's Begin now waits for it
	if err != nil {
		t.Fatal(err)
	}
	appends := cfg.MaxBatch + cfg.QueueSize + 1
	errs := make(chan error, appends)
	for range appends {
		go func() {
			_, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"})
			errs <- err
		}()
	}
	if err := <-errs; !errors.Is(err, ErrQueueFull) { // nothing else can return while conn is held
		t.Fatalf("first result = %v, want ErrQueueFull", err)
	}
	conn.Close()
	for range appends - 1 {
		if err := <-errs; err != nil && !errors.Is(err, ErrQueueFull) {
			t.Errorf("append after release: %v", err)
		}
	}
}

func TestCloseDrainsQueueAndRefusesWork(t *testing.T) {
	s := openTest(t, Config{})
	f := newFixture(t, s)
	ctx := context.Background()
	var acked sync.Map
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			a, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"})
			if err == nil {
				acked.Store(a.ID, true)
			} else if !errors.Is(err, ErrClosed) {
				t.Error(err)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := s.AppendMessage(ctx, NewMessage{RoomID: f.room.ID, AuthorID: f.user.ID, Body: "x"}); !errors.Is(err, ErrClosed) {
		t.Errorf("append after Close = %v, want ErrClosed", err)
	}
	if _, err := s.LatestMessages(ctx, f.room.ID, 1, PublicView); !errors.Is(err, ErrClosed) {
		t.Errorf("read after Close = %v, want ErrClosed", err)
	}
	s2 := openTest(t, Config{Path: s.cfg.Path})
	acked.Range(func(id, _ any) bool {
		if _, err := s2.MessageByID(ctx, id.(int64), PublicView); err != nil {
			t.Errorf("acknowledged %d lost: %v", id, err)
		}
		return true
	})
}

func countMessages(t testing.TB, s *Store) int {
	t.Helper()
	var n int
	if err := s.readDB.QueryRow(`SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// readAll pages through a room with MessagesAfter, as a resuming client does.
func readAll(t testing.TB, s *Store, room int64) []Message {
	t.Helper()
	var all []Message
	var after int64
	for {
		page, err := s.MessagesAfter(context.Background(), room, after, MaxPageSize, ModeratorView)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if len(page) < MaxPageSize {
			return all
		}
		after = page[len(page)-1].ID
	}
}
