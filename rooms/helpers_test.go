package rooms

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// testChat is the engine serving on a loop of the test's own, over a
// fresh SQLite file in t.TempDir(), with one room, "lobby", owned by an
// administrator, "owner".
type testChat struct {
	*asynctest.Server
	t        testing.TB
	store    *store.Store
	engine   *Engine
	sessions *accounts.Sessions
	owner    store.User
	lobby    store.Room
}

// startChat starts a chat; adjust, if not nil, changes the engine's
// configuration first.
func startChat(t testing.TB, adjust func(*Config)) *testChat {
	t.Helper()
	st, err := store.Open(context.Background(), store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return startChatOn(t, st, adjust)
}

// startChatOn starts a chat on an open store (a restart reuses one file).
func startChatOn(t testing.TB, st *store.Store, adjust func(*Config)) *testChat {
	t.Helper()
	tc := &testChat{t: t, store: st}
	ctx := context.Background()
	owner, err := st.UserByName(ctx, "owner")
	if err != nil {
		if owner, err = st.CreateUser(ctx, "owner", []byte("not a real hash"), store.RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	tc.owner = owner
	if tc.lobby, err = st.RoomByName(ctx, "lobby"); err != nil {
		if tc.lobby, err = st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: owner.ID}); err != nil {
			t.Fatal(err)
		}
	}
	keys := []web.KeyPair{web.GenerateKeys()}
	tc.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		tc.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true})
		cfg := Config{Loop: loop, Store: st, Sessions: tc.sessions}
		if adjust != nil {
			adjust(&cfg)
		}
		tc.engine = New(cfg)
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys,
			Routes: append(tc.sessions.Routes(), tc.engine.Routes()...)})
	})
	return tc
}

// createRoom makes another room in the store.
func (tc *testChat) createRoom(name string) store.Room {
	tc.t.Helper()
	r, err := tc.store.CreateRoom(context.Background(), store.NewRoom{Name: name, Title: strings.ToUpper(name), CreatorID: tc.owner.ID})
	if err != nil {
		tc.t.Fatal(err)
	}
	return r
}

// testUser is a signed-in guest with its cookies.
type testUser struct {
	t      testing.TB
	tc     *testChat
	name   string
	id     int64
	client *asynctest.Client
	jar    http.CookieJar
}

// guest signs a new guest in, as the protocol says: GET /guest for the
// _xsrf cookie, then POST /guest asking for JSON.
func (tc *testChat) guest(name string) *testUser {
	tc.t.Helper()
	u := tc.newClient(name)
	if r := u.client.Get("/guest"); r.Status != 200 {
		tc.t.Fatalf("GET /guest: %d %s", r.Status, r.Body)
	}
	form := url.Values{"name": {name}, "_xsrf": {u.cookie("_xsrf")}}.Encode()
	r := u.client.Fetch("POST", "/guest", form, "Content-Type: application/x-www-form-urlencoded", "Accept: application/json")
	if r.Status != 201 {
		tc.t.Fatalf("POST /guest %q: %d %s", name, r.Status, r.Body)
	}
	var me struct{ User accounts.WireUser }
	if err := json.Unmarshal([]byte(r.Body), &me); err != nil {
		tc.t.Fatal(err)
	}
	u.id = me.User.ID
	return u
}

