package admin

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/framework/websocket"
	"chat/rooms"
	"chat/static"
	"chat/store"
)

// liveSite serves the dashboard, the sessions and the engine over a real
// socket, on a fresh SQLite file with the room "lobby". Its sampler is not
// started: tests call Tick with times of their own. (Names here start with
// "live" so they cannot clash with the tables' tests in this package.)
type liveSite struct {
	*asynctest.Server
	t        *testing.T
	store    *store.Store
	owner    store.User
	admin    *Admin
	engine   *rooms.Engine
	sessions *accounts.Sessions
}

func startLiveSite(t *testing.T) *liveSite {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &liveSite{t: t, store: st}
	if s.owner, err = st.CreateUser(ctx, "owner", []byte("not a hash"), store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: s.owner.ID}); err != nil {
		t.Fatal(err)
	}
	keys := []web.KeyPair{web.GenerateKeys()}
	s.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		s.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true})
		s.engine = rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: s.sessions})
		s.admin = New(Config{Loop: loop, Store: st, Sessions: s.sessions, Engine: s.engine})
		routes := append(s.sessions.Routes(), s.engine.Routes()...)
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys, StaticFS: static.FS,
			Routes: append(routes, s.admin.Routes()...)})
	})
	return s
}

// liveBrowser is one person's cookie jar.
type liveBrowser struct {
	t      *testing.T
	site   *liveSite
	id     int64
	client *asynctest.Client
	jar    http.CookieJar
}

func (s *liveSite) browser() *liveBrowser {
	jar, _ := cookiejar.New(nil)
	client := asynctest.NewClient(s.t, "http://"+s.Addr)
	client.HTTPClient = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &liveBrowser{t: s.t, site: s, client: client, jar: jar}
}

// guest signs a new guest in; role, if not user, is then given to it.
func (s *liveSite) guest(name string, role store.Role) *liveBrowser {
	s.t.Helper()
	b := s.browser()
	b.client.Get("/guest")
	form := url.Values{"name": {name}, "_xsrf": {b.cookie("_xsrf")}}.Encode()
	r := b.client.Fetch("POST", "/guest", form, "Content-Type: application/x-www-form-urlencoded", "Accept: application/json")
	var me struct{ User accounts.WireUser }
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &me) != nil {
		s.t.Fatalf("guest %q: %d %s", name, r.Status, r.Body)
	}
	b.id = me.User.ID
	if role != store.RoleUser {
		s.setRole(b.id, role)
	}
	return b
}

// setRole changes a user's role in the store and refreshes the cached
// user, as the dashboard's role action will.
func (s *liveSite) setRole(id int64, role store.Role) {
	s.t.Helper()
	if err := s.store.SetRole(context.Background(), s.owner.ID, id, role); err != nil {
		s.t.Fatal(err)
	}
	s.refresh(id)
}

func (s *liveSite) refresh(id int64) {
	s.t.Helper()
	if _, err := asynctest.Await(s.t, s.Loop, func() *concurrent.Future[*accounts.User] { return s.sessions.Refresh(id) }); err != nil {
		s.t.Fatal(err)
	}
}

