package rooms

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/websocket"
	"chat/store"
)

// The refusal rules of the post pipeline (rules.go, post.go's check and
// throttle), each on both doors that post: the WebSocket and the HTTP API.

// testClock is Config.Now for tests: the loop reads it, the test goroutine
// advances it.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func newTestClock() *testClock {
	return &testClock{now: time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)}
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// withClock makes the engine read clock.
func withClock(clock *testClock) func(*Config) {
	return func(cfg *Config) { cfg.Now = clock.Now }
}

// refresh reloads a user into the session cache after the test changed it
// in the store, as a moderation action does.
func (tc *testChat) refresh(id int64) {
	tc.t.Helper()
	u, err := asynctest.Await(tc.t, tc.Loop, func() *concurrent.Future[*accounts.User] {
		return tc.sessions.Refresh(id)
	})
	if err != nil || u == nil {
		tc.t.Fatalf("refresh user %d: %v %v", id, u, err)
	}
}

// storedEvents is the room's whole log as the store holds it.
func (tc *testChat) storedEvents(room store.Room) []store.Event {
	tc.t.Helper()
	evs, err := tc.store.EventsAfter(context.Background(), room.ID, 0, store.MaxPageSize, store.ModeratorView)
	if err != nil {
		tc.t.Fatal(err)
	}
	return evs
}

// seed stores a message directly, before any hub has loaded its room.
func (tc *testChat) seed(room store.Room, author int64, body string) int64 {
	tc.t.Helper()
	a, err := tc.store.AppendMessage(context.Background(), store.NewMessage{RoomID: room.ID, AuthorID: author, Body: body})
	if err != nil {
		tc.t.Fatal(err)
	}
	return a.ID
}

// ephemeralPresence reports whether a frame is one of the presence frames
// a member receives at any time (its timing is the presence flush's).
func ephemeralPresence(f frame) bool {
	return f.Type == "join" || f.Type == "leave" || f.Type == "presence"
}

// nextFrame reads the next frame that is not a presence change.
func nextFrame(t testing.TB, ws *asynctest.WSClient) frame {
	t.Helper()
	for {
		if f := readFrame(t, ws); !ephemeralPresence(f) {
			return f
		}
	}
}

// expectSilence fails if ws receives anything but presence within d: a
// bounded negative check, for what must not happen yet.
func expectSilence(t testing.TB, ws *asynctest.WSClient, d time.Duration, who string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return
		}
		m, err := ws.ReadWithin(left)
		if errors.Is(err, concurrent.ErrTimeout) {
			return
		}
		if err != nil {
			t.Fatalf("%s: %v", who, err)
		}
		if f := decodeFrame(t, string(m.Data)); !ephemeralPresence(f) {
			t.Fatalf("%s received %s while nothing may arrive", who, m.Data)
		}
	}
}

// nextReply reads the sender's next answer, an ack or an error, skipping
// the events it receives as a member meanwhile.
func nextReply(t testing.TB, ws *asynctest.WSClient) frame {
	t.Helper()
	for {
		if f := readFrame(t, ws); f.Type == "ack" || f.Type == "error" {
			return f
		}
	}
}

// wsError asserts that the sender's next answer on ws is an error with
// code, key and retry_after.
func wsError(t testing.TB, ws *asynctest.WSClient, code, key string, retryAfter int) frame {
	t.Helper()
	f := nextReply(t, ws)
	if f.Type != "error" || f.Code != code || f.Key != key || f.RetryAfter != retryAfter || f.Message == "" {
		t.Fatalf("got %+v, want error %q key %q retry_after %d", f, code, key, retryAfter)
	}
	return f
}

// httpError asserts a refusal over HTTP: the status, the JSON error object
// with code and retry_after, and the Retry-After header when there is a
// time to wait.
func httpError(t testing.TB, r asynctest.Response, status int, code string, retryAfter int) {
	t.Helper()
	var body struct {
		Type       string `json:"type"`
		Code       string `json:"code"`
		Message    string `json:"message"`
		Error      string `json:"error"`
		RetryAfter int    `json:"retry_after"`
	}
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("%d %q: not JSON: %v", r.Status, r.Body, err)
	}
	if r.Status != status || body.Type != "error" || body.Code != code || body.Message == "" ||
		body.Error == "" || body.RetryAfter != retryAfter {
		t.Fatalf("got %d %s, want %d error %q retry_after %d", r.Status, r.Body, status, code, retryAfter)
	}
	wantHeader := ""
	if retryAfter > 0 {
		wantHeader = strconv.Itoa(retryAfter)
	}
	if got := r.Header.Get("Retry-After"); got != wantHeader {
		t.Fatalf("Retry-After %q, want %q (%s)", got, wantHeader, r.Body)
	}
}

