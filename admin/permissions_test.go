package admin

import (
	"context"
	"encoding/json"
	"fmt"
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
	"chat/pages"
	"chat/rooms"
	"chat/store"
	"chat/views"
)

// testSite serves the dashboard with the sessions and the engine over a
// real socket, on a fresh SQLite file. Browsers sign in through a test
// route that sets the session cookie of a user made in the store (no
// bcrypt: the sign-in form is accounts' to test).
type testSite struct {
	*asynctest.Server
	t      *testing.T
	store  *store.Store
	engine *rooms.Engine
	users  map[string]store.User
	rooms  map[string]store.Room
}

var ctx = context.Background()

func startSite(t *testing.T) *testSite {
	t.Helper()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s := &testSite{t: t, store: st, users: map[string]store.User{}, rooms: map[string]store.Room{}}
	for _, u := range []struct {
		name string
		role store.Role
	}{{"owner", store.RoleAdmin}, {"admin2", store.RoleAdmin}, {"mod", store.RoleModerator}, {"mod2", store.RoleModerator},
		{"ada", store.RoleUser}, {"bob", store.RoleUser}, {"muted1", store.RoleUser}, {"banned1", store.RoleUser}, {"plain", store.RoleUser}} {
		if s.users[u.name], err = st.CreateUser(ctx, u.name, []byte("not a hash"), u.role); err != nil {
			t.Fatal(err)
		}
	}
	if s.users["gus"], err = st.CreateGuest(ctx, "gus"); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"lobby", "locked1", "garden", "old"} {
		if s.rooms[name], err = st.CreateRoom(ctx, store.NewRoom{Name: name, Title: "The " + name, CreatorID: s.users["owner"].ID}); err != nil {
			t.Fatal(err)
		}
	}
	owner := s.users["owner"].ID
	must(t, st.MuteUser(ctx, owner, s.users["muted1"].ID, time.Now().Add(time.Hour), "noise"))
	must(t, st.BanUser(ctx, owner, s.users["banned1"].ID, time.Now().Add(time.Hour), "spam"))
	must(t, st.SetRoomLocked(ctx, owner, s.rooms["locked1"].ID, true))
	must(t, st.SetRoomArchived(ctx, owner, s.rooms["old"].ID, true))

	keys := []web.KeyPair{web.GenerateKeys()}
	s.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		var sessions *accounts.Sessions
		sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true,
			Layout: func(c *web.Context, title string) views.Page {
				return pages.Layout(c, title, "account", sessions.CachedUser(c))
			}})
		s.engine = rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: sessions})
		a := New(Config{Loop: loop, Store: st, Sessions: sessions, Engine: s.engine})
		routes := append(a.Routes(), sessions.Routes()...)
		routes = append(routes, s.engine.Routes()...)
		routes = append(routes, web.Spec{Pattern: "/test/signin/{id}", New: web.Func(testSignIn(st, sessions))})
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys, Routes: routes})
	})
	return s
}

