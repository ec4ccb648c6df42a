package accounts_test

import (
	"context"
	"encoding/json"
	"errors"
	"html"
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
	"chat/store"
)

// Guest sign-in and sessions over real HTTP: the accounts routes, with the
// delivery engine's routes beside them for the WebSocket whose session
// ends.

type guestServer struct {
	*asynctest.Server
	t        *testing.T
	store    *store.Store
	sessions *accounts.Sessions
	owner    store.User
}

// startGuests serves the accounts and rooms routes over a fresh SQLite
// file with a room "lobby"; allowGuests is Config.AllowGuests.
func startGuests(t *testing.T, allowGuests bool) *guestServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	gs := &guestServer{t: t, store: st}
	if gs.owner, err = st.CreateUser(ctx, "owner", []byte("not a real hash"), store.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: gs.owner.ID}); err != nil {
		t.Fatal(err)
	}
	keys := []web.KeyPair{web.GenerateKeys()}
	gs.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		gs.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: allowGuests})
		engine := rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: gs.sessions})
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys,
			Routes: append(gs.sessions.Routes(), engine.Routes()...)})
	})
	return gs
}

// browser is a client with a cookie jar that does not follow redirects.
type browser struct {
	t      *testing.T
	gs     *guestServer
	client *asynctest.Client
	jar    *cookiejar.Jar
}

func (gs *guestServer) browser() *browser {
	jar, _ := cookiejar.New(nil)
	client := asynctest.NewClient(gs.t, "http://"+gs.Addr)
	client.HTTPClient = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: gs.t, gs: gs, client: client, jar: jar}
}

func (b *browser) cookie(name string) string {
	base, _ := url.Parse("http://" + b.gs.Addr + "/")
	for _, c := range b.jar.Cookies(base) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) cookieHeader() string {
	base, _ := url.Parse("http://" + b.gs.Addr + "/")
	var parts []string
	for _, c := range b.jar.Cookies(base) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// xsrf makes sure the browser holds the _xsrf cookie and returns it: the
// form sets it, and with guests off (no form) the browser makes its own,
// as a script may (the check compares the submitted token with the
// cookie).
func (b *browser) xsrf() string {
	b.t.Helper()
	if b.cookie("_xsrf") == "" {
		b.client.Get("/guest")
	}
	if b.cookie("_xsrf") == "" {
		base, _ := url.Parse("http://" + b.gs.Addr + "/")
		b.jar.SetCookies(base, []*http.Cookie{web.NewXSRFCookie(web.EncodeXSRF(web.NewXSRFToken(), time.Now()), false)})
	}
	return b.cookie("_xsrf")
}

// signIn posts the guest form; asJSON asks for JSON as a program does.
func (b *browser) signIn(form url.Values, asJSON bool) asynctest.Response {
	b.t.Helper()
	header := []string{"Content-Type: application/x-www-form-urlencoded"}
	if asJSON {
		header = append(header, "Accept: application/json")
	}
	return b.client.Fetch("POST", "/guest", form.Encode(), header...)
}

// guest signs in as a guest named name and returns the user.
func (b *browser) guest(name string) accounts.WireUser {
	b.t.Helper()
	r := b.signIn(url.Values{"name": {name}, "_xsrf": {b.xsrf()}}, true)
	if r.Status != http.StatusCreated {
		b.t.Fatalf("sign in %q: %d %s", name, r.Status, r.Body)
	}
	var me struct{ User accounts.WireUser }
	if err := json.Unmarshal([]byte(r.Body), &me); err != nil {
		b.t.Fatal(err)
	}
	return me.User
}

// jsonError decodes {"code":...,"error":...} and checks the status.
func jsonError(t *testing.T, r asynctest.Response, status int, code string) {
	t.Helper()
	var body struct{ Code, Error string }
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("%d %q: not JSON: %v", r.Status, r.Body, err)
	}
	if r.Status != status || body.Code != code || body.Error == "" {
		t.Fatalf("got %d %s, want %d code %q", r.Status, r.Body, status, code)
	}
}