// httpAck decodes an HTTP ack with the status expected.
func httpAck(t testing.TB, r asynctest.Response, status int) frame {
	t.Helper()
	if r.Status != status {
		t.Fatalf("got %d %s, want %d with an ack", r.Status, r.Body, status)
	}
	f := decodeFrame(t, r.Body)
	if f.Type != "ack" || f.ID == 0 || f.Msg == 0 {
		t.Fatalf("not an ack: %s", r.Body)
	}
	return f
}

// request is one change a client asks for, on either door.
type request struct {
	kind string // send, edit, delete
	body string
	key  string
	msg  int64
	// raw, if set, is the exact JSON sent (WebSocket frame and HTTP body
	// alike, "type" aside), for bytes json.Marshal would not produce.
	raw string
}

func (r request) frame() string {
	if r.raw != "" {
		return `{"type":"` + r.kind + `",` + r.raw[1:]
	}
	b, _ := json.Marshal(map[string]any{"type": r.kind, "body": r.body, "key": r.key, "msg": r.msg})
	return string(b)
}

func (r request) httpBody() string {
	if r.raw != "" {
		return r.raw
	}
	b, _ := json.Marshal(map[string]string{"body": r.body, "key": r.key})
	return string(b)
}

// overHTTP makes the request with the API: POST, PATCH or DELETE.
func (u *testUser) overHTTP(room string, r request) asynctest.Response {
	u.t.Helper()
	base := "/api/rooms/" + room + "/messages"
	switch r.kind {
	case "send":
		return u.call("POST", base, r.httpBody())
	case "edit":
		return u.call("PATCH", base+"/"+itoa(r.msg), r.httpBody())
	default:
		return u.call("DELETE", base+"/"+itoa(r.msg), "")
	}
}

// scene is a lobby with three members, each with a WebSocket open: ada,
// whose requests the rules judge; bob, who watches what reaches others;
// and mod, a moderator who posts the markers that prove nothing else was
// broadcast. Messages seeded before the hub loaded: bob's and ada's in the
// lobby, ada's in another room and ada's that is deleted.
type scene struct {
	t          testing.TB
	tc         *testChat
	clock      *testClock
	ada        *testUser
	bob        *testUser
	mod        *testUser
	aws        *asynctest.WSClient
	bws        *asynctest.WSClient
	mws        *asynctest.WSClient
	side       store.Room
	bobMsg     int64 // bob's message in the lobby
	adaMsg     int64 // ada's message in the lobby
	adaSideMsg int64 // ada's message in the side room
	deletedMsg int64 // ada's deleted message in the lobby
	archived   bool  // nobody may post a marker
	logBefore  int   // the lobby's events before the request
}

// newScene builds the scene. before runs before the lobby's hub loads
// (room settings in the store reach the hub only when it loads); after
// runs once every socket is open (a user's standing, through Refresh).
func newScene(t *testing.T, before, after func(s *scene)) *scene {
	t.Helper()
	s := &scene{t: t, clock: newTestClock()}
	s.tc = startChat(t, withClock(s.clock))
	tc := s.tc
	s.ada, s.bob, s.mod = tc.guest("ada"), tc.guest("bob"), tc.guest("mod")
	s.makeModerator(s.mod)
	s.side = tc.createRoom("side")
	s.bobMsg = tc.seed(tc.lobby, s.bob.id, "bob's message")
	s.adaMsg = tc.seed(tc.lobby, s.ada.id, "ada's message")
	s.adaSideMsg = tc.seed(s.side, s.ada.id, "ada elsewhere")
	s.deletedMsg = tc.seed(tc.lobby, s.ada.id, "ada's regret")
	if err := tc.store.DeleteMessage(context.Background(), tc.owner.ID, s.deletedMsg, "test"); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(s)
	}
	s.bws, s.mws, s.aws = s.bob.ws("lobby", -1), s.mod.ws("lobby", -1), s.ada.ws("lobby", -1)
	for _, ws := range []*asynctest.WSClient{s.bws, s.mws, s.aws} {
		if f := readFrame(t, ws); f.Type != "hello" {
			t.Fatalf("first frame %+v, want hello", f)
		}
	}
	if after != nil {
		after(s)
	}
	s.logBefore = len(tc.storedEvents(tc.lobby))
	return s
}