// testSignIn is GET /test/signin/{id}: the XSRF cookie and, for an id
// other than 0, the session cookie of that user.
func testSignIn(st *store.Store, sessions *accounts.Sessions) func(c *web.Context) {
	return func(c *web.Context) {
		accounts.EnsureXSRFCookie(c)
		id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
		if id == 0 {
			c.WriteString("signed out")
			return
		}
		c.Async()
		web.Guard(c, web.RunInExecutor(c, func() (store.User, error) { return st.UserByID(ctx, id) })).
			OnResult(func(su store.User, err error) {
				if err != nil {
					c.Fail(err)
					return
				}
				u := &accounts.User{ID: su.ID, Name: su.Name, Role: su.Role, Guest: su.Guest, SessionVersion: su.SessionVersion}
				if err := sessions.SignIn(c, u); err != nil {
					c.Fail(err)
					return
				}
				c.WriteString("signed in")
				c.Finish()
			})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// browser is one person's cookie jar.
type browser struct {
	t      *testing.T
	site   *testSite
	client *asynctest.Client
	jar    http.CookieJar
}

// as is a browser signed in as the named user ("" stays signed out).
func (s *testSite) as(name string) *browser {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	client := asynctest.NewClient(s.t, "http://"+s.Addr)
	client.HTTPClient = &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	b := &browser{t: s.t, site: s, client: client, jar: jar}
	var id int64
	if name != "" {
		id = s.users[name].ID
	}
	if r := client.Get("/test/signin/" + strconv.FormatInt(id, 10)); r.Status != 200 {
		s.t.Fatalf("sign in %q: %d %s", name, r.Status, r.Body)
	}
	return b
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse("http://" + b.site.Addr + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func (b *browser) cookieHeader() string {
	u, _ := url.Parse("http://" + b.site.Addr + "/")
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// post submits an action form with the browser's XSRF token.
func (b *browser) post(path string, form url.Values, header ...string) asynctest.Response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("_xsrf") {
		form.Set("_xsrf", b.cookie("_xsrf"))
	}
	return b.client.Fetch("POST", path, form.Encode(), append([]string{"Content-Type: application/x-www-form-urlencoded"}, header...)...)
}

// auditCount counts the audit entries on target.
func (s *testSite) auditCount(target string) int {
	s.t.Helper()
	entries, err := s.store.QueryAudit(ctx, store.AuditQuery{Target: target, Limit: store.MaxPageSize})
	if err != nil {
		s.t.Fatal(err)
	}
	return len(entries)
}

// lastAudit is the newest audit entry.
func (s *testSite) lastAudit() store.AuditEntry {
	s.t.Helper()
	entries, err := s.store.QueryAudit(ctx, store.AuditQuery{Limit: 1})
	if err != nil || len(entries) == 0 {
		s.t.Fatalf("audit log: %v %v", entries, err)
	}
	return entries[0]
}

func (s *testSite) user(name string) store.User {
	s.t.Helper()
	u, err := s.store.UserByID(ctx, s.users[name].ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return u
}

func (s *testSite) room(name string) store.Room {
	s.t.Helper()
	r, err := s.store.RoomByName(ctx, name)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

// postMessage stores a message by the named user in a room.
func (s *testSite) postMessage(author, room, body string) int64 {
	s.t.Helper()
	m, err := s.store.AppendMessage(ctx, store.NewMessage{RoomID: s.rooms[room].ID, AuthorID: s.users[author].ID, Body: body})
	if err != nil {
		s.t.Fatal(err)
	}
	return m.ID
}

var roles = []string{"signed out", "guest", "user", "moderator", "admin"}

// signInAs names the user each role of the matrix signs in as.
var signInAs = map[string]string{"signed out": "", "guest": "gus", "user": "plain", "moderator": "mod", "admin": "owner"}

func TestPagesPermissionMatrix(t *testing.T) {
	s := startSite(t)
	msg := s.postMessage("ada", "lobby", "hello")
	pagePaths := []string{"/admin", "/admin/users", "/admin/rooms", "/admin/messages", "/admin/messages/" + strconv.FormatInt(msg, 10),
		"/admin/reports", "/admin/connections", "/admin/audit", "/admin/bans", "/admin/live"}
	for _, role := range roles {
		b := s.as(signInAs[role])
		for _, path := range pagePaths {
			r := b.client.Get(path)
			want := map[string]int{"signed out": 302, "guest": 403, "user": 403, "moderator": 200, "admin": 200}[role]
			if path == "/admin" && want == 200 {
				want = 302
			}
			if r.Status != want {
				t.Errorf("%s GET %s: %d; want %d", role, path, r.Status, want)
				continue
			}
			loc := r.Header.Get("Location")
			switch {
			case role == "signed out" && loc != "/signin?next="+url.QueryEscape(path):
				t.Errorf("signed out GET %s: Location %q; want the sign-in page with next", path, loc)
			case want == 302 && role != "signed out" && loc != "/admin/live":
				t.Errorf("%s GET /admin: Location %q; want /admin/live", role, loc)
			case want == 200 && !strings.Contains(r.Body, `id="admin-nav"`):
				t.Errorf("%s GET %s: no dashboard navigation", role, path)
			}
		}
	}
}

// matrixAction is one action of the matrix: how to post it, what it
// changes, and whether it is audited.
type matrixAction struct {
	name    string
	path    func(s *testSite) string
	form    url.Values
	target  func(s *testSite) string // the audit target
	adminOK bool                     // only administrators may
	changed func(s *testSite) bool   // whether it took effect
	// onLoop: changed reads the engine, on the loop, and the change
	// (a connection closing) completes after the answer.
	onLoop bool
}

func userPath(name, action string) func(*testSite) string {
	return func(s *testSite) string { return fmt.Sprintf("/admin/users/%d/%s", s.users[name].ID, action) }
}

func userTarget(name string) func(*testSite) string {
	return func(s *testSite) string { return fmt.Sprintf("user:%d", s.users[name].ID) }
}

func roomPath(name, action string) func(*testSite) string {
	return func(*testSite) string { return "/admin/rooms/" + name + "/" + action }
}

func roomTarget(name string) func(*testSite) string {
	return func(s *testSite) string { return fmt.Sprintf("room:%d", s.rooms[name].ID) }
}

// The actions in an order in which each still applies after the ones
// before it succeeded (the connection is kicked before its user, the
// role changes last).
func matrixActions(msg, report, report2 int64, conn *uint64) []matrixAction {
	now := time.Now()
	return []matrixAction{
		{name: "mute", path: userPath("ada", "mute"), form: url.Values{"duration": {"1h"}, "reason": {"shouting"}}, target: userTarget("ada"),
			changed: func(s *testSite) bool { return s.user("ada").MutedAt(now) }},
		{name: "unmute", path: userPath("muted1", "unmute"), target: userTarget("muted1"),
			changed: func(s *testSite) bool { return !s.user("muted1").MutedAt(now) }},
		{name: "ban", path: userPath("bob", "ban"), form: url.Values{"duration": {"forever"}, "reason": {"spam"}}, target: userTarget("bob"),
			changed: func(s *testSite) bool { return store.IsForever(s.user("bob").BannedUntil) }},
		{name: "unban", path: userPath("banned1", "unban"), target: userTarget("banned1"),
			changed: func(s *testSite) bool { return !s.user("banned1").BannedAt(now) }},
		{name: "lock", path: roomPath("lobby", "lock"), target: roomTarget("lobby"),
			changed: func(s *testSite) bool { return s.room("lobby").Locked }},
		{name: "unlock", path: roomPath("locked1", "unlock"), target: roomTarget("locked1"),
			changed: func(s *testSite) bool { return !s.room("locked1").Locked }},
		{name: "archive", path: roomPath("garden", "archive"), target: roomTarget("garden"),
			changed: func(s *testSite) bool { return s.room("garden").Archived }},
		{name: "unarchive", path: roomPath("old", "unarchive"), target: roomTarget("old"),
			changed: func(s *testSite) bool { return !s.room("old").Archived }},
		{name: "slowmode", path: roomPath("lobby", "slowmode"), form: url.Values{"seconds": {"7"}}, target: roomTarget("lobby"),
			changed: func(s *testSite) bool { return s.room("lobby").SlowMode == 7 }},
		{name: "topic", path: roomPath("lobby", "topic"), form: url.Values{"title": {"Lobby <b>2</b>"}, "topic": {"new topic"}}, target: roomTarget("lobby"),
			changed: func(s *testSite) bool { return s.room("lobby").Topic == "new topic" }},
		{name: "delete", path: func(*testSite) string { return fmt.Sprintf("/admin/messages/%d/delete", msg) },
			form: url.Values{"reason": {"rude"}}, target: func(*testSite) string { return fmt.Sprintf("message:%d", msg) },
			changed: func(s *testSite) bool {
				m, err := s.store.MessageByID(ctx, msg, store.ModeratorView)
				return err == nil && m.Deleted()
			}},
		{name: "resolve", path: func(*testSite) string { return fmt.Sprintf("/admin/reports/%d/resolve", report) },
			form: url.Values{"resolution": {"dismissed"}}, target: func(*testSite) string { return fmt.Sprintf("report:%d", report) },
			changed: func(s *testSite) bool {
				rows, _, _ := s.store.QueryReports(ctx, true, report-1, 1)
				return len(rows) == 0 || rows[0].ID != report
			}},
		{name: "dismiss", path: func(*testSite) string { return "/admin/reports/dismiss" },
			form: url.Values{"id": {strconv.FormatInt(report2, 10)}}, target: func(*testSite) string { return fmt.Sprintf("report:%d", report2) },
			changed: func(s *testSite) bool {
				rows, _, _ := s.store.QueryReports(ctx, false, report2-1, 1)
				return len(rows) == 1 && rows[0].ID == report2 && rows[0].Resolution == store.ResolutionDismissed
			}},
		{name: "kick-connection", path: func(*testSite) string { return fmt.Sprintf("/admin/connections/%d/kick", *conn) },
			form: url.Values{"reason": {"go home"}}, target: userTarget("ada"),
			onLoop: true, changed: func(s *testSite) bool {
				for _, c := range s.engine.Connections() {
					if c.ID == *conn {
						return false
					}
				}
				return true
			}},
		{name: "kick", path: userPath("ada", "kick"), form: url.Values{"reason": {"cool off"}}, target: userTarget("ada")},
		{name: "role", path: userPath("ada", "role"), form: url.Values{"role": {"moderator"}}, target: userTarget("ada"), adminOK: true,
			changed: func(s *testSite) bool { return s.user("ada").Role == store.RoleModerator }},
	}
}

// TestActionsPermissionMatrix posts every action as each role, on a site
// of its own: signed out is 401, guests and plain users 403 (and nothing
// changes), moderators and administrators 303 back with done, with the
// change made and one audit entry by them, from their address; only
// administrators change roles.
func TestActionsPermissionMatrix(t *testing.T) {
	for _, role := range roles {
		t.Run(role, func(t *testing.T) {
			s := startSite(t)
			msg := s.postMessage("ada", "lobby", "rude words")
			reported := s.postMessage("bob", "lobby", "reported words")
			rep, err := s.store.ReportMessage(ctx, s.users["ada"].ID, reported, "spam")
			must(t, err)
			rep2, err := s.store.ReportMessage(ctx, s.users["muted1"].ID, reported, "also spam")
			must(t, err)
			// ada's WebSocket, for the connection kick.
			ada := s.as("ada")
			ws := s.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+ada.cookieHeader())
			ws.Read() // the hello: the connection is registered
			var conn uint64
			s.Do(func() {
				for _, c := range s.engine.Connections() {
					conn = c.ID
				}
			})
			if conn == 0 {
				t.Fatal("ada's WebSocket is not among the connections")
			}
			b := s.as(signInAs[role])
			me := s.users[signInAs[role]]
			for _, act := range matrixActions(msg, rep.ID, rep2.ID, &conn) {
				path := act.path(s)
				var before int
				if act.target != nil {
					before = s.auditCount(act.target(s))
				}
				form := url.Values{"next": {"/admin/users?q=a"}}
				for k, v := range act.form {
					form[k] = v
				}
				r := b.post(path, form)
				want := map[string]int{"signed out": 401, "guest": 403, "user": 403, "moderator": 303, "admin": 303}[role]
				if act.adminOK && role == "moderator" {
					want = 403
				}
				if r.Status != want {
					t.Errorf("%s POST %s: %d; want %d (%.300s)", role, path, r.Status, want, r.Body)
					continue
				}
				succeeded := want == 303
				if succeeded {
					if loc, wantLoc := r.Header.Get("Location"), "/admin/users?done="+act.name+"&q=a"; loc != wantLoc {
						t.Errorf("%s POST %s: Location %q; want %q", role, path, loc, wantLoc)
					}
				}
				switch {
				case act.changed == nil:
				case act.onLoop && succeeded:
					s.WaitFor(func() bool { return act.changed(s) }, act.name+" taking effect")
				case act.onLoop:
					var changed bool
					s.Do(func() { changed = act.changed(s) })
					if changed {
						t.Errorf("%s POST %s: refused, yet it took effect", role, path)
					}
				case act.changed(s) != succeeded:
					t.Errorf("%s POST %s: changed %v; want %v", role, path, !succeeded, succeeded)
				}
				if act.target == nil {
					continue
				}
				after := s.auditCount(act.target(s))
				switch {
				case !succeeded && after != before:
					t.Errorf("%s POST %s: refused, yet %d audit entries were written", role, path, after-before)
				case succeeded && after != before+1:
					t.Errorf("%s POST %s: %d audit entries; want 1", role, path, after-before)
				case succeeded:
					e := s.lastAudit()
					if e.ActorID != me.ID || e.Target != act.target(s) {
						t.Errorf("%s POST %s: audit %+v; want by %d on %s", role, path, e, me.ID, act.target(s))
					}
					if e.Address != "127.0.0.1" {
						t.Errorf("%s POST %s: audit address %q; want 127.0.0.1", role, path, e.Address)
					}
				}
			}
			if role == "moderator" || role == "admin" {
				// The kick reached ada's WebSocket (the connection kick did).
				if code, _ := ws.WaitClosed(); code != rooms.CloseKicked {
					t.Errorf("ada's WebSocket closed with %d; want %d", code, rooms.CloseKicked)
				}
			}
		})
	}
}

// TestBadInput: each refused with its status and a clear message on the
// page (p#admin-error), and nothing changed nor audited.
func TestBadInput(t *testing.T) {
	s := startSite(t)
	msg := s.postMessage("ada", "lobby", "hello")
	gone := s.postMessage("ada", "lobby", "already gone")
	must(t, s.store.DeleteMessage(ctx, s.users["owner"].ID, gone, "test"))
	reported := s.postMessage("bob", "lobby", "reported")
	open, err := s.store.ReportMessage(ctx, s.users["ada"].ID, reported, "spam")
	must(t, err)
	closed, err := s.store.ReportMessage(ctx, s.users["bob"].ID, msg, "meh")
	must(t, err)
	must(t, s.store.ResolveReport(ctx, s.users["owner"].ID, closed.ID, store.ResolutionDismissed))

	admin, mod := s.as("owner"), s.as("mod")
	ada := fmt.Sprintf("/admin/users/%d", s.users["ada"].ID)
	cases := []struct {
		name   string
		b      *browser
		path   string
		form   url.Values
		status int
		says   string
	}{
		{"unknown user", admin, "/admin/users/99999/mute", url.Values{"duration": {"1h"}}, 404, "There is no user 99999."},
		{"id not a number", admin, "/admin/users/abc/ban", url.Values{"duration": {"1h"}}, 404, "There is no user"},
		{"negative id", admin, "/admin/users/-3/ban", url.Values{"duration": {"1h"}}, 404, "There is no user"},
		{"unknown action", admin, ada + "/explode", nil, 404, "no such action"},
		{"negative duration", admin, ada + "/mute", url.Values{"duration": {"-1h"}}, 400, "more than nothing"},
		{"zero duration", admin, ada + "/ban", url.Values{"duration": {"0s"}}, 400, "more than nothing"},
		{"absurd duration", admin, ada + "/ban", url.Values{"duration": {"87601h"}}, 400, "at most ten years"},
		{"not a duration", admin, ada + "/mute", url.Values{"duration": {"a while"}}, 400, "is not a duration"},
		{"no duration", admin, ada + "/mute", nil, 400, "Choose how long"},
		{"reason too long", admin, ada + "/kick", url.Values{"reason": {strings.Repeat("x", MaxReasonChars+1)}}, 400, "at most 500 characters"},
		{"unknown role", admin, ada + "/role", url.Values{"role": {"god"}}, 400, "user, moderator or admin"},
		{"a role for a guest", admin, fmt.Sprintf("/admin/users/%d/role", s.users["gus"].ID), url.Values{"role": {"moderator"}}, 400, "is a guest"},
		{"unmute who is not muted", admin, ada + "/unmute", nil, 409, "not muted"},
		{"unban who is not banned", admin, ada + "/unban", nil, 409, "not banned"},
		{"moderator bans an admin", mod, fmt.Sprintf("/admin/users/%d/ban", s.users["owner"].ID), url.Values{"duration": {"forever"}}, 403, "who is an administrator"},
		{"moderator mutes a moderator", mod, fmt.Sprintf("/admin/users/%d/mute", s.users["mod2"].ID), url.Values{"duration": {"1h"}}, 403, "who is a moderator"},
		{"moderator kicks an admin", mod, fmt.Sprintf("/admin/users/%d/kick", s.users["admin2"].ID), nil, 403, "who is an administrator"},
		{"moderator changes a role", mod, ada + "/role", url.Values{"role": {"moderator"}}, 403, "Only administrators"},
		{"admin bans themself", admin, fmt.Sprintf("/admin/users/%d/ban", s.users["owner"].ID), url.Values{"duration": {"1h"}}, 403, "yourself"},
		{"unknown room", admin, "/admin/rooms/nowhere/lock", nil, 404, "There is no room"},
		{"bad room name", admin, "/admin/rooms/No%20Way/lock", nil, 404, "There is no room"},
		{"already unlocked", admin, "/admin/rooms/lobby/unlock", nil, 409, "already unlocked"},
		{"negative slow mode", admin, "/admin/rooms/lobby/slowmode", url.Values{"seconds": {"-1"}}, 400, "Slow mode is 0"},
		{"absurd slow mode", admin, "/admin/rooms/lobby/slowmode", url.Values{"seconds": {"999999"}}, 400, "Slow mode is 0"},
		{"empty title", admin, "/admin/rooms/lobby/topic", url.Values{"title": {"  "}}, 400, "title is 1 to"},
		{"unknown message", admin, "/admin/messages/99999/delete", nil, 404, "There is no message 99999."},
		{"deleted message", admin, fmt.Sprintf("/admin/messages/%d/delete", gone), nil, 409, "already deleted"},
		{"unknown report", admin, "/admin/reports/99999/resolve", url.Values{"resolution": {"dismissed"}}, 404, "There is no report"},
		{"bad resolution", admin, fmt.Sprintf("/admin/reports/%d/resolve", open.ID), url.Values{"resolution": {"nuke"}}, 400, "Resolve a report by"},
		{"resolved report", admin, fmt.Sprintf("/admin/reports/%d/resolve", closed.ID), url.Values{"resolution": {"warned"}}, 409, "already resolved"},
		{"dismiss nothing", admin, "/admin/reports/dismiss", nil, 400, "Tick the reports"},
		{"dismiss a bad id", admin, "/admin/reports/dismiss", url.Values{"id": {"x"}}, 400, "is not a report"},
		{"dismiss only resolved ones", admin, "/admin/reports/dismiss", url.Values{"id": {strconv.FormatInt(closed.ID, 10)}}, 409, "already resolved"},
		{"dismiss unknown ones", admin, "/admin/reports/dismiss", url.Values{"id": {"99999"}}, 404, "There is no report 99999."},
		{"unknown connection", admin, "/admin/connections/424242/kick", nil, 404, "no open connection"},
		{"forged XSRF", admin, ada + "/ban", url.Values{"duration": {"1h"}, "_xsrf": {"2|forged|token|x"}}, 403, ""},
		{"no XSRF", admin, ada + "/ban", url.Values{"duration": {"1h"}, "_xsrf": {""}}, 403, ""},
	}
	auditBefore := len(s.allAudit())
	for _, c := range cases {
		r := c.b.post(c.path, c.form)
		if r.Status != c.status {
			t.Errorf("%s: %d; want %d (%.300s)", c.name, r.Status, c.status, r.Body)
			continue
		}
		if c.says != "" && !strings.Contains(r.Body, c.says) {
			t.Errorf("%s: the answer does not say %q: %.600s", c.name, c.says, r.Body)
		}
		if c.says != "" && strings.Contains(r.Body, `id="admin-nav"`) && !strings.Contains(r.Body, `id="admin-error"`) {
			t.Errorf("%s: the page again, but without p#admin-error", c.name)
		}
	}
	if n := len(s.allAudit()) - auditBefore; n != 0 {
		t.Errorf("refused actions wrote %d audit entries", n)
	}
	if u := s.user("ada"); u.BannedAt(time.Now()) || u.MutedAt(time.Now()) || u.Role != store.RoleUser {
		t.Errorf("ada changed: %+v", u)
	}
	if u := s.user("owner"); u.BannedAt(time.Now()) {
		t.Error("the moderator's ban of an administrator took effect")
	}

	// The refusal comes back on the page the form was on, with its filters.
	r := admin.post(ada+"/mute", url.Values{"duration": {"-5m"}, "next": {"/admin/users?q=ad"}})
	if r.Status != 400 || !strings.Contains(r.Body, `id="admin-error"`) || !strings.Contains(r.Body, `name="q" value="ad"`) {
		t.Errorf("refusal with next: %d, want the users page filtered by ad with the error: %.400s", r.Status, r.Body)
	}
	// next cannot send the reader off the dashboard.
	for _, next := range []string{"https://evil.example/admin/", "//evil.example/admin/users", "/signout"} {
		r := admin.post(ada+"/kick", url.Values{"next": {next}})
		if loc := r.Header.Get("Location"); r.Status != 303 || !strings.HasPrefix(loc, "/admin/users?done=kick") {
			t.Errorf("next %q: %d %q; want 303 to /admin/users", next, r.Status, loc)
		}
	}
}

func (s *testSite) allAudit() []store.AuditEntry {
	s.t.Helper()
	entries, err := s.store.QueryAudit(ctx, store.AuditQuery{Limit: store.MaxPageSize})
	if err != nil {
		s.t.Fatal(err)
	}
	return entries
}

// TestJSONAnswers: a program gets JSON for the actions and the tables.
func TestJSONAnswers(t *testing.T) {
	s := startSite(t)
	admin := s.as("owner")
	accept := "Accept: application/json"
	r := admin.post(fmt.Sprintf("/admin/users/%d/mute", s.users["ada"].ID), url.Values{"duration": {"10m"}, "reason": {"x"}}, accept)
	var done struct{ Done, Message string }
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &done) != nil || done.Done != "mute" || !strings.Contains(done.Message, "Muted ada until") {
		t.Errorf("mute as JSON: %d %s", r.Status, r.Body)
	}
	r = admin.post("/admin/users/99999/mute", url.Values{"duration": {"10m"}}, accept)
	var refused struct{ Error string }
	if r.Status != 404 || json.Unmarshal([]byte(r.Body), &refused) != nil || refused.Error != "There is no user 99999." {
		t.Errorf("unknown user as JSON: %d %s", r.Status, r.Body)
	}
	r = admin.client.Get("/admin/users?q=ada", accept)
	var page struct{ Page []views.AdminUserRow }
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &page) != nil || len(page.Page) != 1 || page.Page[0].Name != "ada" {
		t.Errorf("users as JSON: %d %s", r.Status, r.Body)
	}
	// A bulk dismissal with one report resolved meanwhile dismisses the rest.
	m := s.postMessage("bob", "lobby", "spam")
	open, err := s.store.ReportMessage(ctx, s.users["ada"].ID, m, "spam")
	must(t, err)
	gone, err := s.store.ReportMessage(ctx, s.users["plain"].ID, m, "spam")
	must(t, err)
	must(t, s.store.ResolveReport(ctx, s.users["owner"].ID, gone.ID, store.ResolutionWarned))
	r = admin.post("/admin/reports/dismiss", url.Values{"id": {strconv.FormatInt(open.ID, 10), strconv.FormatInt(gone.ID, 10)}}, accept)
	if r.Status != 200 || json.Unmarshal([]byte(r.Body), &done) != nil || done.Done != "dismiss" ||
		!strings.Contains(done.Message, "Dismissed 1 report.") || !strings.Contains(done.Message, "already resolved") {
		t.Errorf("bulk dismissal: %d %s", r.Status, r.Body)
	}
	if r := s.as("").client.Get("/admin/users", accept); r.Status != 401 {
		t.Errorf("signed-out program: %d; want 401", r.Status)
	}
}

// TestTablesShowTheState: the tables render what the store and the
// engine hold, and a flash only from the fixed words.
func TestTablesShowTheState(t *testing.T) {
	s := startSite(t)
	msg := s.postMessage("ada", "lobby", "<b>bold</b> words")
	gone := s.postMessage("bob", "lobby", "gone words")
	must(t, s.store.DeleteMessage(ctx, s.users["owner"].ID, gone, "test"))
	_, err := s.store.ReportMessage(ctx, s.users["bob"].ID, msg, "<i>rude</i>")
	must(t, err)
	ada := s.as("ada")
	ws := s.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+ada.cookieHeader())
	ws.Read()
	mod := s.as("mod")

	users := mod.client.Get("/admin/users?done=mute")
	mustContain(t, "users", users.Body, `<table id="users"`, fmt.Sprintf(`<tr data-id="%d" data-name="ada">`, s.users["ada"].ID),
		`id="admin-flash"`, "Muted. They see why", `<span class="doors">WebSocket</span>`, "Banned until")
	// A moderator is offered nothing on administrators, moderators and themself.
	for _, name := range []string{"owner", "mod", "mod2"} {
		if strings.Contains(users.Body, fmt.Sprintf(`action="/admin/users/%d/`, s.users[name].ID)) {
			t.Errorf("the moderator is offered actions on %s", name)
		}
	}
	if r := mod.client.Get("/admin/users?done=%3Cscript%3E"); strings.Contains(r.Body, `id="admin-flash"`) {
		t.Error("an unknown done code made a flash")
	}
	mustContain(t, "muted users", mod.client.Get("/admin/users?muted=1").Body, "Muted until", "Why: <q>noise</q>")
	mustContain(t, "users filtered", mod.client.Get("/admin/users?banned=1").Body, fmt.Sprintf(`data-id="%d"`, s.users["banned1"].ID))
	mustNotContain(t, "users filtered", mod.client.Get("/admin/users?banned=1").Body, fmt.Sprintf(`data-id="%d"`, s.users["ada"].ID))
	if r := mod.client.Get("/admin/users?role=god"); r.Status != 400 || !strings.Contains(r.Body, `id="admin-error"`) {
		t.Errorf("bad role filter: %d", r.Status)
	}
	if r := mod.client.Get("/admin/users?after=garbage"); r.Status != 400 {
		t.Errorf("bad cursor: %d; want 400", r.Status)
	}

	rooms := mod.client.Get("/admin/rooms?archived=1")
	mustContain(t, "rooms", rooms.Body, `<table id="rooms"`, `<tr data-id="lobby">`, `<tr data-id="old">`, `class="badge badge-locked"`)
	mustNotContain(t, "rooms without archived", mod.client.Get("/admin/rooms").Body, `<tr data-id="old">`)

	msgs := mod.client.Get("/admin/messages?deleted=1&room=lobby")
	mustContain(t, "messages", msgs.Body, `<table id="messages"`, fmt.Sprintf(`<tr data-id="%d" class="deleted">`, gone),
		"gone words", "&lt;b&gt;bold&lt;/b&gt;")
	mustNotContain(t, "messages without deleted", mod.client.Get("/admin/messages").Body, "gone words")
	if r := mod.client.Get("/admin/messages?room=nowhere"); r.Status != 404 {
		t.Errorf("messages of an unknown room: %d; want 404", r.Status)
	}
	context := mod.client.Get(fmt.Sprintf("/admin/messages/%d", gone))
	mustContain(t, "context", context.Body, fmt.Sprintf(`<tr data-id="%d" class="deleted focus" aria-current="true">`, gone),
		fmt.Sprintf(`<tr data-id="%d">`, msg))
	if r := mod.client.Get("/admin/messages/99999"); r.Status != 404 {
		t.Errorf("context of an unknown message: %d; want 404", r.Status)
	}

	reports := mod.client.Get("/admin/reports")
	mustContain(t, "reports", reports.Body, `<table id="reports"`, "&lt;i&gt;rude&lt;/i&gt;", `class="action-resolve"`,
		`<span class="admin-count" id="admin-count">1</span>`)

	owner := s.as("owner")
	ows := s.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+owner.cookieHeader())
	ows.Read()
	var adaConn, ownerConn uint64
	s.Do(func() {
		for _, c := range s.engine.Connections() {
			switch c.UserID {
			case s.users["ada"].ID:
				adaConn = c.ID
			case s.users["owner"].ID:
				ownerConn = c.ID
			}
		}
	})
	conns := mod.client.Get("/admin/connections")
	mustContain(t, "connections", conns.Body, `<table id="connections"`, `data-door="ws"`, "127.0.0.1", `<li data-door="ws">WebSocket: <strong>2</strong>`,
		fmt.Sprintf(`action="/admin/connections/%d/kick"`, adaConn))
	// A moderator is not offered to kick an administrator's connection.
	mustNotContain(t, "connections", conns.Body, fmt.Sprintf(`action="/admin/connections/%d/kick"`, ownerConn))
	if r := mod.post(fmt.Sprintf("/admin/connections/%d/kick", ownerConn), nil); r.Status != 403 {
		t.Errorf("a moderator kicks an administrator's connection: %d; want 403", r.Status)
	}

	audit := mod.client.Get("/admin/audit?actor=owner")
	mustContain(t, "audit", audit.Body, `<table id="audit"`, `data-action="delete_message"`, `data-action="mute"`)
	mustNotContain(t, "audit by mod", mod.client.Get("/admin/audit?actor=mod").Body, `data-action=`)
	if r := mod.client.Get("/admin/audit?actor=nobody"); r.Status != 404 || !strings.Contains(r.Body, "There is no user named") {
		t.Errorf("audit of an unknown actor: %d", r.Status)
	}
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
