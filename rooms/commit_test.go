package rooms

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/store"
)

// Acks come after the commit: nobody, the sender included, sees a write
// before the store's writer has committed it; a failed commit is an error
// to the sender and nothing to anyone else; a retried key is answered with
// the first ack and broadcast once.

// silence bounds the negative checks: what must not arrive while the
// writer is held.
const silence = 150 * time.Millisecond

// holdWriter holds the store's writer: it submits a write to room whose
// done callback blocks until release (the writer calls done on its own
// goroutine, and the next batch waits for it). It returns once the writer
// is inside that callback, so every write submitted after is queued behind
// it. Cleanup releases it.
func (tc *testChat) holdWriter(room store.Room) (release func()) {
	tc.t.Helper()
	entered, gate := make(chan struct{}), make(chan struct{})
	err := tc.store.Submit(store.NewMessage{RoomID: room.ID, AuthorID: tc.owner.ID, Body: "holding the writer"},
		func(store.Result) {
			close(entered)
			<-gate
		})
	if err != nil {
		tc.t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { close(gate) }) }
	tc.t.Cleanup(release)
	asynctest.Wait(tc.t, entered, "the writer runs the held write's done")
	return release
}

// waitQueued waits until n writes wait in the store's queue.
func (tc *testChat) waitQueued(n int) {
	tc.t.Helper()
	tc.WaitFor(func() bool { return tc.store.QueueLen() == n }, "writes are queued behind the held one")
}

// A WebSocket send while the writer is held is neither acked to its
// sender nor broadcast; once the commit comes back the sender gets the
// ack, then its own event, and the other member the event.
func TestAckAfterCommitWebSocket(t *testing.T) {
	s := newScene(t, nil, nil)
	hold := s.tc.createRoom("hold")
	release := s.tc.holdWriter(hold)
	s.aws.Send(`{"type":"send","body":"wait for it","key":"w1"}`)
	s.tc.waitQueued(1)
	expectSilence(t, s.aws, silence, "the sender")
	expectSilence(t, s.bws, silence, "another member")
	if log := s.tc.storedEvents(s.tc.lobby); len(log) != s.logBefore {
		t.Fatalf("stored while the writer is held: %+v", log[s.logBefore:])
	}
	release()
	ack := nextFrame(t, s.aws)
	if ack.Type != "ack" || ack.Key != "w1" || ack.ID == 0 {
		t.Fatalf("the sender's first frame after the commit: %+v, want the ack", ack)
	}
	if own := nextFrame(t, s.aws); own.Type != "message" || own.ID != ack.ID || own.Key != "w1" {
		t.Fatalf("the sender's second frame: %+v, want its event %d", own, ack.ID)
	}
	if f := nextFrame(t, s.bws); f.Type != "message" || f.ID != ack.ID || f.Body != "wait for it" {
		t.Fatalf("bob got %+v, want event %d", f, ack.ID)
	}
}

// A POST while the writer is held gets no answer; it answers 201 with the
// ack after the commit, and the event follows on the other member's door.
func TestAckAfterCommitHTTP(t *testing.T) {
	s := newScene(t, nil, nil)
	hold := s.tc.createRoom("hold")
	s.ada.call("GET", "/api/me", "") // the _xsrf cookie, before the goroutine uses the client
	release := s.tc.holdWriter(hold)
	answered := make(chan asynctest.Response, 1)
	go func() { answered <- s.ada.post("lobby", "wait for it", "h1") }()
	s.tc.waitQueued(1)
	select {
	case r := <-answered:
		t.Fatalf("answered while the writer is held: %d %s", r.Status, r.Body)
	case <-time.After(silence):
	}
	expectSilence(t, s.bws, silence, "another member")
	release()
	ack := httpAck(t, asynctest.Wait(t, answered, "the POST's answer"), http.StatusCreated)
	if f := nextFrame(t, s.bws); f.Type != "message" || f.ID != ack.ID || f.Body != "wait for it" {
		t.Fatalf("bob got %+v, want event %d", f, ack.ID)
	}
}