func (s *scene) makeModerator(u *testUser) {
	s.t.Helper()
	if err := s.tc.store.SetRole(context.Background(), s.tc.owner.ID, u.id, store.RoleModerator); err != nil {
		s.t.Fatal(err)
	}
	s.tc.refresh(u.id)
}

// proveNothingBroadcast sends a marker after a refusal: mod's message, or
// in an archived room, where nobody may post, mod's typing. bob's next frame must be
// that one (frames on one connection keep their order, and a refused
// or failed write is answered in the same turn as its broadcast would have
// been), and the store's log must hold nothing new but the marker.
func (s *scene) proveNothingBroadcast() {
	s.t.Helper()
	tc := s.tc
	want := s.logBefore
	if s.archived {
		// Typing is relayed once per TypingInterval of the engine's
		// clock: an archived room's scene proves this once.
		s.mws.Send(`{"type":"typing"}`)
		if f := nextFrame(s.t, s.bws); f.Type != "typing" || f.userName() != "mod" {
			s.t.Fatalf("bob's next frame is %+v, want mod's typing", f)
		}
	} else {
		ack := httpAck(s.t, s.mod.post("lobby", "marker", ""), http.StatusCreated)
		if f := nextFrame(s.t, s.bws); f.Type != "message" || f.ID != ack.ID || f.Body != "marker" {
			s.t.Fatalf("bob's next frame is %+v, want the marker %d", f, ack.ID)
		}
		want++
	}
	if log := tc.storedEvents(tc.lobby); len(log) != want {
		s.t.Fatalf("the lobby's log has %d events, want %d: %+v", len(log), want, log[s.logBefore:])
	}
	s.logBefore = want
}