// The form carries the XSRF field, with a token the server accepts back.
func TestGuestForm(t *testing.T) {
	gs := startGuests(t, true)
	b := gs.browser()
	r := b.client.Get("/guest?next=/rooms/lobby")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /guest: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	if b.cookie("_xsrf") == "" {
		t.Fatal("GET /guest set no _xsrf cookie")
	}
	for _, want := range []string{`<input type="hidden" name="_xsrf" value="`, `name="name"`, `value="/rooms/lobby"`} {
		if !strings.Contains(r.Body, want) {
			t.Fatalf("the form lacks %s:\n%s", want, r.Body)
		}
	}
	// A browser submits the form's own token (not the cookie's value).
	start := strings.Index(r.Body, `name="_xsrf" value="`) + len(`name="_xsrf" value="`)
	token := html.UnescapeString(r.Body[start : start+strings.IndexByte(r.Body[start:], '"')])
	resp := b.signIn(url.Values{"name": {"ada"}, "_xsrf": {token}, "next": {"/rooms/lobby"}}, false)
	if resp.Status != http.StatusSeeOther || resp.Header.Get("Location") != "/rooms/lobby" || b.cookie(accounts.CookieName) == "" {
		t.Fatalf("form sign-in: %d Location %q, session cookie %q", resp.Status, resp.Header.Get("Location"), b.cookie(accounts.CookieName))
	}
}

// A POST without a valid XSRF token is 403 and signs nobody in.
func TestGuestSignInNeedsXSRF(t *testing.T) {
	gs := startGuests(t, true)
	for _, c := range []struct {
		name   string
		cookie bool
		form   url.Values
	}{
		{"no field, no cookie", false, url.Values{"name": {"ada"}}},
		{"no field", true, url.Values{"name": {"ada"}}},
		{"wrong field", true, url.Values{"name": {"ada"}, "_xsrf": {"2|00000000|00000000000000000000000000000000|1"}}},
		{"garbage field", true, url.Values{"name": {"ada"}, "_xsrf": {"nonsense"}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := gs.browser()
			if c.cookie {
				b.xsrf()
			}
			for _, asJSON := range []bool{true, false} {
				if r := b.signIn(c.form, asJSON); r.Status != http.StatusForbidden {
					t.Fatalf("JSON %v: %d %s, want 403", asJSON, r.Status, r.Body)
				}
			}
			if b.cookie(accounts.CookieName) != "" {
				t.Fatal("a session cookie was set")
			}
		})
	}
	if _, err := gs.store.UserByName(context.Background(), "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ada exists after refused sign-ins: %v", err)
	}
}

// Bad nicknames: 400, as JSON with code invalid for programs, as the form
// again with the error beside the field (and the name escaped) for
// browsers.
func TestGuestBadNames(t *testing.T) {
	gs := startGuests(t, true)
	for _, name := range []string{"", "   ", "a b", strings.Repeat("x", accounts.MaxNameLen+1), "ada!", "名前", "<b>x</b>", "tab\there"} {
		t.Run(name, func(t *testing.T) {
			b := gs.browser()
			form := url.Values{"name": {name}, "_xsrf": {b.xsrf()}}
			jsonError(t, b.signIn(form, true), http.StatusBadRequest, "invalid")
			r := b.signIn(form, false)
			if r.Status != http.StatusBadRequest || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Fatalf("browser: %d %s", r.Status, r.Header.Get("Content-Type"))
			}
			for _, want := range []string{`aria-describedby="guest-name-error"`, `id="guest-name-error"`, "A nickname is 1 to 32", `name="_xsrf"`} {
				if !strings.Contains(r.Body, want) {
					t.Fatalf("the form lacks %s:\n%s", want, r.Body)
				}
			}
			if strings.Contains(r.Body, "<b>x</b>") {
				t.Fatalf("the name is not escaped:\n%s", r.Body)
			}
			if b.cookie(accounts.CookieName) != "" {
				t.Fatal("a session cookie was set")
			}
		})
	}
	// The bounds are inclusive: 32 characters of every kind allowed.
	b := gs.browser()
	name := strings.Repeat("aZ0_-.", 6)[:accounts.MaxNameLen]
	if u := b.guest(name); u.Name != name || !u.Guest || u.Role != "user" || u.ID == 0 {
		t.Fatalf("signed in as %+v", u)
	}
}