// startFullChat starts a chat whose disk is full: the store is capped
// (Config.MaxPageCount) at the pages its file holds after the setup, so a
// write that needs a new page fails in its commit (ErrDiskFull) while a
// small one still fits in the pages there are. A message of 4,000
// four-byte letters needs new pages; a short one does not.
func startFullChat(t *testing.T, adjust func(*Config)) *testChat {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "chat.db")
	setup, err := store.Open(ctx, store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	owner, err := setup.CreateUser(ctx, "owner", []byte("not a real hash"), store.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lobby", "hold"} {
		if _, err := setup.CreateRoom(ctx, store.NewRoom{Name: name, Title: name, CreatorID: owner.ID}); err != nil {
			t.Fatal(err)
		}
	}
	if err := setup.Close(); err != nil { // the last connection checkpoints the WAL into the file
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Config{Path: path, MaxPageCount: int(info.Size() / 4096)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return startChatOn(t, st, adjust)
}

// quietLog drops the engine's log: the commit failures here are meant.
func quietLog(cfg *Config) { cfg.Logger = slog.New(slog.DiscardHandler) }

// bigBody is a message of the most characters, in four-byte letters.
var bigBody = strings.Repeat("𐐀", MaxBodyChars)

// A commit that fails (the disk is full) is an error to its sender alone:
// unavailable on the WebSocket, 503 over HTTP; nothing is stored and
// nobody else receives anything. The writer goes on: the next write that
// fits commits and is broadcast.
func TestFailedCommit(t *testing.T) {
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			tc := startFullChat(t, quietLog)
			ada, bob := tc.guest("ada"), tc.guest("bob")
			aws, bws := ada.ws("lobby", -1), bob.ws("lobby", -1)
			readUntil(t, aws, "hello")
			readUntil(t, bws, "hello")
			before := len(tc.storedEvents(tc.lobby))
			if door == "ws" {
				aws.Send(request{kind: "send", body: bigBody, key: "big"}.frame())
				wsError(t, aws, "unavailable", "big", 0)
			} else {
				httpError(t, ada.post("lobby", bigBody, "big"), http.StatusServiceUnavailable, "unavailable", 0)
			}
			if log := tc.storedEvents(tc.lobby); len(log) != before {
				t.Fatalf("a failed commit stored %+v", log[before:])
			}
			// The next write commits: bob's first event is it, so the
			// failed one was never broadcast.
			ack := httpAck(t, ada.post("lobby", "small enough", "small"), http.StatusCreated)
			if f := nextFrame(t, bws); f.Type != "message" || f.ID != ack.ID || f.Body != "small enough" {
				t.Fatalf("bob got %+v, want the write after the fault, %d", f, ack.ID)
			}
			if f := nextFrame(t, aws); f.Type != "message" || f.ID != ack.ID {
				t.Fatalf("ada's socket got %+v after the error, want her message %d", f, ack.ID)
			}
		})
	}
}

// Group commit fails as a whole: a write that fits, in the same batch as
// one that does not, fails too, and each sender gets the error alone.
func TestFailedBatch(t *testing.T) {
	tc := startFullChat(t, quietLog)
	hold, err := tc.store.RoomByName(context.Background(), "hold")
	if err != nil {
		t.Fatal(err)
	}
	ada, bob, cy := tc.guest("ada"), tc.guest("bob"), tc.guest("cy")
	aws, bws, cws := ada.ws("lobby", -1), bob.ws("lobby", -1), cy.ws("lobby", -1)
	for _, ws := range []*asynctest.WSClient{aws, bws, cws} {
		readUntil(t, ws, "hello")
	}
	before := len(tc.storedEvents(tc.lobby))
	release := tc.holdWriter(hold)
	aws.Send(request{kind: "send", body: bigBody, key: "big"}.frame())
	tc.waitQueued(1)
	bws.Send(`{"type":"send","body":"fits","key":"fits"}`)
	tc.waitQueued(2)
	release()
	wsError(t, aws, "unavailable", "big", 0)
	wsError(t, bws, "unavailable", "fits", 0)
	if log := tc.storedEvents(tc.lobby); len(log) != before {
		t.Fatalf("a failed batch stored %+v", log[before:])
	}
	cws.Send(`{"type":"send","body":"after the batch","key":"c1"}`)
	ack := nextReply(t, cws)
	for _, ws := range []*asynctest.WSClient{aws, bws} {
		if f := nextFrame(t, ws); f.Type != "message" || f.ID != ack.ID {
			t.Fatalf("got %+v, want cy's message %d first", f, ack.ID)
		}
	}
}