// A refused or accepted request, on both doors. Every refusal is answered
// to the sender alone (an error frame with the key, or the HTTP status and
// error object with Retry-After), stores nothing and broadcasts nothing.
// An accepted one is acked and reaches bob with the ack's id.
func TestRules(t *testing.T) {
	const letter = "𐐀" // a letter of 4 bytes: the limit counts characters
	key128, key129 := strings.Repeat("k", 128), strings.Repeat("k", 129)
	setRoom := func(change func(ctx context.Context, st *store.Store, s *scene) error) func(*scene) {
		return func(s *scene) {
			if err := change(context.Background(), s.tc.store, s); err != nil {
				s.t.Fatal(err)
			}
		}
	}
	locked := setRoom(func(ctx context.Context, st *store.Store, s *scene) error {
		return st.SetRoomLocked(ctx, s.tc.owner.ID, s.tc.lobby.ID, true)
	})
	archived := func(s *scene) {
		setRoom(func(ctx context.Context, st *store.Store, s *scene) error {
			return st.SetRoomArchived(ctx, s.tc.owner.ID, s.tc.lobby.ID, true)
		})(s)
		s.archived = true
	}
	mute := func(d time.Duration) func(*scene) {
		return func(s *scene) {
			until := s.clock.Now().Add(d)
			if d == 0 {
				until = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC) // for good
			}
			if err := s.tc.store.MuteUser(context.Background(), s.tc.owner.ID, s.ada.id, until, "shouting"); err != nil {
				s.t.Fatal(err)
			}
			s.tc.refresh(s.ada.id)
		}
	}
	adaModerates := func(s *scene) { s.makeModerator(s.ada) }
	send := func(body, key string) func(*scene) request {
		return func(*scene) request { return request{kind: "send", body: body, key: key} }
	}

	cases := []struct {
		name          string
		before, after func(*scene)
		req           func(*scene) request
		// The refusal: code, HTTP status, retry_after. An empty code means
		// accepted, with event the type bob receives.
		code       string
		status     int
		retryAfter int
		event      string
		wsClose    int // the WebSocket closes with this instead of an error frame
	}{
		{name: "empty body", req: send("", "k"), code: "invalid", status: 400},
		{name: "whitespace body", req: send(" \n\t \u3000 ", "k"), code: "invalid", status: 400},
		{name: "invalid UTF-8", req: func(*scene) request {
			return request{kind: "send", raw: `{"body":"caf` + "\xe9" + `","key":"k"}`}
		}, code: "invalid", status: 400, wsClose: websocket.CloseInvalidPayload},
		{name: "NUL", req: send("a\x00b", "k"), code: "invalid", status: 400},
		{name: "escape", req: send("red \x1b[31m", "k"), code: "invalid", status: 400},
		{name: "DEL", req: send("a\x7fb", "k"), code: "invalid", status: 400},
		{name: "C1 control", req: send("a\u0085b", "k"), code: "invalid", status: 400},
		{name: "carriage return", req: send("a\rb", "k"), code: "invalid", status: 400},
		{name: "newline and tab allowed", req: send("line 1\n\tline 2", "k"), event: "message"},
		{name: "4000 characters", req: send(" "+strings.Repeat(letter, MaxBodyChars)+"\n", "k"), event: "message"},
		{name: "4001 characters", req: send(strings.Repeat(letter, MaxBodyChars+1), "k"), code: "too_long", status: 400},
		{name: "key of 128 bytes", req: send("hello", key128), event: "message"},
		{name: "key of 129 bytes", req: send("hello", key129), code: "invalid", status: 400},
		{name: "banned", after: func(s *scene) {
			if err := s.tc.store.BanUser(context.Background(), s.tc.owner.ID, s.ada.id, s.clock.Now().Add(time.Hour), "spam"); err != nil {
				s.t.Fatal(err)
			}
			s.tc.refresh(s.ada.id)
		}, req: send("hello", "k"), code: "banned", status: 403, retryAfter: 3600, wsClose: CloseSessionEnded},
		{name: "muted", after: mute(90 * time.Second), req: send("hello", "k"), code: "muted", status: 403, retryAfter: 90},
		{name: "muted for good", after: mute(0), req: send("hello", "k"), code: "muted", status: 403},
		{name: "muted may not edit", after: mute(time.Minute),
			req:  func(s *scene) request { return request{kind: "edit", body: "new", key: "e", msg: s.adaMsg} },
			code: "muted", status: 403, retryAfter: 60},
		{name: "muted may delete her own", after: mute(time.Minute),
			req:   func(s *scene) request { return request{kind: "delete", key: "d", msg: s.adaMsg} },
			event: "delete"},
		{name: "mute over", after: func(s *scene) { mute(time.Minute)(s); s.clock.Advance(time.Minute) },
			req: send("back", "k"), event: "message"},
		{name: "locked", before: locked, req: send("hello", "k"), code: "locked", status: 403},
		{name: "locked: moderator posts", before: locked, after: adaModerates, req: send("hello", "k"), event: "message"},
		{name: "archived", before: archived, req: send("hello", "k"), code: "archived", status: 403},
		{name: "archived: moderator too", before: archived, after: adaModerates, req: send("hello", "k"), code: "archived", status: 403},
		{name: "edit own", req: func(s *scene) request { return request{kind: "edit", body: "better", key: "e", msg: s.adaMsg} }, event: "edit"},
		{name: "edit someone else's",
			req:  func(s *scene) request { return request{kind: "edit", body: "mine now", key: "e", msg: s.bobMsg} },
			code: "forbidden", status: 403},
		{name: "delete someone else's",
			req:  func(s *scene) request { return request{kind: "delete", key: "d", msg: s.bobMsg} },
			code: "forbidden", status: 403},
		{name: "edit unknown",
			req:  func(s *scene) request { return request{kind: "edit", body: "x", key: "e", msg: 999999} },
			code: "not_found", status: 404},
		{name: "delete unknown",
			req:  func(s *scene) request { return request{kind: "delete", key: "d", msg: 999999} },
			code: "not_found", status: 404},
		{name: "edit another room's",
			req:  func(s *scene) request { return request{kind: "edit", body: "x", key: "e", msg: s.adaSideMsg} },
			code: "not_found", status: 404},
		{name: "delete another room's",
			req:  func(s *scene) request { return request{kind: "delete", key: "d", msg: s.adaSideMsg} },
			code: "not_found", status: 404},
		{name: "edit deleted",
			req:  func(s *scene) request { return request{kind: "edit", body: "x", key: "e", msg: s.deletedMsg} },
			code: "not_found", status: 404},
		{name: "delete deleted",
			req:  func(s *scene) request { return request{kind: "delete", key: "d", msg: s.deletedMsg} },
			code: "not_found", status: 404},
		{name: "locked: edit", before: locked,
			req:  func(s *scene) request { return request{kind: "edit", body: "x", key: "e", msg: s.adaMsg} },
			code: "locked", status: 403},
		{name: "archived: delete", before: archived,
			req:  func(s *scene) request { return request{kind: "delete", key: "d", msg: s.adaMsg} },
			code: "archived", status: 403},
		{name: "moderator deletes anyone's", after: adaModerates,
			req:   func(s *scene) request { return request{kind: "delete", key: "d", msg: s.bobMsg} },
			event: "delete"},
	}
	for _, c := range cases {
		for _, door := range []string{"ws", "http"} {
			t.Run(c.name+"/"+door, func(t *testing.T) {
				s := newScene(t, c.before, c.after)
				req := c.req(s)
				if c.code == "" {
					s.accepted(door, req, c.event)
					return
				}
				switch {
				case door == "http":
					httpError(t, s.ada.overHTTP("lobby", req), c.status, c.code, c.retryAfter)
				case c.wsClose != 0:
					s.aws.Send(req.frame())
					if code, reason := s.aws.WaitClosed(); code != c.wsClose || reason == "" {
						t.Fatalf("closed with %d %q, want %d and a reason", code, reason, c.wsClose)
					}
				default:
					s.aws.Send(req.frame())
					wsError(t, s.aws, c.code, req.key, c.retryAfter)
				}
				s.proveNothingBroadcast()
			})
		}
	}
}