// A name taken by a guest or a registered user, in any letter case, is 409
// name_taken.
func TestGuestNameTaken(t *testing.T) {
	gs := startGuests(t, true)
	gs.browser().guest("ada")
	if _, err := gs.store.CreateUser(context.Background(), "Grace", []byte("a hash"), store.RoleUser); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ada", "ADA", "Ada", "grace", "GRACE", "owner"} {
		t.Run(name, func(t *testing.T) {
			b := gs.browser()
			form := url.Values{"name": {name}, "_xsrf": {b.xsrf()}}
			jsonError(t, b.signIn(form, true), http.StatusConflict, "name_taken")
			r := b.signIn(form, false)
			if r.Status != http.StatusConflict || !strings.Contains(r.Body, `id="guest-name-error"`) ||
				!strings.Contains(r.Body, `value="`+name+`"`) {
				t.Fatalf("browser: %d\n%s", r.Status, r.Body)
			}
			if b.cookie(accounts.CookieName) != "" {
				t.Fatal("a session cookie was set")
			}
		})
	}
}

// /api/me is 401 without a session and the user with one; after the
// user's session version is bumped (and the cache refreshed, as the code
// that bumps it must), the old cookie is 401 and a WebSocket opened with
// it closes with 4001 at its next frame.
func TestSessionVersion(t *testing.T) {
	gs := startGuests(t, true)
	anon := gs.browser()
	if r := anon.client.Get("/api/me"); r.Status != http.StatusUnauthorized || !strings.Contains(r.Body, `"error"`) {
		t.Fatalf("/api/me without a session: %d %s", r.Status, r.Body)
	}
	b := gs.browser()
	u := b.guest("ada")
	r := b.client.Get("/api/me")
	var me struct{ User accounts.WireUser }
	if r.Status != http.StatusOK || json.Unmarshal([]byte(r.Body), &me) != nil || me.User != u {
		t.Fatalf("/api/me: %d %s, want %+v", r.Status, r.Body, u)
	}
	ws := gs.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+b.cookieHeader())
	if !strings.Contains(ws.ReadText(), `"type":"hello"`) {
		t.Fatal("no hello")
	}

	if _, err := gs.store.BumpSessionVersion(context.Background(), u.ID); err != nil {
		t.Fatal(err)
	}
	refreshed, err := asynctest.Await(t, gs.Loop, func() *concurrent.Future[*accounts.User] {
		return gs.sessions.Refresh(u.ID)
	})
	if err != nil || refreshed == nil || refreshed.SessionVersion != 2 {
		t.Fatalf("refresh: %+v %v", refreshed, err)
	}
	if r := b.client.Get("/api/me"); r.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me with the old cookie: %d %s", r.Status, r.Body)
	}
	ws.Send(`{"type":"send","body":"still here?","key":"k"}`)
	if code, reason := ws.WaitClosed(); code != rooms.CloseSessionEnded || reason == "" {
		t.Fatalf("the open WebSocket closed with %d %q, want 4001 and a reason", code, reason)
	}
	lobby, err := gs.store.RoomByName(context.Background(), "lobby")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := gs.store.LatestMessages(context.Background(), lobby.ID, 10, store.ModeratorView)
	if err != nil || len(msgs) != 0 {
		t.Fatalf("stored after the session ended: %+v %v", msgs, err)
	}
	_, err = gs.DialWebSocketOptions("/api/rooms/lobby/ws", websocket.DialOptions{Header: http.Header{"Cookie": {b.cookieHeader()}}})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusUnauthorized {
		t.Fatalf("a new WebSocket with the old cookie: %v, want 401", err)
	}
}

// With guests switched off, the form and the sign-in are 403.
func TestGuestsOff(t *testing.T) {
	gs := startGuests(t, false)
	b := gs.browser()
	if r := b.client.Get("/guest"); r.Status != http.StatusForbidden {
		t.Fatalf("GET /guest: %d", r.Status)
	}
	form := url.Values{"name": {"ada"}, "_xsrf": {b.xsrf()}}
	jsonError(t, b.signIn(form, true), http.StatusForbidden, "forbidden")
	if r := b.signIn(form, false); r.Status != http.StatusForbidden {
		t.Fatalf("browser POST /guest: %d", r.Status)
	}
	if _, err := gs.store.UserByName(context.Background(), "ada"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ada was created: %v", err)
	}
}

// docs/protocol.md: "Any GET answer sets the _xsrf cookie when the client
// has none", so a program with a session but no _xsrf cookie learns one
// from the API.
func TestAnyGETSetsXSRF(t *testing.T) {
	gs := startGuests(t, true)
	for _, path := range []string{"/api/me", "/api/rooms"} {
		b := gs.browser()
		b.client.Get(path)
		if b.cookie("_xsrf") == "" {
			t.Errorf("GET %s set no _xsrf cookie", path)
		}
	}
}
