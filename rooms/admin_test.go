package rooms

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
	"chat/store"
)

// The engine's side of the admin dashboard (admin.go, conns.go), over real
// sockets on all three doors: the connection registry, kicking one
// connection, a user's mute and ban taking effect live, and a moderator's
// delete and room changes reaching every door and replay.

// connections runs Engine.Connections on the loop.
func (tc *testChat) connections() []ConnInfo {
	var out []ConnInfo
	tc.Do(func() { out = tc.engine.Connections() })
	return out
}

// connOf finds the one connection of userID on door.
func (tc *testChat) connOf(userID int64, door Door) ConnInfo {
	tc.t.Helper()
	var found []ConnInfo
	for _, c := range tc.connections() {
		if c.UserID == userID && c.Door == door {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		tc.t.Fatalf("user %d has %d connections on %s: %+v", userID, len(found), door, tc.connections())
	}
	return found[0]
}

// userChanged runs Engine.UserChanged and waits for it.
func (tc *testChat) userChanged(userID int64, reason string) {
	tc.t.Helper()
	if _, err := asynctest.Await(tc.t, tc.Loop, func() *concurrent.Future[struct{}] {
		return tc.engine.UserChanged(userID, reason)
	}); err != nil {
		tc.t.Fatalf("UserChanged(%d): %v", userID, err)
	}
}

// parkedPolls counts the long polls waiting for an event.
func (tc *testChat) parkedPolls() int {
	n := 0
	for _, h := range tc.engine.hubs {
		for p := range h.polls {
			if p.parked() {
				n++
			}
		}
	}
	return n
}

// startPoll makes a long poll on a goroutine of its own; its answer (or
// the error) arrives on the channel.
func (u *testUser) startPoll(room string, after int64) <-chan asynctest.Response {
	ch := make(chan asynctest.Response, 1)
	req, err := asynctest.NewRequest("GET", u.client.URL+roomPath(room, "events", after), "")
	if err != nil {
		u.t.Fatal(err)
	}
	go func() {
		r, err := u.client.RoundTrip(req)
		if err != nil {
			r = asynctest.Response{Status: -1, Body: err.Error()}
		}
		ch <- r
	}()
	return ch
}

// parkPoll starts a long poll and waits until the server has parked it
// (one more parked poll than before).
func (u *testUser) parkPoll(room string) <-chan asynctest.Response {
	tc := u.tc
	var before int
	tc.Do(func() { before = tc.parkedPolls() })
	ch := u.startPoll(room, -1)
	tc.WaitFor(func() bool { return tc.parkedPolls() == before+1 }, u.name+"'s long poll is parked")
	return ch
}

// nextOfType returns the stream's next event of type typ, skipping others.
func (s *sseClient) nextOfType(t testing.TB, typ string) (sseEvent, frame) {
	t.Helper()
	for {
		if ev, f := s.next(t); f.Type == typ {
			return ev, f
		}
	}
}

// nextDurable returns the stream's next frame that is not a presence
// change.
func (s *sseClient) nextDurable(t testing.TB) frame {
	t.Helper()
	for {
		if _, f := s.next(t); !ephemeralPresence(f) {
			return f
		}
	}
}

// waitEnd waits until the server ends the stream, failing if a message or
// an error arrives first or the stream stays open.
func (s *sseClient) waitEnd(t testing.TB) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return
			}
			if f := decodeFrame(t, ev.data); f.Type == "message" || f.Type == "error" {
				t.Fatalf("the stream went on after its end: %s", ev.data)
			}
		case <-timeout:
			t.Fatal("the stream was not ended within 10 s")
		}
	}
}

// wsRefused dials the room's WebSocket as u and expects the handshake to
// be refused with status.
func (u *testUser) wsRefused(room string, status int) {
	u.t.Helper()
	_, err := u.tc.DialWebSocketOptions(roomPath(room, "ws", -1),
		websocket.DialOptions{Header: http.Header{"Cookie": {u.cookieHeader()}}})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.Status != status {
		u.t.Fatalf("dial as %s: %v, want a %d handshake error", u.name, err, status)
	}
}

