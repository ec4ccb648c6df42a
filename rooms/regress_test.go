package rooms

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// A retry of a stored send gets its original ack even once the hub that
// remembered it is gone (dropped when idle, or a restart), and a retry
// costs no token and starts no slow-mode wait: the first retried message
// of an outbox does not block the next. (Found in review: the k2 retry was
// refused with slow_mode.)
func TestRetryOfAStoredSendAfterTheHubForgot(t *testing.T) {
	tc := startChat(t, func(c *Config) { c.HubIdle = 50 * time.Millisecond })
	ada := tc.guest("ada")
	one := httpAck(t, ada.post("lobby", "one", "k1"), http.StatusCreated)
	two := httpAck(t, ada.post("lobby", "two", "k2"), http.StatusCreated)
	slow := 30
	if _, err := tc.changeRoom("lobby", store.RoomChange{SlowMode: &slow}); err != nil {
		t.Fatal(err)
	}
	tc.WaitFor(func() bool { return tc.engine.Stats().Hubs == 0 }, "the idle lobby hub is dropped")
	if got := httpAck(t, ada.post("lobby", "one", "k1"), http.StatusOK); got.ID != one.ID {
		t.Fatalf("retry of k1: %+v; want %+v", got, one)
	}
	if got := httpAck(t, ada.post("lobby", "two", "k2"), http.StatusOK); got.ID != two.ID {
		t.Fatalf("retry of k2: %+v; want %+v", got, two)
	}
	// A real post is still under the slow mode's rule.
	httpAck(t, ada.post("lobby", "three", "k3"), http.StatusCreated)
	httpError(t, ada.post("lobby", "four", "k4"), http.StatusTooManyRequests, "slow_mode", 30)
}

// An outbox of more retries than the token bucket holds, sent at once
// after a restart, is answered with every original ack.
func TestOutboxLargerThanTheBurstIsAcked(t *testing.T) {
	clock := newTestClock()
	tc := startChat(t, withClock(clock))
	ada := tc.guest("ada")
	var acks []frame
	for i := range 8 {
		clock.Advance(time.Second) // posted a second apart: the bucket allows each
		acks = append(acks, httpAck(t, ada.post("lobby", "m", "o"+itoa(int64(i))), http.StatusCreated))
	}
	tc.Do(func() { tc.engine.drop(tc.engine.hubs["lobby"]) }) // as a restart forgets
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	for i := range acks {
		ws.Send(`{"type":"send","body":"m","key":"o` + itoa(int64(i)) + `"}`)
	}
	// Acks come in the order each retry is resolved (from the store's
	// writer or a read): a client matches them by key.
	got := map[string]int64{}
	for range acks {
		f := readUntil(t, ws, "ack")
		got[f.Key] = f.ID
	}
	for i, want := range acks {
		if key := "o" + itoa(int64(i)); got[key] != want.ID {
			t.Fatalf("retry of %s: acked %d; want %d", key, got[key], want.ID)
		}
	}
}

// A banned moderator cannot change a room: the ban is checked first, for
// every kind of action. (Found in review.)
func TestBannedModeratorCannotChangeARoom(t *testing.T) {
	tc := startChat(t, nil)
	ctx := context.Background()
	mod := tc.guest("mod")
	until := time.Now().Add(time.Hour)
	locked := true
	_, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[Ack] {
		u := &accounts.User{ID: mod.id, Name: "mod", Role: store.RoleModerator, BannedUntil: until}
		return tc.engine.ChangeRoom("lobby", u, store.RoomChange{Locked: &locked})
	})
	if r, ok := err.(*Refusal); !ok || r.Code != "banned" {
		t.Fatalf("a banned moderator's room change: %v; want a banned refusal", err)
	}
	if room, _ := tc.store.RoomByName(ctx, "lobby"); room.Locked {
		t.Fatal("the room was locked")
	}
}