// sameAck reports whether two acks are the same: key, event id and
// message id.
func sameAck(a, b frame) bool {
	return a.Type == "ack" && b.Type == "ack" && a.Key == b.Key && a.ID == b.ID && a.Msg == b.Msg
}

// A retry with a key already acked gets the same ack and broadcasts
// nothing, on either door and across them: POST answers 201, then 200.
func TestRetrySameKey(t *testing.T) {
	s := newScene(t, nil, nil)
	s.aws.Send(`{"type":"send","body":"once","key":"r1"}`)
	first := nextReply(t, s.aws)
	if first.Type != "ack" {
		t.Fatalf("%+v", first)
	}
	if f := nextFrame(t, s.bws); f.Type != "message" || f.ID != first.ID {
		t.Fatalf("bob got %+v", f)
	}
	s.logBefore++
	s.aws.Send(`{"type":"send","body":"once, again","key":"r1"}`)
	if again := nextReply(t, s.aws); !sameAck(again, first) {
		t.Fatalf("retry's ack %+v, want %+v", again, first)
	}
	if over := httpAck(t, s.ada.post("lobby", "once", "r1"), http.StatusOK); over.ID != first.ID || over.Msg != first.Msg || over.Key != "r1" {
		t.Fatalf("the retry over HTTP: %+v, want %+v", over, first)
	}
	s.proveNothingBroadcast()

	created := httpAck(t, s.ada.post("lobby", "by HTTP", "r2"), http.StatusCreated)
	if f := nextFrame(t, s.bws); f.Type != "message" || f.ID != created.ID {
		t.Fatalf("bob got %+v", f)
	}
	s.logBefore++
	retried := httpAck(t, s.ada.post("lobby", "by HTTP", "r2"), http.StatusOK)
	if retried.ID != created.ID || retried.Msg != created.Msg || retried.Key != created.Key {
		t.Fatalf("retry %+v, want %+v", retried, created)
	}
	s.proveNothingBroadcast()
}

// A retry sent before the first send's commit came back (a client resending
// its outbox after a reconnect) is found by the store: the same ack, one
// broadcast.
func TestRetryBeforeCommit(t *testing.T) {
	s := newScene(t, nil, nil)
	hold := s.tc.createRoom("hold")
	release := s.tc.holdWriter(hold)
	s.aws.Send(`{"type":"send","body":"in flight","key":"f1"}`)
	s.tc.waitQueued(1)
	second := s.ada.ws("lobby", -1)
	readUntil(t, second, "hello")
	second.Send(`{"type":"send","body":"in flight","key":"f1"}`)
	s.tc.waitQueued(2)
	release()
	a, b := nextReply(t, s.aws), nextReply(t, second)
	if a.Type != "ack" || !sameAck(a, b) {
		t.Fatalf("acks %+v and %+v, want one and the same", a, b)
	}
	if f := nextFrame(t, s.bws); f.Type != "message" || f.ID != a.ID {
		t.Fatalf("bob got %+v", f)
	}
	s.logBefore++
	s.proveNothingBroadcast()
}