func (tc *testChat) newClient(name string) *testUser {
	jar, _ := cookiejar.New(nil)
	client := asynctest.NewClient(tc.t, "http://"+tc.Addr)
	client.HTTPClient = &http.Client{Jar: jar, Timeout: 40 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &testUser{t: tc.t, tc: tc, name: name, client: client, jar: jar}
}

func (u *testUser) cookie(name string) string {
	base, _ := url.Parse("http://" + u.tc.Addr + "/")
	for _, c := range u.jar.Cookies(base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// cookieHeader is the Cookie header the user's browser would send.
func (u *testUser) cookieHeader() string {
	base, _ := url.Parse("http://" + u.tc.Addr + "/")
	var parts []string
	for _, c := range u.jar.Cookies(base) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// call makes an API call with the XSRF header.
func (u *testUser) call(method, path, body string) asynctest.Response {
	u.t.Helper()
	if u.cookie("_xsrf") == "" {
		u.client.Get("/api/me") // any GET sets the cookie
	}
	return u.client.Fetch(method, path, body, "Content-Type: application/json", "X-XSRFToken: "+u.cookie("_xsrf"))
}

// post sends a message over HTTP.
func (u *testUser) post(room, body, key string) asynctest.Response {
	b, _ := json.Marshal(map[string]string{"body": body, "key": key})
	return u.call("POST", "/api/rooms/"+room+"/messages", string(b))
}

// ws opens the room's WebSocket; after < 0 means no cursor.
func (u *testUser) ws(room string, after int64) *asynctest.WSClient {
	u.t.Helper()
	return u.tc.DialWebSocket(roomPath(room, "ws", after), "Cookie: "+u.cookieHeader())
}

func roomPath(room, door string, after int64) string {
	p := "/api/rooms/" + room + "/" + door
	if after >= 0 {
		p += "?after=" + itoa(after)
	}
	return p
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// frame is any server frame or event, decoded loosely.
type frame struct {
	Type        string          `json:"type"`
	ID          int64           `json:"id"`
	Msg         int64           `json:"msg"`
	Room        json.RawMessage `json:"room"`
	User        json.RawMessage `json:"user"`
	Body        string          `json:"body"`
	Key         string          `json:"key"`
	By          string          `json:"by"`
	Code        string          `json:"code"`
	Message     string          `json:"message"`
	RetryAfter  int             `json:"retry_after"`
	LastID      int64           `json:"last_id"`
	Deleted     bool            `json:"deleted"`
	Events      []frame         `json:"events"`
	More        bool            `json:"more"`
	OnlineCount int             `json:"online_count"`
	Changes     json.RawMessage `json:"changes"`
}

func (f frame) userName() string {
	var s string
	if json.Unmarshal(f.User, &s) == nil {
		return s
	}
	var u struct{ Name string }
	json.Unmarshal(f.User, &u)
	return u.Name
}

func decodeFrame(t testing.TB, text string) frame {
	t.Helper()
	var f frame
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("frame %q: %v", text, err)
	}
	return f
}

// readFrame reads the next WebSocket frame; readUntil skips frames until
// one of the given type.
func readFrame(t testing.TB, ws *asynctest.WSClient) frame {
	t.Helper()
	return decodeFrame(t, ws.ReadText())
}

func readUntil(t testing.TB, ws *asynctest.WSClient, typ string) frame {
	t.Helper()
	for {
		if f := readFrame(t, ws); f.Type == typ {
			return f
		}
	}
}

// poll makes one long poll.
func (u *testUser) poll(room string, after int64) frame {
	u.t.Helper()
	r := u.client.Get(roomPath(room, "events", after))
	if r.Status != 200 {
		u.t.Fatalf("long poll %s after %d: %d %s", room, after, r.Status, r.Body)
	}
	return decodeFrame(u.t, r.Body)
}

// sseClient reads a stream's events on a goroutine of its own.
type sseClient struct {
	events chan sseEvent
	resp   *http.Response
}

type sseEvent struct {
	id   string
	data string
}

// stream opens the room's SSE stream; after < 0 means no cursor, and
// lastEventID, if not empty, is sent as Last-Event-ID.
func (u *testUser) stream(room string, after int64, lastEventID string) *sseClient {
	u.t.Helper()
	req, _ := http.NewRequest("GET", "http://"+u.tc.Addr+roomPath(room, "stream", after), nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	client := &http.Client{Jar: u.jar}
	resp, err := client.Do(req)
	if err != nil {
		u.t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		u.t.Fatalf("stream %s: %d", room, resp.StatusCode)
	}
	s := &sseClient{events: make(chan sseEvent, 1024), resp: resp}
	u.t.Cleanup(func() { resp.Body.Close() })
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(resp.Body)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.data != "" {
					s.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[6:]
			}
		}
	}()
	return s
}

// next returns the next event with data, failing after a while.
func (s *sseClient) next(t testing.TB) (sseEvent, frame) {
	t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			t.Fatal("stream ended")
		}
		return ev, decodeFrame(t, ev.data)
	case <-time.After(10 * time.Second):
		t.Fatal("no stream event within 10 s")
	}
	panic("unreachable")
}

func (s *sseClient) close() { s.resp.Body.Close() }