// One group commit's burst of large events does not end a stream whose
// client reads: the bound is on what the kernel holds back after a
// flush, not on what one turn wrote. (Found in review: 17 messages of
// 16 KB ended every SSE client of the room.)
func TestStreamSurvivesABurst(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	s := ada.stream("lobby", -1, "")
	if _, f := s.next(t); f.Type != "hello" {
		t.Fatalf("first event %+v", f)
	}
	tc.WaitFor(func() bool { h := tc.engine.hubs["lobby"]; return h != nil && len(h.streams) == 1 }, "the stream is live")
	const n = 40 // 640 KB in one turn
	body := strings.Repeat("\U0001F600", MaxBodyChars)
	tc.Do(func() {
		h := tc.engine.hubs["lobby"]
		for i := int64(1); i <= n; i++ {
			tc.engine.deliver(newEvent("lobby", store.Event{ID: h.lastID + 1, RoomID: tc.lobby.ID,
				Kind: store.EventMessage, MessageID: 1000 + i, UserName: "x", Body: body, CreatedAt: time.Now()}))
		}
	})
	for i := range n {
		select {
		case _, ok := <-s.events:
			if !ok {
				t.Fatalf("the stream ended after %d of %d events, though its client reads", i, n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
	}
}

// A stream that its own opening ends (a hello over a tiny bound) leaves
// the hub at once: nothing registered after its end. (Found in review: it
// stayed in the hub, online, with a ping timer, for ever.)
func TestStreamEndedWhileOpeningLeavesTheHub(t *testing.T) {
	tc := startChat(t, func(c *Config) {
		c.StreamMaxBehind = 4 // maxUnflushed is 64 bytes: the hello is more
		c.HubIdle = 20 * time.Millisecond
		c.PresenceGrace = 10 * time.Millisecond
	})
	ada := tc.guest("ada")
	s := ada.stream("lobby", -1, "")
	for range s.events {
	}
	tc.WaitFor(func() bool { return tc.engine.Stats().Hubs == 0 }, "the hub dropped: nothing left in it")
}

// A poller catching up page by page (each poll answered at once) counts
// as present, as docs/protocol.md says, not only while a poll is parked.
// (Found in review.)
func TestPollerCatchingUpIsPresent(t *testing.T) {
	tc := startChat(t, func(c *Config) { c.PageSize = 2 })
	ada := tc.guest("ada")
	submitAll(t, tc, 12, "old")
	cursor, present := int64(0), false
	for range 5 {
		cursor = ada.poll("lobby", cursor).LastID
		tc.Do(func() {
			if h := tc.engine.hubs["lobby"]; h != nil && h.presence.online() > 0 {
				present = true
			}
		})
	}
	if !present {
		t.Fatal("ada polled back to back and was never counted present")
	}
}

// A kick reaches a poll that is reading from SQLite, not only a parked
// one: the reads executor is held, so the poll's read waits. (Found in
// review.)
func TestKickReachesAPollStillReading(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		c.RingSize = 2
		reads = c.Loop.NewExecutor("test-reads", 1, 64)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	submitAll(t, tc, 10, "old")
	if r := ada.client.Get("/api/rooms/lobby"); r.Status != 200 { // loads the hub
		t.Fatalf("room: %d %s", r.Status, r.Body)
	}
	blockReads(t, tc, reads) // released at cleanup
	polled := make(chan asynctest.Response, 1)
	go func() { polled <- ada.client.Get(roomPath("lobby", "events", 1)) }()
	tc.WaitFor(func() bool { return tc.engine.Stats().Waiters == 1 }, "the poll is in the hub, reading")
	var n int
	tc.Do(func() { n = tc.engine.Kick(ada.id, "cool down") })
	p := <-polled
	if n != 1 || p.Status != http.StatusForbidden || !strings.Contains(p.Body, `"code":"kicked"`) {
		t.Fatalf("kick closed %d; the poll got %d %s", n, p.Status, p.Body)
	}
}

// A full reads executor is busy (503 with Retry-After), as the protocol
// says, not a 500. (Found in review.)
func TestFullReadsExecutorIsBusy(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		reads = c.Loop.NewExecutor("test-reads", 1, 1)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	if r := ada.client.Get("/api/rooms/lobby"); r.Status != 200 { // loads the hub
		t.Fatalf("room: %d %s", r.Status, r.Body)
	}
	blockReads(t, tc, reads) // the one worker is busy
	release := make(chan struct{})
	defer close(release)
	tc.Do(func() { // and the one place in its queue taken: full
		ioloop.RunInExecutor(reads, func() (int, error) { <-release; return 0, nil })
	})
	r := ada.client.Get("/api/rooms/lobby/history")
	if r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" || !strings.Contains(r.Body, `"code":"busy"`) {
		t.Fatalf("history with the reads executor full: %d %v %s", r.Status, r.Header, r.Body)
	}
}
