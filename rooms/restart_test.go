package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// stoppableChat is a chat whose server and loop the test stops itself, as
// a process that exits, while the store (or its file) lives on for the
// next one. startChat's cleanups expect the loop to run until the test
// ends, so this builds the same server with a loop it owns. Clients of a
// stoppableChat must not register cleanups that need its loop (the
// harness's WSClient does): use peer's clients.
type stoppableChat struct {
	*testChat
	runDone chan error
	stopped bool
}

// startStoppableChat serves the engine on a new loop over st, signing
// cookies with keys (a restart keeps its secrets, so sessions survive).
func startStoppableChat(t *testing.T, st *store.Store, keys []web.KeyPair, adjust func(*Config)) *stoppableChat {
	t.Helper()
	loop, err := ioloop.New(ioloop.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc := &stoppableChat{testChat: &testChat{t: t, store: st}, runDone: make(chan error, 1)}
	go func() { sc.runDone <- loop.Run() }()
	tc := sc.testChat
	ctx := context.Background()
	if tc.owner, err = st.UserByName(ctx, "owner"); err != nil {
		if tc.owner, err = st.CreateUser(ctx, "owner", []byte("not a real hash"), store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	if tc.lobby, err = st.RoomByName(ctx, "lobby"); err != nil {
		if tc.lobby, err = st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: tc.owner.ID}); err != nil {
			t.Fatal(err)
		}
	}
	var app *web.Application
	var srv *httpserver.Server
	var addr net.Addr
	asynctest.Do(t, loop, func() {
		tc.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true})
		cfg := Config{Loop: loop, Store: st, Sessions: tc.sessions}
		if adjust != nil {
			adjust(&cfg)
		}
		tc.engine = New(cfg)
		app, err = web.NewApplication(web.Config{Loop: loop, CookieKeys: keys,
			Routes: append(tc.sessions.Routes(), tc.engine.Routes()...)})
		if err == nil {
			srv = app.NewServer()
			addr, err = srv.Listen("127.0.0.1:0")
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	tc.Server = &asynctest.Server{Client: asynctest.NewClient(t, "http://"+addr.String()), Loop: loop,
		HTTPServer: srv, App: app, Addr: addr.String()}
	t.Cleanup(sc.stop)
	return sc
}

// stop closes the listener, stops the loop and waits for Run, then closes
// the loop, which closes every connection still open. Idempotent.
func (sc *stoppableChat) stop() {
	if sc.stopped {
		return
	}
	sc.stopped = true
	sc.Do(sc.HTTPServer.Close)
	sc.Loop.Stop()
	select {
	case err := <-sc.runDone:
		if err != nil {
			sc.t.Errorf("loop.Run: %v", err)
		}
	case <-time.After(asynctest.Watchdog):
		sc.t.Errorf("the loop did not stop within %v", asynctest.Watchdog)
		return
	}
	sc.Loop.Close()
}

// log is a client's applied events and cursor, for the test goroutine.
type clientLog struct {
	name string
	got  []durable
}

func (l *clientLog) cursor() int64 {
	if len(l.got) == 0 {
		return 0
	}
	return l.got[len(l.got)-1].ID
}

func (l *clientLog) apply(t *testing.T, f frame) bool {
	t.Helper()
	d, ok := durableFrame(f)
	if !ok {
		return false
	}
	if d.ID <= l.cursor() {
		t.Fatalf("%s: event %d at cursor %d: a duplicate or out of order", l.name, d.ID, l.cursor())
	}
	l.got = append(l.got, d)
	return true
}

// readWSUntil reads a gorilla connection, applying events, until the
// cursor reaches last (last < 0: until the connection closes) and returns
// the close error if it closed.
func readWSUntil(t *testing.T, l *clientLog, conn *gorilla.Conn, last int64, acks map[string]int64) error {
	t.Helper()
	for last < 0 || l.cursor() < last {
		f, err := readWSFrame(conn)
		if err != nil {
			return err
		}
		switch f.Type {
		case "ack":
			if acks != nil {
				acks[f.Key] = f.ID
			}
		case "error", "reset":
			t.Fatalf("%s: %+v", l.name, f)
		default:
			l.apply(t, f)
		}
	}
	return nil
}

// readSSEUntil reads a stream until the cursor reaches last (last < 0:
// until the server ends it) and returns the error that ended it.
func readSSEUntil(t *testing.T, l *clientLog, s *sseConn, last int64) error {
	t.Helper()
	for last < 0 || l.cursor() < last {
		ev, err := s.next(false)
		if err != nil {
			return err
		}
		var f frame
		if err := json.Unmarshal([]byte(ev.data), &f); err != nil {
			t.Fatalf("%s: %q: %v", l.name, ev.data, err)
		}
		if f.Type == "error" || f.Type == "reset" {
			t.Fatalf("%s: %+v", l.name, f)
		}
		if l.apply(t, f) && ev.id != itoa(f.ID) {
			t.Fatalf("%s: event %d sent with id %q", l.name, f.ID, ev.id)
		}
	}
	return nil
}

// pollUntil long-polls until the cursor reaches last.
func pollUntil(t *testing.T, l *clientLog, p *peer, room string, last int64) {
	t.Helper()
	for l.cursor() < last {
		f, err := p.pollOnce(context.Background(), room, l.cursor())
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		if f.Type != "events" {
			t.Fatalf("%s: %+v", l.name, f)
		}
		for _, e := range f.Events {
			l.apply(t, e)
		}
	}
}

func sendFrame(t *testing.T, conn *gorilla.Conn, v map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	if err := conn.WriteMessage(gorilla.TextMessage, b); err != nil {
		t.Fatal(err)
	}
}

// TestShutdownAndRestart: Shutdown with clients on every door closes the
// WebSockets with 1001, answers a parked long poll with no events and ends
// the streams, while the writes submitted just before (all 15 held in
// flight by a writer kept busy) still commit: the HTTP ones are acked,
// the WebSocket ones, whose socket is gone, are found by a retry with the
// same key after the restart (the same id, no second event). A new server
// on the same store (or the same file reopened) then serves every client
// from its cursor, on its door, with a room change made while no server
// ran: each ends with exactly the stored log, each key stored once.
func TestShutdownAndRestart(t *testing.T) {
	for _, reopen := range []bool{false, true} {
		name := "same store"
		if reopen {
			name = "store reopened"
		}
		t.Run(name, func(t *testing.T) { testRestart(t, reopen) })
	}
}

func testRestart(t *testing.T, reopen bool) {
	path := filepath.Join(t.TempDir(), "chat.db")
	st, err := store.Open(context.Background(), store.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys := []web.KeyPair{web.GenerateKeys()}
	adjust := func(c *Config) {
		c.RateLimit = RateLimit{Burst: 1000, PerSecond: 1000}
		c.RingSize = 8
	}
	sc := startStoppableChat(t, st, keys, adjust)
	den := sc.createRoom("den")
	transport := &http.Transport{}
	t.Cleanup(transport.CloseIdleConnections)
	users := map[string]*testUser{}
	peers := map[string]*peer{}
	for _, name := range []string{"ada", "bob", "cy", "dee", "dan", "eve"} {
		users[name] = sc.guest(name)
		peers[name] = users[name].peer(transport)
	}
	ctx := context.Background()

	// Before: dan posts on his WebSocket; ada (WebSocket), bob (stream)
	// and cy (long poll) read the lobby; dee parks a long poll in the den.
	dan, err := peers["dan"].dialWS(ctx, "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer dan.Close()
	danAcks := map[string]int64{}
	for i := range 5 {
		k := fmt.Sprintf("before-%d", i)
		sendFrame(t, dan, map[string]any{"type": "send", "body": k, "key": k})
	}
	danLog := &clientLog{name: "dan"}
	for len(danAcks) < 5 {
		if err := readWSUntil(t, danLog, dan, danLog.cursor()+1, danAcks); err != nil {
			t.Fatal(err)
		}
	}
	last := danAcks["before-4"]
	ada := &clientLog{name: "ada (ws)"}
	adaWS, err := peers["ada"].dialWS(ctx, "lobby", 0)
	if err != nil {
		t.Fatal(err)
	}
	defer adaWS.Close()
	if err := readWSUntil(t, ada, adaWS, last, nil); err != nil {
		t.Fatal(err)
	}
	bob := &clientLog{name: "bob (sse)"}
	bobSSE, err := peers["bob"].openSSE(ctx, "lobby", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	defer bobSSE.close()
	if err := readSSEUntil(t, bob, bobSSE, last); err != nil {
		t.Fatal(err)
	}
	cy := &clientLog{name: "cy (poll)"}
	pollUntil(t, cy, peers["cy"], "lobby", last)
	type answer struct {
		f   frame
		err error
	}
	deePoll := make(chan answer, 1)
	go func() {
		f, err := peers["dee"].pollOnce(ctx, "den", 0)
		deePoll <- answer{f, err}
	}()
	sc.WaitFor(func() bool { return sc.engine.Stats().Waiters == 1 }, "dee's poll parked")

	// The writer is held (a done callback that waits: Submit's contract
	// says the next batch waits for it), so that every write below is
	// still in flight when Shutdown runs. The holding write is a change to
	// the den's topic, which no client here checks.
	held, unhold := make(chan struct{}), make(chan struct{})
	var unholdOnce sync.Once
	release := func() { unholdOnce.Do(func() { close(unhold) }) }
	t.Cleanup(release)
	topic := "held"
	if err := st.Submit(store.RoomChange{RoomID: den.ID, ActorID: sc.owner.ID, Topic: &topic},
		func(store.Result) { close(held); <-unhold }); err != nil {
		t.Fatal(err)
	}
	asynctest.Wait(t, held, "the writer held")

	// Just before the shutdown: 10 sends on dan's socket, 5 POSTs by eve,
	// and cy polling on. Shutdown runs in the loop turn that sees the last
	// of the 15 submitted.
	var posts0 uint64
	sc.Do(func() { posts0 = sc.engine.stats.posts })
	var pending []string
	for i := range 10 {
		k := fmt.Sprintf("late-%d", i)
		pending = append(pending, k)
		sendFrame(t, dan, map[string]any{"type": "send", "body": k, "key": k})
	}
	var eves sync.WaitGroup
	eveStatus := make([]int, 5)
	eveAcks := make([]frame, 5)
	for i := range 5 {
		eves.Go(func() {
			k := fmt.Sprintf("eve-%d", i)
			status, body, err := peers["eve"].do(ctx, "POST", "/api/rooms/lobby/messages", map[string]string{"body": k, "key": k})
			if err == nil {
				eveStatus[i] = status
				json.Unmarshal(body, &eveAcks[i])
			}
		})
	}
	inflight := 0
	sc.WaitFor(func() bool {
		if sc.engine.stats.posts < posts0+15 {
			return false
		}
		for _, h := range sc.engine.hubs {
			inflight += h.inflight
		}
		sc.engine.Shutdown()
		return true
	}, "15 writes submitted")
	if inflight != 15 {
		t.Errorf("%d of the 15 writes in flight at Shutdown, want all", inflight)
	}
	release()

	// The doors close.
	err = readWSUntil(t, ada, adaWS, -1, nil)
	if ce := (*gorilla.CloseError)(nil); !errors.As(err, &ce) || ce.Code != gorilla.CloseGoingAway {
		t.Errorf("ada's WebSocket ended with %v, want close 1001", err)
	}
	err = readWSUntil(t, danLog, dan, -1, danAcks)
	if ce := (*gorilla.CloseError)(nil); !errors.As(err, &ce) || ce.Code != gorilla.CloseGoingAway {
		t.Errorf("dan's WebSocket ended with %v, want close 1001", err)
	}
	if err := readSSEUntil(t, bob, bobSSE, -1); !errors.Is(err, io.EOF) {
		t.Errorf("bob's stream ended with %v, want its end", err)
	}
	if a := <-deePoll; a.err != nil || a.f.Type != "events" || len(a.f.Events) != 0 || a.f.LastID != 0 {
		t.Errorf("dee's parked poll answered %+v %v, want no events and last_id 0", a.f, a.err)
	}
	eves.Wait()
	for i, status := range eveStatus {
		if status != http.StatusCreated || eveAcks[i].ID == 0 {
			t.Errorf("eve's POST %d, submitted before the shutdown: %d %+v, want 201 and its ack", i, status, eveAcks[i])
		}
	}
	if status, body, err := peers["cy"].do(ctx, "GET", roomPath("lobby", "events", cy.cursor()), nil); err != nil || status != http.StatusServiceUnavailable {
		t.Errorf("a poll after the shutdown: %d %s %v, want 503", status, body, err)
	}
	acked := 0
	for _, k := range pending {
		if _, ok := danAcks[k]; ok {
			acked++
		}
	}
	if acked != 0 {
		t.Errorf("dan got %d of his 10 late acks after the 1001", acked)
	}
	sc.WaitFor(sc.engine.Drained, "the engine drained")
	sc.stop()

	// While no server runs: the lobby's topic changes (a room event),
	// and the store may be closed and reopened.
	if reopen {
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if st, err = store.Open(ctx, store.Config{Path: path}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
	}
	if err := st.SetRoomTopic(ctx, sc.owner.ID, sc.lobby.ID, "Lobby", "after the restart"); err != nil {
		t.Fatal(err)
	}

	// The restart: everyone comes back with their cursor on their door;
	// dan resends what was not acked (and one that was).
	sc2 := startStoppableChat(t, st, keys, adjust)
	for name, u := range users {
		u.tc = sc2.testChat
		peers[name] = u.peer(transport)
	}
	dan2, err := peers["dan"].dialWS(ctx, "lobby", -1)
	if err != nil {
		t.Fatal(err)
	}
	defer dan2.Close()
	resend := []string{"before-0"}
	for _, k := range pending {
		if _, ok := danAcks[k]; !ok {
			resend = append(resend, k)
		}
	}
	retried := map[string]int64{}
	for _, k := range resend {
		sendFrame(t, dan2, map[string]any{"type": "send", "body": k, "key": k})
	}
	for i := range 5 {
		k := fmt.Sprintf("after-%d", i)
		sendFrame(t, dan2, map[string]any{"type": "send", "body": k, "key": k})
	}
	for len(retried) < len(resend)+5 {
		f, err := readWSFrame(dan2)
		switch {
		case err != nil:
			t.Fatal(err)
		case f.Type == "error":
			t.Fatalf("dan after the restart: %+v", f)
		case f.Type == "ack":
			retried[f.Key] = f.ID
		}
	}
	for k, id := range retried {
		if prev, ok := danAcks[k]; ok && prev != id {
			t.Errorf("%q acked as %d before the restart, as %d after", k, prev, id)
		}
	}
	status, body, err := peers["eve"].do(ctx, "POST", "/api/rooms/lobby/messages", map[string]string{"body": "eve-0", "key": "eve-0"})
	if var0 := decodeFrameErr(body); err != nil || status != http.StatusOK || var0.ID != eveAcks[0].ID {
		t.Errorf("eve's retry after the restart: %d %s %v, want 200 with id %d", status, body, err, eveAcks[0].ID)
	}

	log, err := storedLog(ctx, st, sc.lobby.ID)
	if err != nil {
		t.Fatal(err)
	}
	final := log[len(log)-1].ID
	adaWS2, err := peers["ada"].dialWS(ctx, "lobby", ada.cursor())
	if err != nil {
		t.Fatal(err)
	}
	defer adaWS2.Close()
	if err := readWSUntil(t, ada, adaWS2, final, nil); err != nil {
		t.Fatal(err)
	}
	bobSSE2, err := peers["bob"].openSSE(ctx, "lobby", -1, itoa(bob.cursor()))
	if err != nil {
		t.Fatal(err)
	}
	defer bobSSE2.close()
	if err := readSSEUntil(t, bob, bobSSE2, final); err != nil {
		t.Fatal(err)
	}
	pollUntil(t, cy, peers["cy"], "lobby", final)

	for _, l := range []*clientLog{ada, bob, cy} {
		if d := diffLog(l.got, log); d != "" {
			t.Errorf("%s: %s", l.name, d)
		}
	}
	keysStored := map[string]int{}
	rooms := 0
	for _, ev := range log {
		if id, ok := retried[ev.Key]; ok && id != ev.ID {
			t.Errorf("dan's retry of %q after the restart acked %d; it is stored as %d", ev.Key, id, ev.ID)
		}
		if ev.Key != "" {
			keysStored[ev.Key]++
		}
		if ev.Type == "room" {
			rooms++
		}
	}
	for k, n := range keysStored {
		if n != 1 {
			t.Errorf("key %q stored %d times", k, n)
		}
	}
	if want := 5 + 10 + 5 + 5; len(keysStored) != want || rooms != 1 {
		t.Errorf("%d keys stored, want %d; %d room events, want 1", len(keysStored), want, rooms)
	}
}

func decodeFrameErr(body []byte) frame {
	var f frame
	json.Unmarshal(body, &f)
	return f
}

// blockReads occupies the only worker of reads until the returned func is
// called, so the engine's next store read waits in its queue.
func blockReads(t *testing.T, tc *testChat, reads *ioloop.Executor) (release func()) {
	t.Helper()
	unblock, started := make(chan struct{}), make(chan struct{})
	tc.Do(func() {
		ioloop.RunInExecutor(reads, func() (struct{}, error) {
			close(started)
			<-unblock
			return struct{}{}, nil
		})
	})
	asynctest.Wait(t, started, "the reads worker blocked")
	var once sync.Once
	release = func() { once.Do(func() { close(unblock) }) }
	t.Cleanup(release)
	return release
}

// replayingStream starts a chat with ten messages in the lobby and a ring
// of four, opens ada's stream from 0 (older than the ring: a SQLite read)
// and returns once that read waits behind the held reads worker; release
// lets it go.
func replayingStream(t *testing.T) (tc *testChat, ada *testUser, s *sseClient, release func()) {
	t.Helper()
	var reads *ioloop.Executor
	tc = startChat(t, func(c *Config) {
		c.RateLimit = RateLimit{Burst: 1000, PerSecond: 1000}
		c.RingSize = 4
		reads = c.Loop.NewExecutor("reads", 1, 16)
		c.Reads = reads
	})
	ada = tc.guest("ada")
	for i := range 10 {
		if r := ada.post("lobby", fmt.Sprint("m", i), ""); r.Status != 201 {
			t.Fatalf("post: %d %s", r.Status, r.Body)
		}
	}
	release = blockReads(t, tc, reads)
	s = ada.stream("lobby", 0, "")
	if _, f := s.next(t); f.Type != "hello" {
		t.Fatalf("first event %+v", f)
	}
	tc.WaitFor(func() bool { return reads.Stats().QueueDepth == 1 }, "the replay's read queued")
	return tc, ada, s, release
}

// TestShutdownEndsReplayingStream: a stream still catching up from SQLite
// when Shutdown runs ends too, rather than going live on a server that is
// stopping, and the engine then drains.
func TestShutdownEndsReplayingStream(t *testing.T) {
	tc, _, s, release := replayingStream(t)
	tc.Do(tc.engine.Shutdown)
	release()
	expectEnd := time.After(5 * time.Second)
	for n := 0; ; {
		select {
		case ev, ok := <-s.events:
			if !ok {
				tc.WaitFor(tc.engine.Drained, "the engine drained")
				return // it resumes from its cursor on the next server
			}
			if ev.id != "" {
				n++
			}
			continue
		case <-expectEnd:
		}
		var drained bool
		tc.Do(func() { drained = tc.engine.Drained() })
		t.Fatalf("the stream is open 5 s after Shutdown, having replayed %d events (Drained: %v)", n, drained)
	}
}

// TestShutdownDuringRoomLoad: a WebSocket whose room was still loading
// when Shutdown ran is refused or closed with 1001, not served by a hub
// that Shutdown never saw.
func TestShutdownDuringRoomLoad(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		reads = c.Loop.NewExecutor("reads", 1, 16)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	p := ada.peer(http.DefaultTransport)
	release := blockReads(t, tc, reads)
	type dialed struct {
		conn *gorilla.Conn
		err  error
	}
	ch := make(chan dialed, 1)
	go func() {
		conn, err := p.dialWS(context.Background(), "lobby", 0)
		ch <- dialed{conn, err}
	}()
	tc.WaitFor(func() bool { return reads.Stats().QueueDepth == 1 }, "the room's load queued")
	tc.Do(tc.engine.Shutdown)
	release()
	d := asynctest.Wait(t, ch, "the dial")
	if d.err != nil {
		return // refused: fine
	}
	defer d.conn.Close()
	d.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := d.conn.ReadMessage()
		if err == nil {
			continue
		}
		if ce := (*gorilla.CloseError)(nil); !errors.As(err, &ce) || ce.Code != gorilla.CloseGoingAway {
			t.Fatalf("a WebSocket opened on a room loading at Shutdown ended with %v, want a refusal or close 1001", err)
		}
		return
	}
}

// TestKickEndsReplayingStream: a kick reaches a stream of the user that is
// still catching up from SQLite: it ends with the "kicked" error instead
// of going live afterwards.
func TestKickEndsReplayingStream(t *testing.T) {
	tc, ada, s, release := replayingStream(t)
	var kicked int
	tc.Do(func() { kicked = tc.engine.Kick(ada.id, "go away") })
	release()
	if kicked != 1 {
		t.Errorf("Kick closed %d connections, want 1 (the replaying stream)", kicked)
	}
	expectEnd := time.After(5 * time.Second)
	sawKick := false
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				if !sawKick {
					t.Errorf("the stream ended without the kicked error")
				}
				return
			}
			if f := decodeFrame(t, ev.data); f.Type == "error" && f.Code == "kicked" {
				sawKick = true
			}
			continue
		case <-expectEnd:
		}
		t.Fatalf("the kicked user's stream is open 5 s after the kick")
	}
}

// TestStreamClientGoneBeforeOpen: a client that leaves while its stream's
// room is still loading leaves nothing behind: no stream in the hub, no
// one online (the poll door checks this with Finished; the stream door
// must too).
func TestStreamClientGoneBeforeOpen(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		reads = c.Loop.NewExecutor("reads", 1, 16)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	active := func() (n int) {
		tc.Do(func() { n = tc.HTTPServer.Stats().Active })
		return n
	}
	before := active()
	release := blockReads(t, tc, reads)
	conn := tc.DialRaw()
	conn.Send("GET /api/rooms/lobby/stream?after=0 HTTP/1.1\r\nHost: " + tc.Addr + "\r\nCookie: " + ada.cookieHeader() + "\r\n\r\n")
	tc.WaitFor(func() bool { return reads.Stats().QueueDepth == 1 }, "the room's load queued")
	conn.Close()
	tc.WaitFor(func() bool { return tc.HTTPServer.Stats().Active == before }, "the server saw the client leave")
	release()
	tc.WaitFor(func() bool { return tc.engine.Stats().Hubs == 1 }, "the room loaded")
	var left Stats
	tc.Do(func() {}) // a turn for what the load's callbacks queued
	tc.Do(func() { left = tc.engine.Stats() })
	if left.Hubs != 1 || left.Streams != 0 || left.Online != 0 {
		t.Errorf("after a stream's client left during the room's load: %+v, want one hub, no stream, no one online", left)
	}
}

// TestSocketClientGoneBeforeOpen is TestStreamClientGoneBeforeOpen for the
// WebSocket door: a client that leaves before its upgrade is answered
// leaves no member behind.
func TestSocketClientGoneBeforeOpen(t *testing.T) {
	var reads *ioloop.Executor
	tc := startChat(t, func(c *Config) {
		reads = c.Loop.NewExecutor("reads", 1, 16)
		c.Reads = reads
	})
	ada := tc.guest("ada")
	active := func() (n int) {
		tc.Do(func() { n = tc.HTTPServer.Stats().Active })
		return n
	}
	before := active()
	release := blockReads(t, tc, reads)
	conn := tc.DialRaw()
	conn.Send("GET /api/rooms/lobby/ws?after=0 HTTP/1.1\r\nHost: " + tc.Addr + "\r\nCookie: " + ada.cookieHeader() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	tc.WaitFor(func() bool { return reads.Stats().QueueDepth == 1 }, "the room's load queued")
	conn.Close()
	tc.WaitFor(func() bool { return tc.HTTPServer.Stats().Active == before }, "the server saw the client leave")
	release()
	tc.WaitFor(func() bool { return tc.engine.Stats().Hubs == 1 }, "the room loaded")
	var left Stats
	tc.Do(func() {})
	tc.Do(func() { left = tc.engine.Stats() })
	if left.Members != 0 || left.Online != 0 {
		t.Errorf("after a WebSocket's client left during the room's load: %+v, want no member, no one online", left)
	}
}

// TestPollDroppedWhenClientLeavesAtOnce: a long poll whose client closes
// its connection right after sending it (so the request and the EOF reach
// the server in one read) is dropped at once, as docs/protocol.md says,
// not left parked until LongPollTimeout: on a new connection, and as the
// second request of a keep-alive one. The loop is held while the client
// writes and closes, so that both wait for the same read.
func TestPollDroppedWhenClientLeavesAtOnce(t *testing.T) {
	for _, keepAlive := range []bool{false, true} {
		t.Run(map[bool]string{false: "first request", true: "keep-alive"}[keepAlive], func(t *testing.T) {
			testPollClientLeavesAtOnce(t, keepAlive)
		})
	}
}

func testPollClientLeavesAtOnce(t *testing.T, keepAlive bool) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	last := decodeFrame(t, ada.post("lobby", "hi", "k").Body).ID
	var before int
	tc.Do(func() { before = tc.HTTPServer.Stats().Active })
	conn := tc.DialRaw()
	request := func(after int64) string {
		return "GET /api/rooms/lobby/events?after=" + itoa(after) + " HTTP/1.1\r\nHost: " + tc.Addr +
			"\r\nCookie: " + ada.cookieHeader() + "\r\n\r\n"
	}
	if keepAlive {
		conn.Send(request(0))
		if r := conn.ReadResponse("GET"); r.Status != 200 {
			t.Fatalf("first poll: %d %s", r.Status, r.Body)
		}
	}
	hold, held := make(chan struct{}), make(chan struct{})
	tc.Loop.AddCallback(func() { close(held); <-hold })
	<-held
	conn.Send(request(last))
	conn.Close()
	close(hold)
	var waiters, active int
	deadline := time.Now().Add(3 * time.Second)
	tc.WaitFor(func() bool {
		waiters, active = tc.engine.Stats().Waiters, tc.HTTPServer.Stats().Active
		return waiters == 0 && active == before || time.Now().After(deadline)
	}, "the poll handled")
	if waiters != 0 || active != before {
		t.Errorf("3 s after the client sent a long poll and closed: %d waiters, %d connections open (%d before)", waiters, active, before)
	}
}