func (b *liveBrowser) cookie(name string) string {
	u, _ := url.Parse("http://" + b.site.Addr + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *liveBrowser) cookieHeader() string {
	u, _ := url.Parse("http://" + b.site.Addr + "/")
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return "Cookie: " + strings.Join(parts, "; ")
}

// post sends a message over the API.
func (b *liveBrowser) post(room, body string) {
	b.t.Helper()
	data, _ := json.Marshal(map[string]string{"body": body})
	r := b.client.Fetch("POST", "/api/rooms/"+room+"/messages", string(data),
		"Content-Type: application/json", "X-XSRFToken: "+b.cookie("_xsrf"))
	if r.Status != http.StatusCreated {
		b.t.Fatalf("post %q: %d %s", body, r.Status, r.Body)
	}
}

// tick takes a sample at the given time, on the loop.
func (s *liveSite) tick(at time.Time) Sample {
	s.t.Helper()
	var sample Sample
	s.Do(func() { sample = s.admin.Sampler().Tick(at) })
	return sample
}

func (s *liveSite) stats() rooms.Stats {
	var es rooms.Stats
	s.Do(func() { es = s.engine.Stats() })
	return es
}

// A post raises messages/s and deliveries/s, the rate is over the ticks'
// own interval, and a connection on each door raises that door's count.
func TestSamplerFiguresMove(t *testing.T) {
	s := startLiveSite(t)
	ada := s.guest("ada", store.RoleUser)
	t0 := time.Unix(1_800_000_000, 0)

	first := s.tick(t0)
	if first.MessagesPerSec != 0 || first.CallbacksPerSec != 0 {
		t.Errorf("first sample's rates: %v messages/s, %v callbacks/s; want 0", first.MessagesPerSec, first.CallbacksPerSec)
	}

	// A WebSocket member, so the post has someone to be delivered to.
	ws := s.DialWebSocket("/api/rooms/lobby/ws", ada.cookieHeader())
	s.WaitFor(func() bool { return s.engine.Stats().Members == 1 }, "the WebSocket joins the hub")
	posts := s.stats().Posts
	ada.post("lobby", "hello")
	s.WaitFor(func() bool { st := s.engine.Stats(); return st.Posts == posts+1 && st.Deliveries > 0 }, "the post is stored and delivered")

	got := s.tick(t0.Add(2 * time.Second))
	if got.MessagesPerSec != 0.5 {
		t.Errorf("one post in 2 s: %v messages/s; want 0.5", got.MessagesPerSec)
	}
	if got.DeliveriesPerSec <= 0 || got.CallbacksPerSec <= 0 || got.IOEventsPerSec <= 0 {
		t.Errorf("deliveries %v/s, callbacks %v/s, I/O events %v/s: want each above 0", got.DeliveriesPerSec, got.CallbacksPerSec, got.IOEventsPerSec)
	}
	if got.CommitsPerSec <= 0 || got.BatchLast < 1 || got.CommitLastMs <= 0 {
		t.Errorf("store: %v commits/s, last batch %d, last commit %v ms: want a commit seen", got.CommitsPerSec, got.BatchLast, got.CommitLastMs)
	}
	if got.ConnsWS != 1 || got.UsersOnline != 1 || got.RoomsActive != 1 {
		t.Errorf("ws %d, online %d, rooms %d; want 1 each", got.ConnsWS, got.UsersOnline, got.RoomsActive)
	}
	if got.HeapBytes == 0 || got.Goroutines == 0 || len(got.Executors) == 0 || got.At != t0.Add(2*time.Second).UnixMilli() {
		t.Errorf("heap %d, goroutines %d, executors %v, at %d", got.HeapBytes, got.Goroutines, got.Executors, got.At)
	}
	ws.Close(websocket.CloseNormal, "")
	s.WaitFor(func() bool { return s.engine.Stats().Members == 0 }, "the WebSocket leaves")

	// Each door, one at a time: its count is 1 while it is open.
	doors := []struct {
		name  string
		open  func() (close func())
		count func(Sample) int
		held  func(rooms.Stats) bool
	}{
		{"ws", func() func() {
			c := s.DialWebSocket("/api/rooms/lobby/ws", ada.cookieHeader())
			return func() { c.Close(websocket.CloseNormal, "") }
		}, func(s Sample) int { return s.ConnsWS }, func(st rooms.Stats) bool { return st.Members == 1 }},
		{"sse", func() func() {
			req, _ := http.NewRequest("GET", "http://"+s.Addr+"/api/rooms/lobby/stream", nil)
			resp, err := (&http.Client{Jar: ada.jar}).Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("stream: %v %v", resp, err)
			}
			return func() { resp.Body.Close() }
		}, func(s Sample) int { return s.ConnsSSE }, func(st rooms.Stats) bool { return st.Streams == 1 }},
		{"poll", func() func() {
			done := make(chan struct{})
			go func() {
				defer close(done)
				// Parks until the post below answers it.
				req, _ := http.NewRequest("GET", "http://"+s.Addr+"/api/rooms/lobby/events", nil)
				if resp, err := (&http.Client{Jar: ada.jar}).Do(req); err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}()
			return func() {
				ada.post("lobby", "wake the poll")
				<-done
			}
		}, func(s Sample) int { return s.ConnsPoll }, func(st rooms.Stats) bool { return st.Waiters == 1 }},
	}
	at := t0.Add(10 * time.Second)
	for _, d := range doors {
		closeIt := d.open()
		s.WaitFor(func() bool { return d.held(s.engine.Stats()) }, d.name+" connection is held")
		at = at.Add(time.Second)
		if n := d.count(s.tick(at)); n != 1 {
			t.Errorf("%s: %d connections in the sample; want 1", d.name, n)
		}
		closeIt()
		s.WaitFor(func() bool { st := s.engine.Stats(); return st.Members+st.Streams+st.Waiters == 0 }, d.name+" connection is gone")
	}
}