// Connections lists every open connection with its door, user, room,
// client address, arrival, bytes queued and last read, oldest first.
func TestConnectionsListsEveryDoor(t *testing.T) {
	clock := newTestClock()
	tc := startChat(t, withClock(clock))
	ada, bob, cat := tc.guest("ada"), tc.guest("bob"), tc.guest("cat")
	side := tc.createRoom("side")
	t0 := clock.Now()

	aws := ada.ws("lobby", -1)
	readUntil(t, aws, "hello")
	clock.Advance(time.Second)
	sse := bob.stream("side", -1, "")
	if _, f := sse.next(t); f.Type != "hello" {
		t.Fatalf("stream's first event %+v", f)
	}
	clock.Advance(time.Second)
	polled := cat.parkPoll("lobby")
	clock.Advance(time.Second)
	aws.Send(`{"type":"typing"}`) // a frame from ada: her last read
	readUntil(t, aws, "typing")

	got := tc.connections()
	type want struct {
		door          Door
		user          *testUser
		room          string
		since, readAt time.Duration
	}
	wants := []want{
		{DoorWebSocket, ada, "lobby", 0, 3 * time.Second},
		{DoorSSE, bob, side.Name, time.Second, time.Second},
		{DoorPoll, cat, "lobby", 2 * time.Second, 2 * time.Second},
	}
	if len(got) != len(wants) {
		t.Fatalf("Connections: %+v, want %d", got, len(wants))
	}
	ids := map[uint64]bool{}
	for i, w := range wants {
		c := got[i]
		if c.Door != w.door || c.UserID != w.user.id || c.UserName != w.user.name || !c.Guest || c.Room != w.room ||
			c.Address != "127.0.0.1" || !c.Since.Equal(t0.Add(w.since)) || !c.LastRead.Equal(t0.Add(w.readAt)) ||
			c.ID == 0 || ids[c.ID] || c.QueuedBytes < 0 {
			t.Errorf("connection %d: %+v, want %s of %s in %s since +%s, read +%s", i, c, w.door, w.user.name, w.room, w.since, w.readAt)
		}
		ids[c.ID] = true
		if c.Door == DoorPoll && c.QueuedBytes != 0 {
			t.Errorf("a long poll queues %d bytes", c.QueuedBytes)
		}
	}

	// What a stream has been given and not yet flushed counts as queued:
	// write to it and look in the same turn of the loop.
	frameBytes := encodeFrame(wireTyping{Type: "typing", User: "someone"})
	var queued int
	tc.Do(func() {
		for s := range tc.engine.hubs["side"].streams {
			s.sendEphemeral(frameBytes)
		}
		for _, c := range tc.engine.Connections() {
			if c.Door == DoorSSE {
				queued = c.QueuedBytes
			}
		}
	})
	if queued < len(frameBytes) {
		t.Errorf("the stream queues %d bytes after a write of %d", queued, len(frameBytes))
	}

	// Gone connections leave the list.
	aws.Close(websocket.CloseNormal, "")
	sse.close()
	tc.WaitFor(func() bool { return len(tc.engine.Connections()) == 1 }, "only the poll is left")
	clock.Advance(time.Minute)
	tc.Do(func() { tc.engine.KickConnection(tc.engine.Connections()[0].ID, "done") })
	<-polled
	tc.WaitFor(func() bool { return len(tc.engine.Connections()) == 0 }, "nobody is connected")
}