// A retry of a send already acked gets its ack even when the sender may no
// longer post (muted, the room locked since): the message is stored, and
// a client resending its outbox must learn that, not that it was refused.
func TestRetryAfterMute(t *testing.T) {
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			s := newScene(t, nil, nil)
			s.sendOK(door, "said before the mute", "m1")
			first := httpAck(t, s.ada.post("lobby", "said before the mute", "m1"), http.StatusOK)
			if err := s.tc.store.MuteUser(context.Background(), s.tc.owner.ID, s.ada.id, s.clock.Now().Add(time.Hour), "enough"); err != nil {
				t.Fatal(err)
			}
			s.tc.refresh(s.ada.id)
			var again frame
			if door == "http" {
				again = httpAck(t, s.ada.post("lobby", "said before the mute", "m1"), http.StatusOK)
			} else {
				s.aws.Send(`{"type":"send","body":"said before the mute","key":"m1"}`)
				again = nextReply(t, s.aws)
			}
			if !sameAck(again, first) {
				t.Fatalf("the retry after the mute got %+v, want the first ack %+v", again, first)
			}
			s.proveNothingBroadcast()
			// A new message is refused as before.
			s.sendRefused(door, "a new one", "m2", "muted", http.StatusForbidden, 3600)
		})
	}
}

// A send whose commit failed is not a post: it does not start the sender's
// slow-mode wait, so the retry of the same message commits.
func TestFailedCommitIsNotAPost(t *testing.T) {
	clock := newTestClock()
	tc := startFullChat(t, func(cfg *Config) { quietLog(cfg); withClock(clock)(cfg) })
	if err := tc.store.SetRoomSlowMode(context.Background(), tc.owner.ID, tc.lobby.ID, 30); err != nil {
		t.Fatal(err)
	}
	ada := tc.guest("ada")
	httpError(t, ada.post("lobby", bigBody, "big"), http.StatusServiceUnavailable, "unavailable", 0)
	httpAck(t, ada.post("lobby", "the short version", "small"), http.StatusCreated)
	// The post that committed starts the wait.
	httpError(t, ada.post("lobby", "and another", "third"), http.StatusTooManyRequests, "slow_mode", 30)
}

// A client key names one send. The store keeps keys per author across all
// rooms, so a key already used in another room is refused (409, invalid):
// it must not be answered with the other room's ack, as if stored here.
func TestKeyOfAnotherRoom(t *testing.T) {
	s := newScene(t, nil, nil)
	s.sendOK("http", "in the lobby", "same")
	r := s.ada.post("side", "in the side room", "same")
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `"code":"invalid"`) {
		t.Fatalf("a key of the lobby, used in the side room: %d %s", r.Status, r.Body)
	}
}

// A full writer queue is busy (503, retry_after 1) to the sender alone,
// and, storing nothing, it does not start the sender's slow-mode wait: the
// retry once the queue drains commits.
func TestBusy(t *testing.T) {
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			st, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "chat.db"), QueueSize: 1})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			tc := startChatOn(t, st, nil)
			if err := st.SetRoomSlowMode(context.Background(), tc.owner.ID, tc.lobby.ID, 10); err != nil {
				t.Fatal(err)
			}
			hold := tc.createRoom("hold")
			ada, bob := tc.guest("ada"), tc.guest("bob")
			aws, bws := ada.ws("lobby", -1), bob.ws("lobby", -1)
			readUntil(t, aws, "hello")
			readUntil(t, bws, "hello")
			ada.call("GET", "/api/me", "")
			release := tc.holdWriter(hold)
			bws.Send(`{"type":"send","body":"fills the queue","key":"q1"}`)
			tc.waitQueued(1)
			if door == "ws" {
				aws.Send(`{"type":"send","body":"no room","key":"a1"}`)
				wsError(t, aws, "busy", "a1", 1)
			} else {
				httpError(t, ada.post("lobby", "no room", "a1"), http.StatusServiceUnavailable, "busy", 1)
			}
			expectSilence(t, bws, silence, "bob")
			release()
			first := nextReply(t, bws)
			for _, ws := range []*asynctest.WSClient{bws, aws} {
				if f := nextFrame(t, ws); f.Type != "message" || f.ID != first.ID {
					t.Fatalf("got %+v, want bob's message %d", f, first.ID)
				}
			}
			retry := httpAck(t, ada.post("lobby", "no room", "a1"), http.StatusCreated)
			if f := nextFrame(t, bws); f.Type != "message" || f.ID != retry.ID || f.Body != "no room" {
				t.Fatalf("bob got %+v, want ada's retry %d", f, retry.ID)
			}
		})
	}
}