// accepted checks that req is acked to ada and reaches bob as an event of
// type event with the ack's id, stored in the log.
func (s *scene) accepted(door string, req request, event string) {
	s.t.Helper()
	var ack frame
	if door == "http" {
		status := http.StatusOK
		if req.kind == "send" {
			status = http.StatusCreated
		}
		ack = httpAck(s.t, s.ada.overHTTP("lobby", req), status)
	} else {
		s.aws.Send(req.frame())
		if ack = nextReply(s.t, s.aws); ack.Type != "ack" || ack.Key != req.key {
			s.t.Fatalf("ada got %+v, want the ack of %q", ack, req.key)
		}
	}
	f := nextFrame(s.t, s.bws)
	if f.Type != event || f.ID != ack.ID || f.Msg != ack.Msg {
		s.t.Fatalf("bob got %+v, want %s %d (ack %+v)", f, event, ack.ID, ack)
	}
	switch event {
	case "message":
		if f.Body != strings.TrimSpace(req.body) || f.userName() != "ada" {
			s.t.Fatalf("bob got %+v for %q", f, req.body)
		}
	case "delete":
		if f.By != "ada" || f.Msg != req.msg {
			s.t.Fatalf("tombstone %+v, want message %d deleted by ada", f, req.msg)
		}
	}
	log := s.tc.storedEvents(s.tc.lobby)
	if len(log) != s.logBefore+1 || log[len(log)-1].ID != ack.ID || log[len(log)-1].Kind != event {
		s.t.Fatalf("log after the ack: %+v", log[s.logBefore:])
	}
	s.logBefore = len(log)
}

// sendOK sends body as ada on door and checks it is acked and broadcast.
func (s *scene) sendOK(door, body, key string) {
	s.t.Helper()
	s.accepted(door, request{kind: "send", body: body, key: key}, "message")
}

// sendRefused sends body as ada on door and checks the refusal.
func (s *scene) sendRefused(door, body, key, code string, status, retryAfter int) {
	s.t.Helper()
	req := request{kind: "send", body: body, key: key}
	if door == "http" {
		httpError(s.t, s.ada.overHTTP("lobby", req), status, code, retryAfter)
	} else {
		s.aws.Send(req.frame())
		wsError(s.t, s.aws, code, key, retryAfter)
	}
	s.proveNothingBroadcast()
}

// The token bucket: five at once, then one a second, on the injected
// clock. The refusal says how long to wait, rounded up to whole seconds.
func TestRateLimit(t *testing.T) {
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			s := newScene(t, nil, nil)
			for i := range 5 {
				s.sendOK(door, "burst "+strconv.Itoa(i), "b"+strconv.Itoa(i))
			}
			s.sendRefused(door, "sixth", "b5", "rate_limited", http.StatusTooManyRequests, 1)
			s.clock.Advance(time.Second)
			s.sendOK(door, "a second later", "b6")
			s.sendRefused(door, "too soon again", "b7", "rate_limited", http.StatusTooManyRequests, 1)
			s.clock.Advance(500 * time.Millisecond)
			s.sendRefused(door, "half a second", "b8", "rate_limited", http.StatusTooManyRequests, 1)
			s.clock.Advance(500 * time.Millisecond)
			s.sendOK(door, "a token again", "b9")
		})
	}
}