// The ring keeps the last HistorySize samples, oldest first.
func TestSamplerHistoryIsBounded(t *testing.T) {
	s := startLiveSite(t)
	t0 := time.Unix(1_800_000_000, 0)
	s.Do(func() {
		sm := s.admin.Sampler()
		if len(sm.History()) != 0 {
			t.Error("history before the first tick")
		}
		for i := range HistorySize + 5 {
			sm.Tick(t0.Add(time.Duration(i) * time.Second))
		}
		h := sm.History()
		if len(h) != HistorySize || h[0].At != t0.Add(5*time.Second).UnixMilli() || h[len(h)-1].At != sm.Latest().At {
			t.Errorf("history: %d samples from %d to %d; want %d from %d", len(h), h[0].At, h[len(h)-1].At,
				HistorySize, t0.Add(5*time.Second).UnixMilli())
		}
	})
}

// liveFrame is a panel socket's frame, loosely.
type liveFrame struct {
	Type    string   `json:"type"`
	Samples []Sample `json:"samples"`
	Sample
}

func readLiveFrame(t *testing.T, ws *asynctest.WSClient) liveFrame {
	t.Helper()
	var f liveFrame
	text := ws.ReadText()
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("frame %q: %v", text, err)
	}
	return f
}

// The panel's socket: history first, then a sample per tick; refused to
// the signed out (401) and to users who are not staff (403); closed when
// a viewer loses the role (4003) or is banned (4001).
func TestLiveSocket(t *testing.T) {
	s := startLiveSite(t)
	t0 := time.Unix(1_800_000_000, 0)
	s.tick(t0)
	s.tick(t0.Add(time.Second))

	refused := []struct {
		name   string
		header []string
		status int
	}{
		{"signed out", nil, http.StatusUnauthorized},
		{"user", []string{s.guest("bob", store.RoleUser).cookieHeader()}, http.StatusForbidden},
	}
	for _, c := range refused {
		h := http.Header{}
		for _, line := range c.header {
			k, v, _ := strings.Cut(line, ": ")
			h.Set(k, v)
		}
		_, err := s.DialWebSocketOptions(liveSocketPath, websocket.DialOptions{Header: h})
		var he *websocket.HandshakeError
		if !errors.As(err, &he) || he.Status != c.status {
			t.Errorf("%s: dial error %v; want a refusal with %d", c.name, err, c.status)
		}
	}

	mod := s.guest("mod", store.RoleModerator)
	boss := s.guest("boss", store.RoleAdmin)
	modWS := s.DialWebSocket(liveSocketPath, mod.cookieHeader())
	bossWS := s.DialWebSocket(liveSocketPath, boss.cookieHeader())
	for _, ws := range []*asynctest.WSClient{modWS, bossWS} {
		h := readLiveFrame(t, ws)
		if h.Type != "history" || len(h.Samples) != 2 || h.Samples[1].At != t0.Add(time.Second).UnixMilli() {
			t.Fatalf("first frame: %q with %d samples; want the history of 2", h.Type, len(h.Samples))
		}
	}
	s.WaitFor(func() bool { return len(s.admin.live.viewers) == 2 }, "both viewers are watching")
	at := t0.Add(2 * time.Second)
	s.tick(at)
	for _, ws := range []*asynctest.WSClient{modWS, bossWS} {
		f := readLiveFrame(t, ws)
		if f.Type != "sample" || f.At != at.UnixMilli() || f.Slow == nil {
			t.Errorf("next frame: %q at %d (slow %v); want the sample at %d", f.Type, f.At, f.Slow, at.UnixMilli())
		}
	}

	// The moderator is demoted: closed at the next sample, while the
	// administrator keeps watching.
	s.setRole(mod.id, store.RoleUser)
	at = at.Add(time.Second)
	s.tick(at)
	if code, reason := modWS.WaitClosed(); code != CloseNotStaff || reason != "You are no longer a moderator." {
		t.Errorf("demoted moderator's socket closed with %d %q; want %d", code, reason, CloseNotStaff)
	}
	if f := readLiveFrame(t, bossWS); f.Type != "sample" || f.At != at.UnixMilli() {
		t.Errorf("admin's frame: %q at %d; want the sample at %d", f.Type, f.At, at.UnixMilli())
	}

	// The administrator is banned: closed too.
	if err := s.store.BanUser(context.Background(), s.owner.ID, boss.id, time.Now().Add(time.Hour), "test"); err != nil {
		t.Fatal(err)
	}
	s.refresh(boss.id)
	s.tick(at.Add(time.Second))
	if code, reason := bossWS.WaitClosed(); code != rooms.CloseSessionEnded || reason != "You are banned." {
		t.Errorf("banned admin's socket closed with %d %q; want %d", code, reason, rooms.CloseSessionEnded)
	}

	// A moderator who signed out everywhere (a new session version): the
	// socket opened with the old cookie is closed.
	carol := s.guest("carol", store.RoleModerator)
	carolWS := s.DialWebSocket(liveSocketPath, carol.cookieHeader())
	readLiveFrame(t, carolWS)
	if _, err := s.store.BumpSessionVersion(context.Background(), carol.id); err != nil {
		t.Fatal(err)
	}
	s.refresh(carol.id)
	s.tick(at.Add(2 * time.Second))
	if code, reason := carolWS.WaitClosed(); code != rooms.CloseSessionEnded || reason != "Your session has ended." {
		t.Errorf("signed-out moderator's socket closed with %d %q; want %d", code, reason, rooms.CloseSessionEnded)
	}
	s.WaitFor(func() bool { return len(s.admin.live.viewers) == 0 && s.admin.live.group.Len() == 0 }, "no viewer left")
}