// KickConnection closes that connection only, with the reason, on each
// door: a WebSocket with 4000, a stream after a kicked error event, a
// parked long poll with 403 kicked. The user's other connections stay,
// and an unknown id closes nothing.
func TestKickConnectionClosesOnlyThatOne(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	ws1 := ada.ws("lobby", -1)
	readUntil(t, ws1, "hello")
	ws2 := ada.ws("lobby", -1)
	readUntil(t, ws2, "hello")
	sse := ada.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	polled := ada.parkPoll("lobby")

	conns := tc.connections()
	if len(conns) != 4 {
		t.Fatalf("Connections: %+v", conns)
	}
	first := conns[0] // ws1: the oldest
	kick := func(id uint64, reason string) bool {
		var ok bool
		tc.Do(func() { ok = tc.engine.KickConnection(id, reason) })
		return ok
	}
	if !kick(first.ID, "one tab is enough") {
		t.Fatal("KickConnection found no WebSocket")
	}
	if code, reason := ws1.WaitClosed(); code != CloseKicked || reason != "one tab is enough" {
		t.Fatalf("ws1 closed with %d %q", code, reason)
	}
	ws2.Send(`{"type":"typing"}`)
	readUntil(t, ws2, "typing") // ws2 is still open and served
	tc.WaitFor(func() bool { return len(tc.engine.Connections()) == 3 }, "ws1 is gone on the server")

	if !kick(tc.connOf(ada.id, DoorSSE).ID, "no streams today") {
		t.Fatal("KickConnection found no stream")
	}
	_, f := sse.nextOfType(t, "error")
	if f.Code != "kicked" || f.Message != "no streams today" {
		t.Fatalf("the stream's last event %+v", f)
	}
	sse.waitEnd(t)

	if !kick(tc.connOf(ada.id, DoorPoll).ID, "stop polling") {
		t.Fatal("KickConnection found no long poll")
	}
	p := <-polled
	httpError(t, p, http.StatusForbidden, "kicked", 0)
	if !strings.Contains(p.Body, "stop polling") {
		t.Fatalf("the poll's answer %s lacks the reason", p.Body)
	}

	if kick(first.ID, "again") || kick(999999, "nobody") {
		t.Fatal("KickConnection closed a connection that is not open")
	}
	if conns := tc.connections(); len(conns) != 1 || conns[0].Door != DoorWebSocket {
		t.Fatalf("left: %+v, want ws2 alone", conns)
	}
	ws2.Send(`{"type":"send","body":"still here","key":"k"}`)
	readUntil(t, ws2, "ack")
}

// After the dashboard mutes a user and calls UserChanged, her next post is
// refused muted with the time left, over the WebSocket opened before the
// mute and over HTTP; her connections stay open (a mute is not a kick);
// after an unmute she posts again.
func TestUserChangedMute(t *testing.T) {
	clock := newTestClock()
	tc := startChat(t, withClock(clock))
	ada := tc.guest("ada")
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	sse := ada.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	ws.Send(`{"type":"send","body":"loud","key":"k0"}`)
	readUntil(t, ws, "ack")

	ctx := context.Background()
	if err := tc.store.MuteUser(ctx, tc.owner.ID, ada.id, clock.Now().Add(90*time.Second), "shouting"); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "shouting")
	ws.Send(`{"type":"send","body":"louder","key":"k1"}`)
	wsError(t, ws, "muted", "k1", 90)
	clock.Advance(30 * time.Second)
	httpError(t, ada.post("lobby", "LOUDER", "k2"), http.StatusForbidden, "muted", 60)
	if n := len(tc.connections()); n != 2 {
		t.Fatalf("after a mute ada has %d connections, want her 2", n)
	}

	if err := tc.store.MuteUser(ctx, tc.owner.ID, ada.id, time.Time{}, "calmer now"); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "calmer now")
	ws.Send(`{"type":"send","body":"sorry","key":"k3"}`)
	ack := readUntil(t, ws, "ack")
	if _, f := sse.nextOfType(t, "message"); f.Body != "loud" {
		t.Fatalf("stream: %+v", f)
	}
	if _, f := sse.nextOfType(t, "message"); f.ID != ack.ID || f.Body != "sorry" {
		t.Fatalf("stream: %+v, want the message of %+v", f, ack)
	}
}