// Slow mode, set in the store before the lobby's hub loads: one message
// per user every 10 s, retry_after counting down on the injected clock;
// moderators are exempt.
func TestSlowMode(t *testing.T) {
	slow := func(s *scene) {
		if err := s.tc.store.SetRoomSlowMode(context.Background(), s.tc.owner.ID, s.tc.lobby.ID, 10); err != nil {
			s.t.Fatal(err)
		}
	}
	for _, door := range []string{"ws", "http"} {
		t.Run(door, func(t *testing.T) {
			s := newScene(t, slow, nil)
			s.sendOK(door, "first", "s1")
			s.sendRefused(door, "second", "s2", "slow_mode", http.StatusTooManyRequests, 10)
			s.clock.Advance(4 * time.Second)
			s.sendRefused(door, "still", "s3", "slow_mode", http.StatusTooManyRequests, 6)
			s.clock.Advance(6 * time.Second)
			s.sendOK(door, "ten seconds on", "s4")
			// The markers above were mod's posts, seconds apart on the
			// clock and never refused: moderators are exempt.
		})
	}
}

// A banned user cannot open a WebSocket nor call the API: 403 before the
// upgrade, with the time left.
func TestBannedCannotConnect(t *testing.T) {
	s := newScene(t, nil, nil)
	until := s.clock.Now().Add(2 * time.Hour)
	if err := s.tc.store.BanUser(context.Background(), s.tc.owner.ID, s.ada.id, until, "spam"); err != nil {
		t.Fatal(err)
	}
	s.tc.refresh(s.ada.id)
	_, err := s.tc.DialWebSocketOptions(roomPath("lobby", "ws", -1),
		websocket.DialOptions{Header: http.Header{"Cookie": {s.ada.cookieHeader()}}})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("dial as a banned user: %v, want a 403 handshake error", err)
	}
	httpError(t, s.ada.call("GET", "/api/rooms/lobby", ""), http.StatusForbidden, "banned", 7200)
	// The ban ends on the engine's clock.
	s.clock.Advance(2 * time.Hour)
	s.sendOK("http", "back", "k")
}

// Frames the engine cannot take: bad JSON and unknown types are an error
// frame (code invalid, the key echoed when there is one) and the
// connection goes on; an oversized frame closes with 1009, a binary one
// with 1003. Nothing is stored or broadcast.
func TestBadFrames(t *testing.T) {
	s := newScene(t, nil, nil)
	for _, bad := range []struct{ frame, key string }{
		{`{"type":"send",`, ""},
		{`[1,2,3]`, ""},
		{`"send"`, ""},
		{`{"type":"send","body":42}`, ""},
		{`{"type":"shout","body":"hi","key":"x1"}`, "x1"},
		{`{"body":"no type","key":"x2"}`, "x2"},
	} {
		s.aws.Send(bad.frame)
		wsError(t, s.aws, "invalid", bad.key, 0)
		s.proveNothingBroadcast()
		s.clock.Advance(time.Second) // a token for mod's next marker
	}
	s.sendOK("ws", "still open", "ok1")

	// A frame of exactly MaxFrameBytes is read; one byte more is not.
	head := `{"type":"send","body":"padded","key":"ok2"`
	s.aws.Send(head + strings.Repeat(" ", MaxFrameBytes-len(head)-1) + "}")
	if f := nextReply(t, s.aws); f.Type != "ack" || f.Key != "ok2" {
		t.Fatalf("a frame of MaxFrameBytes: %+v, want its ack", f)
	}
	if f := nextFrame(t, s.bws); f.Type != "message" || f.Body != "padded" {
		t.Fatalf("bob got %+v", f)
	}
	s.logBefore++

	head = `{"type":"send","body":"too big","key":"big"`
	s.aws.Send(head + strings.Repeat(" ", MaxFrameBytes-len(head)) + "}")
	if code, _ := s.aws.WaitClosed(); code != websocket.CloseMessageTooBig {
		t.Fatalf("an oversized frame closed with %d, want 1009", code)
	}
	s.proveNothingBroadcast()

	bin := s.ada.ws("lobby", -1)
	readUntil(t, bin, "hello")
	bin.SendBinary([]byte(`{"type":"send","body":"binary","key":"bin"}`))
	if code, _ := bin.WaitClosed(); code != websocket.CloseUnsupportedData {
		t.Fatalf("a binary frame closed with %d, want 1003", code)
	}
	s.proveNothingBroadcast()
}

