package pages

import (
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
	"chat/rooms"
	"chat/store"
	"chat/views"
)

// testSite serves the pages, the sessions and the engine over a real
// socket, on a fresh SQLite file with the room "lobby".
type testSite struct {
	*asynctest.Server
	t     *testing.T
	store *store.Store
	owner store.User
}

func startSite(t *testing.T) *testSite {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &testSite{t: t, store: st}
	if s.owner, err = st.CreateUser(ctx, "owner", []byte("not a hash"), store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", Topic: "Say hello", CreatorID: s.owner.ID}); err != nil {
		t.Fatal(err)
	}
	keys := []web.KeyPair{web.GenerateKeys()}
	s.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		var sessions *accounts.Sessions
		sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true,
			Layout: func(c *web.Context, title string) views.Page {
				return Layout(c, title, "account", sessions.CachedUser(c))
			}})
		engine := rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: sessions})
		p := New(Config{Engine: engine, Sessions: sessions})
		routes := append(p.Routes(), sessions.Routes()...)
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys, Routes: append(routes, engine.Routes()...)})
	})
	return s
}

// browser is one reader's cookie jar.
type browser struct {
	t      *testing.T
	base   string
	client *asynctest.Client
	jar    http.CookieJar
}

func (s *testSite) browser() *browser {
	jar, _ := cookiejar.New(nil)
	client := asynctest.NewClient(s.t, "http://"+s.Addr)
	client.HTTPClient = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: s.t, base: "http://" + s.Addr, client: client, jar: jar}
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// guest signs the browser in as a new guest.
func (s *testSite) guest(name string) *browser {
	b := s.browser()
	b.client.Get("/guest")
	r := b.postForm("/guest", url.Values{"name": {name}})
	if r.Status != http.StatusSeeOther {
		s.t.Fatalf("guest %q: %d %s", name, r.Status, r.Body)
	}
	return b
}

// postForm posts a form with the browser's XSRF token.
func (b *browser) postForm(path string, form url.Values) asynctest.Response {
	b.t.Helper()
	if b.cookie("_xsrf") == "" {
		b.client.Get("/guest")
	}
	form.Set("_xsrf", b.cookie("_xsrf"))
	return b.client.Fetch("POST", path, form.Encode(), "Content-Type: application/x-www-form-urlencoded")
}

// post sends a message over the API, returning its ack.
func (b *browser) post(room, body string) (id, msg int64) {
	b.t.Helper()
	data, _ := json.Marshal(map[string]string{"body": body})
	r := b.client.Fetch("POST", "/api/rooms/"+room+"/messages", string(data),
		"Content-Type: application/json", "X-XSRFToken: "+b.cookie("_xsrf"))
	var ack struct{ ID, Msg int64 }
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &ack) != nil {
		b.t.Fatalf("post %q: %d %s", body, r.Status, r.Body)
	}
	return ack.ID, ack.Msg
}

func mustContain(t *testing.T, what, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

func mustNotContain(t *testing.T, what, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("%s holds %q", what, w)
		}
	}
}

func TestRoomListSignedOutAndIn(t *testing.T) {
	s := startSite(t)
	r := s.browser().client.Get("/")
	if r.Status != 200 {
		t.Fatalf("GET /: %d %s", r.Status, r.Body)
	}
	mustContain(t, "signed-out room list", r.Body, `id="room-list"`, `data-room="lobby"`, "Lobby", "Say hello", `href="/signin"`)
	mustNotContain(t, "signed-out room list", r.Body, `id="new-room"`)

	ada := s.guest("ada")
	ada.post("lobby", "hello")
	r = ada.client.Get("/")
	mustContain(t, "signed-in room list", r.Body, `id="new-room"`, `id="whoami"`, "ada", "badge-guest", `class="room-activity"`)
}