// A ban through UserChanged (BanUser and BumpSessionVersion on the test's
// clock do what BanAs does on the real one) ends every connection of the user at once: the WebSocket
// closes 4001 with the reason, the stream ends after a banned error, the
// parked poll is answered 403 banned. Other users stay. Her next request
// and a new WebSocket are refused 403 banned with the time left, though
// her cookie's version is now stale; when the ban is lifted that cookie
// is simply signed out (401).
func TestUserChangedBan(t *testing.T) {
	clock := newTestClock()
	tc := startChat(t, withClock(clock))
	ada, bob := tc.guest("ada"), tc.guest("bob")
	aws := ada.ws("lobby", -1)
	readUntil(t, aws, "hello")
	bws := bob.ws("lobby", -1)
	readUntil(t, bws, "hello")
	sse := ada.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	polled := ada.parkPoll("lobby")

	ctx := context.Background()
	if err := tc.store.BanUser(ctx, tc.owner.ID, ada.id, clock.Now().Add(time.Hour), "spam"); err != nil {
		t.Fatal(err)
	}
	if _, err := tc.store.BumpSessionVersion(ctx, ada.id); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "spam")

	if code, reason := aws.WaitClosed(); code != CloseSessionEnded || !strings.Contains(reason, "spam") {
		t.Fatalf("ada's WebSocket closed with %d %q", code, reason)
	}
	_, f := sse.nextOfType(t, "error")
	if f.Code != "banned" || !strings.Contains(f.Message, "spam") || f.RetryAfter != 3600 {
		t.Fatalf("the stream's last event %+v", f)
	}
	sse.waitEnd(t)
	httpError(t, <-polled, http.StatusForbidden, "banned", 3600)
	tc.WaitFor(func() bool {
		for _, c := range tc.engine.Connections() {
			if c.UserID == ada.id {
				return false
			}
		}
		return true
	}, "ada's connections are gone on the server")
	if c := tc.connOf(bob.id, DoorWebSocket); c.UserName != "bob" {
		t.Fatalf("bob's connection %+v", c)
	}

	clock.Advance(10 * time.Minute)
	httpError(t, ada.post("lobby", "let me in", "k"), http.StatusForbidden, "banned", 3000)
	httpError(t, ada.client.Get(roomPath("lobby", "events", -1)), http.StatusForbidden, "banned", 3000)
	httpError(t, ada.client.Get(roomPath("lobby", "stream", -1)), http.StatusForbidden, "banned", 3000)
	ada.wsRefused("lobby", http.StatusForbidden)
	bws.Send(`{"type":"send","body":"quiet now","key":"b1"}`)
	readUntil(t, bws, "ack")

	// Lifted: the stale cookie is no session (the ban ended it), not a ban.
	if err := tc.store.BanUser(ctx, tc.owner.ID, ada.id, time.Time{}, "served"); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "served")
	httpError(t, ada.post("lobby", "hello again", "k2"), http.StatusUnauthorized, "unauthorized", 0)
}

// A session version raised without a ban (signing out everywhere, from
// the dashboard's point of view a change to the user) ends the
// connections opened with the old one: 4001 and session_ended.
func TestUserChangedSessionVersion(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	sse := ada.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	polled := ada.parkPoll("lobby")
	if _, err := tc.store.BumpSessionVersion(context.Background(), ada.id); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "signed out everywhere")
	if code, reason := ws.WaitClosed(); code != CloseSessionEnded || !strings.Contains(reason, "signed out everywhere") {
		t.Fatalf("closed with %d %q", code, reason)
	}
	if _, f := sse.nextOfType(t, "error"); f.Code != "session_ended" {
		t.Fatalf("the stream's last event %+v", f)
	}
	sse.waitEnd(t)
	httpError(t, <-polled, http.StatusForbidden, "session_ended", 0)
	httpError(t, ada.post("lobby", "hi", "k"), http.StatusUnauthorized, "unauthorized", 0)
}

// A role change through UserChanged applies to a connection opened
// before it: a user made moderator posts in a locked room at once.
func TestUserChangedRole(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	locked := true
	if _, err := tc.changeRoom("lobby", store.RoomChange{Locked: &locked}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "room")
	ws.Send(`{"type":"send","body":"hi","key":"k1"}`)
	wsError(t, ws, "locked", "k1", 0)
	if err := tc.store.SetRole(context.Background(), tc.owner.ID, ada.id, store.RoleModerator); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "")
	ws.Send(`{"type":"send","body":"hi","key":"k2"}`)
	readUntil(t, ws, "ack")
}