// The page: staff see the skeleton with its script; users get 403; the
// signed out go to the sign-in page.
func TestLivePage(t *testing.T) {
	s := startLiveSite(t)
	mod := s.guest("mod", store.RoleModerator)
	r := mod.client.Get("/admin/live")
	if r.Status != 200 {
		t.Fatalf("moderator: %d %s", r.Status, r.Body)
	}
	for _, want := range []string{`id="live"`, `data-socket="/admin/live/ws"`, `id="live-status"`, `data-key="messages_per_s"`,
		`data-key="lag_p99_ms"`, `data-key="commit_p99_ms"`, `id="live-executors"`, `id="live-slow"`, `<svg class="spark"`, "js/admin-live.js"} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.Body, "<script>") || strings.Contains(r.Body, "style=") {
		t.Error("page has an inline script or style")
	}
	if r := s.guest("bob", store.RoleUser).client.Get("/admin/live"); r.Status != http.StatusForbidden {
		t.Errorf("user: %d; want 403", r.Status)
	}
	if r := s.browser().client.Get("/admin/live"); r.Status != http.StatusFound || !strings.HasPrefix(r.Header.Get("Location"), "/signin?next=") {
		t.Errorf("signed out: %d %q; want a redirect to /signin", r.Status, r.Header.Get("Location"))
	}
	if r := s.browser().client.Get("/static/js/admin-live.js"); r.Status != 200 || !strings.Contains(r.Body, "createElementNS") {
		t.Errorf("the script: %d", r.Status)
	}
}