func TestCreateRoomForm(t *testing.T) {
	s := startSite(t)
	ada := s.guest("ada")
	cases := []struct {
		name         string
		form         url.Values
		status       int
		errorID      string
		wantLocation string
	}{
		{"bad name", url.Values{"name": {"Not Valid!"}, "title": {"x"}}, 400, "room-name-error", ""},
		{"empty title", url.Values{"name": {"empty"}, "title": {"  "}}, 400, "room-title-error", ""},
		{"long topic", url.Values{"name": {"long"}, "title": {"x"}, "topic": {strings.Repeat("t", rooms.MaxTopicChars+1)}}, 400, "room-topic-error", ""},
		{"taken name", url.Values{"name": {"lobby"}, "title": {"Again"}}, 409, "room-name-error", ""},
		{"good", url.Values{"name": {"garden"}, "title": {"The <b>garden</b>"}, "topic": {"plants"}}, 303, "", "/rooms/garden"},
	}
	for _, c := range cases {
		r := ada.postForm("/rooms", c.form)
		if r.Status != c.status {
			t.Errorf("%s: %d; want %d (%s)", c.name, r.Status, c.status, r.Body)
			continue
		}
		if c.errorID != "" {
			mustContain(t, c.name, r.Body, `id="`+c.errorID+`"`, `value="`+c.form.Get("name")+`"`)
		}
		if loc := r.Header.Get("Location"); loc != c.wantLocation {
			t.Errorf("%s: Location %q; want %q", c.name, loc, c.wantLocation)
		}
	}
	list := ada.client.Get("/").Body
	mustContain(t, "list after creating", list, `data-room="garden"`, "The &lt;b&gt;garden&lt;/b&gt;")

	// No XSRF token: refused, nothing created. Signed out: to the sign-in page.
	noToken := ada.client.Fetch("POST", "/rooms", "name=sneaky&title=x", "Content-Type: application/x-www-form-urlencoded")
	if noToken.Status != 403 {
		t.Errorf("POST /rooms without _xsrf: %d; want 403", noToken.Status)
	}
	if _, err := s.store.RoomByName(context.Background(), "sneaky"); err == nil {
		t.Error("a room was created without the XSRF token")
	}
	stranger := s.browser()
	if r := stranger.postForm("/rooms", url.Values{"name": {"anon"}, "title": {"x"}}); r.Status != 302 || !strings.HasPrefix(r.Header.Get("Location"), "/signin?next=") {
		t.Errorf("signed-out POST /rooms: %d %q; want a redirect to /signin", r.Status, r.Header.Get("Location"))
	}
}

func TestRoomPage(t *testing.T) {
	s := startSite(t)
	if r := s.browser().client.Get("/rooms/lobby"); r.Status != 302 || r.Header.Get("Location") != "/signin?next=%2Frooms%2Flobby" {
		t.Fatalf("signed-out room page: %d %q; want 302 to /signin?next=%%2Frooms%%2Flobby", r.Status, r.Header.Get("Location"))
	}
	ada, bob := s.guest("ada"), s.guest("bob")
	ada.post("lobby", "first")
	_, gone := ada.post("lobby", "to be deleted")
	bob.post("lobby", `<script>alert(1)</script> hi @ada see https://example.com/x`)
	r := ada.client.Fetch("DELETE", "/api/rooms/lobby/messages/"+strconv.FormatInt(gone, 10), "", "X-XSRFToken: "+ada.cookie("_xsrf"))
	if r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	var tomb struct{ ID int64 }
	json.Unmarshal([]byte(r.Body), &tomb)

	page := ada.client.Get("/rooms/lobby")
	if page.Status != 200 {
		t.Fatalf("room page: %d %s", page.Status, page.Body)
	}
	mustContain(t, "room page", page.Body,
		`id="room"`, `data-room="lobby"`, `data-last-id="`+strconv.FormatInt(tomb.ID, 10)+`"`, `data-me="ada"`,
		`id="timeline"`, "first", "&lt;script&gt;alert(1)&lt;/script&gt;", `rel="noopener noreferrer nofollow"`,
		`id="composer"`, `id="conn-status"`, "mention")
	mustNotContain(t, "room page", page.Body, "to be deleted", "<script>alert(1)")
	if strings.Count(page.Body, `class="msg`) != 2 {
		t.Errorf("room page shows %d messages; want 2", strings.Count(page.Body, `class="msg`))
	}
	if r := ada.client.Get("/rooms/nowhere"); r.Status != 404 {
		t.Errorf("unknown room: %d; want 404", r.Status)
	}
}