// A moderator's delete through the engine reaches every door live (a
// WebSocket, a stream and a parked long poll all get the tombstone with
// the same id) and comes back in replay on each: the message marked
// deleted with no body, then the tombstone.
func TestModeratorDeleteReachesEveryDoorAndReplay(t *testing.T) {
	tc := startChat(t, nil)
	ada, bob := tc.guest("ada"), tc.guest("bob")
	posted := httpAck(t, ada.post("lobby", "something regrettable", "k1"), http.StatusCreated)
	bws := bob.ws("lobby", -1)
	readUntil(t, bws, "hello")
	sse := bob.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	polled := bob.parkPoll("lobby")

	mod := &accounts.User{ID: tc.owner.ID, Name: tc.owner.Name, Role: store.RoleAdmin}
	ack, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[Ack] {
		return tc.engine.DeleteMessage("lobby", mod, posted.Msg)
	})
	if err != nil {
		t.Fatal(err)
	}
	tomb := func(where string, f frame) {
		t.Helper()
		if f.Type != "delete" || f.ID != ack.EventID || f.Msg != posted.Msg || f.By != tc.owner.Name {
			t.Fatalf("%s: %+v, want the tombstone %d of message %d", where, f, ack.EventID, posted.Msg)
		}
	}
	tomb("WebSocket", readUntil(t, bws, "delete"))
	ev, f := sse.nextOfType(t, "delete")
	tomb("stream", f)
	if ev.id != itoa(ack.EventID) {
		t.Fatalf("the stream's event id %q, want %d", ev.id, ack.EventID)
	}
	p := <-polled
	if p.Status != http.StatusOK {
		t.Fatalf("poll: %d %s", p.Status, p.Body)
	}
	if pf := decodeFrame(t, p.Body); len(pf.Events) != 1 {
		t.Fatalf("poll: %s", p.Body)
	} else {
		tomb("long poll", pf.Events[0])
	}

	// Replay from the start, on each door.
	replayed := func(where string, events []frame) {
		t.Helper()
		if len(events) != 2 || events[0].Type != "message" || events[0].Msg != posted.Msg ||
			!events[0].Deleted || events[0].Body != "" {
			t.Fatalf("%s replay: %+v, want the message deleted, then its tombstone", where, events)
		}
		tomb(where+" replay", events[1])
	}
	replayed("long poll", bob.poll("lobby", 0).Events)
	ws := bob.ws("lobby", 0)
	readUntil(t, ws, "hello")
	replayed("WebSocket", []frame{nextFrame(t, ws), nextFrame(t, ws)})
	s2 := bob.stream("lobby", 0, "")
	s2.nextOfType(t, "hello")
	replayed("stream", []frame{s2.nextDurable(t), s2.nextDurable(t)})
}

// Room changes through the engine take effect on both doors that post: a
// locked room refuses posts (403 locked), slow mode answers retry_after
// (429 slow_mode); a stream member sees each change as a room event.
func TestRoomChangesRefusePostsOnEveryDoor(t *testing.T) {
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			clock := newTestClock()
			tc := startChat(t, withClock(clock))
			ada, bob := tc.guest("ada"), tc.guest("bob")
			ws := ada.ws("lobby", -1)
			readUntil(t, ws, "hello")
			sse := bob.stream("lobby", -1, "")
			sse.nextOfType(t, "hello")
			send := func(body, key string) (frame, int) {
				t.Helper()
				if door == "http" {
					r := ada.post("lobby", body, key)
					return decodeFrame(t, r.Body), r.Status
				}
				ws.Send(`{"type":"send","body":"` + body + `","key":"` + key + `"}`)
				return nextReply(t, ws), 0
			}
			change := func(c store.RoomChange) {
				t.Helper()
				ack, err := tc.changeRoom("lobby", c)
				if err != nil {
					t.Fatal(err)
				}
				if _, f := sse.nextOfType(t, "room"); f.ID != ack.EventID {
					t.Fatalf("the stream's room event %+v, want %d", f, ack.EventID)
				}
			}
			refused := func(f frame, status int, wantStatus int, code string, retryAfter int) {
				t.Helper()
				if f.Type != "error" || f.Code != code || f.RetryAfter != retryAfter || (door == "http" && status != wantStatus) {
					t.Fatalf("got %d %+v, want %d %s retry_after %d", status, f, wantStatus, code, retryAfter)
				}
			}
			locked, unlocked, slow := true, false, 30
			change(store.RoomChange{Locked: &locked})
			f, status := send("hello", "k1")
			refused(f, status, http.StatusForbidden, "locked", 0)

			change(store.RoomChange{Locked: &unlocked, SlowMode: &slow})
			if f, _ := send("first", "k2"); f.Type != "ack" {
				t.Fatalf("first post in slow mode: %+v", f)
			}
			clock.Advance(10 * time.Second)
			f, status = send("second", "k3")
			refused(f, status, http.StatusTooManyRequests, "slow_mode", 20)
			clock.Advance(20 * time.Second)
			if f, _ := send("third", "k4"); f.Type != "ack" {
				t.Fatalf("a post after the wait: %+v", f)
			}
		})
	}
}