// closeProbe is a WebSocket client handler that reports the close.
type closeProbe struct{ closed chan websocket.CloseError }

func (closeProbe) OnOpen(*websocket.Conn)                              {}
func (closeProbe) OnMessage(*websocket.Conn, websocket.Opcode, []byte) {}
func (p closeProbe) OnClose(_ *websocket.Conn, code int, reason string) {
	p.closed <- websocket.CloseError{Code: code, Reason: reason}
}

// Kick closes the user's WebSocket with 4000 and the reason. A frame the
// client sends after the kick (written in the same turn of the loop, so it
// reaches the server while its close is on the way) is not stored. The
// user may come back.
func TestKick(t *testing.T) {
	s := newScene(t, nil, nil)
	tc := s.tc
	probe := closeProbe{closed: make(chan websocket.CloseError, 1)}
	conn, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[*websocket.Conn] {
		return websocket.Dial(tc.Loop, "ws://"+tc.Addr+roomPath("lobby", "ws", -1), websocket.DialOptions{
			Header: http.Header{"Cookie": {s.ada.cookieHeader()}}, Handler: probe})
	})
	if err != nil {
		t.Fatal(err)
	}
	adaSockets := func() int {
		n := 0
		for sock := range tc.engine.hubs["lobby"].sockets {
			if sock.user.ID == s.ada.id {
				n++
			}
		}
		return n
	}
	tc.WaitFor(func() bool { return adaSockets() == 2 }, "ada's second socket is open")
	var kicked int
	var posts uint64
	var writeErr error
	tc.Do(func() {
		posts = tc.engine.Stats().Posts
		kicked = tc.engine.Kick(s.ada.id, "cool off for a minute")
		writeErr = conn.WriteMessage(websocket.OpText, []byte(`{"type":"send","body":"after the kick","key":"late"}`))
	})
	if kicked != 2 || writeErr != nil {
		t.Fatalf("Kick closed %d connections (want 2); the late write: %v", kicked, writeErr)
	}
	if got := asynctest.Wait(t, probe.closed, "the kicked probe closes"); got.Code != CloseKicked || got.Reason != "cool off for a minute" {
		t.Fatalf("probe closed with %+v, want 4000 and the reason", got)
	}
	if code, reason := s.aws.WaitClosed(); code != CloseKicked || reason != "cool off for a minute" {
		t.Fatalf("ada's socket closed with %d %q", code, reason)
	}
	// The server's side is gone once it has read everything the client sent.
	tc.WaitFor(func() bool { return adaSockets() == 0 }, "ada's sockets are closed on the server")
	tc.Do(func() {
		if p := tc.engine.Stats().Posts; p != posts {
			t.Errorf("posts went from %d to %d: the late frame was submitted", posts, p)
		}
	})
	s.proveNothingBroadcast()

	s.aws = s.ada.ws("lobby", -1)
	readUntil(t, s.aws, "hello")
	s.sendOK("ws", "I am back", "back")
}

// The bucket is the user's, over every room and door.
func TestRateLimitAcrossRoomsAndDoors(t *testing.T) {
	s := newScene(t, nil, nil)
	for i := range 3 {
		s.sendOK("ws", "lobby "+strconv.Itoa(i), "l"+strconv.Itoa(i))
	}
	for i := range 2 {
		httpAck(t, s.ada.post("side", "side "+strconv.Itoa(i), "s"+strconv.Itoa(i)), http.StatusCreated)
	}
	httpError(t, s.ada.post("side", "one too many", "s2"), http.StatusTooManyRequests, "rate_limited", 1)
	s.sendRefused("http", "one too many", "l3", "rate_limited", http.StatusTooManyRequests, 1)
	s.sendRefused("ws", "one too many", "l4", "rate_limited", http.StatusTooManyRequests, 1)
}