// A ban that lands while a request waits for its room to load (so no
// connection of it was there to end) is still refused once the room is
// there: the session is checked again before the request joins the hub.
func TestBanDuringRoomLoad(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		reads = c.Loop.NewExecutor("test-reads", 1, 64)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	tc.createRoom("side")
	release := blockReads(t, tc, reads)
	polled := ada.startPoll("side", -1)
	tc.WaitFor(func() bool { return len(tc.engine.loading) == 1 }, "the side room is loading")
	// The dashboard's way: BanAs raises the session version too.
	if _, err := tc.store.BanAs(context.Background(), store.Actor{ID: tc.owner.ID, Address: "127.0.0.1"}, ada.id, time.Now().Add(time.Hour), "spam"); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "spam")
	release()
	p := <-polled
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, `"code":"banned"`) {
		t.Fatalf("the poll that waited for its room: %d %s", p.Status, p.Body)
	}
}

// The audit entries of a moderator's delete and of a room change record
// the actor's client address and the reason, in the change's own
// transaction: given by the dashboard (DeleteMessageAs, RoomChange's
// Address), or the connection's address for a moderator's delete frame.
func TestModerationAuditCarriesTheAddress(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	owner := &accounts.User{ID: tc.owner.ID, Name: tc.owner.Name, Role: store.RoleAdmin, SessionVersion: tc.owner.SessionVersion}
	first := httpAck(t, ada.post("lobby", "one", "k1"), http.StatusCreated)
	second := httpAck(t, ada.post("lobby", "two", "k2"), http.StatusCreated)

	if _, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[Ack] {
		return tc.engine.DeleteMessageAs("lobby", owner, "203.0.113.7", first.Msg, "spam")
	}); err != nil {
		t.Fatal(err)
	}
	locked := true
	if _, err := tc.changeRoom("lobby", store.RoomChange{Locked: &locked, Address: "203.0.113.8"}); err != nil {
		t.Fatal(err)
	}
	// A moderator deleting with a frame on her WebSocket.
	if err := tc.store.SetRole(context.Background(), tc.owner.ID, ada.id, store.RoleModerator); err != nil {
		t.Fatal(err)
	}
	tc.userChanged(ada.id, "")
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	ws.Send(`{"type":"delete","msg":` + itoa(second.Msg) + `,"key":"d"}`)
	readUntil(t, ws, "ack")

	audit, err := tc.store.QueryAudit(context.Background(), store.AuditQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{ // target: address
		"message:" + itoa(first.Msg):  "203.0.113.7",
		"room:" + itoa(tc.lobby.ID):   "203.0.113.8",
		"message:" + itoa(second.Msg): "127.0.0.1",
	}
	for _, a := range audit {
		if addr, ok := want[a.Target]; ok {
			if a.Address != addr {
				t.Errorf("audit %s %s: address %q, want %q", a.Action, a.Target, a.Address, addr)
			}
			if a.Target == "message:"+itoa(first.Msg) && !strings.Contains(a.Details, "spam") {
				t.Errorf("audit of the delete: details %q lack the reason", a.Details)
			}
			delete(want, a.Target)
		}
	}
	if len(want) != 0 {
		t.Fatalf("no audit entry for %v in %+v", want, audit)
	}
}
