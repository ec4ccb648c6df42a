package accounts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/rooms"
	"chat/store"
)

// Password sign-in, sign-up, sign-out and the account page over real
// HTTP, on a fresh SQLite file, with bcrypt at its minimum cost and a
// clock the test steps.

// testClock is Config.Now: read on the loop, stepped by the test.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// accountsOptions vary startAccounts' server.
type accountsOptions struct {
	allowGuests bool
	// passwords makes Config.Passwords; nil: accounts.NewPasswordExecutor.
	passwords func(*ioloop.Loop) *ioloop.Executor
	cost      int // zero: bcrypt.MinCost
	newUsers  int // Config.NewUsersPerMinute
}

type accountsServer struct {
	*guestServer
	clock     *testClock
	passwords *ioloop.Executor
	cost      int
}

// startAccounts serves the accounts and rooms routes over a fresh SQLite
// file with a room "lobby" and an admin "owner".
func startAccounts(t *testing.T, opts accountsOptions) *accountsServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if opts.cost == 0 {
		opts.cost = bcrypt.MinCost
	}
	as := &accountsServer{guestServer: &guestServer{t: t, store: st}, clock: &testClock{now: time.Now()}, cost: opts.cost}
	as.owner = as.user("owner", "owner's password", store.RoleAdmin)
	if _, err := st.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: as.owner.ID}); err != nil {
		t.Fatal(err)
	}
	keys := []web.KeyPair{web.GenerateKeys()}
	as.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		if opts.passwords != nil {
			as.passwords = opts.passwords(loop)
		} else {
			as.passwords = accounts.NewPasswordExecutor(loop)
		}
		as.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: opts.allowGuests,
			Passwords: as.passwords, BcryptCost: opts.cost, Now: as.clock.Now, NewUsersPerMinute: opts.newUsers})
		engine := rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: as.sessions})
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys,
			Routes: append(as.sessions.Routes(), engine.Routes()...)})
	})
	// The dummy hash is made on the executor as the loop starts; wait for
	// it, so that tests counting the executor's jobs count only theirs.
	as.WaitFor(func() bool { return as.passwords.Stats().Completed >= 1 }, "the dummy hash")
	return as
}

// user stores a registered user with that password.
func (as *accountsServer) user(name, password string, role store.Role) store.User {
	as.t.Helper()
	hash, err := accounts.HashPassword(name, password, as.cost)
	if err != nil {
		as.t.Fatal(err)
	}
	u, err := as.store.CreateUser(context.Background(), name, hash, role)
	if err != nil {
		as.t.Fatal(err)
	}
	return u
}

// compares is how many jobs the password executor has finished (a job is
// counted just after its result is handed to the loop).
func (as *accountsServer) compares() uint64 { return as.passwords.Stats().Completed }

// token makes sure the browser holds the _xsrf cookie (GET /signin sets
// it) and returns it.
func (b *browser) token() string {
	b.t.Helper()
	if b.cookie("_xsrf") == "" {
		b.client.Get("/signin")
	}
	return b.cookie("_xsrf")
}

// post submits a form with the browser's XSRF token (unless form has
// one), as a program asking for JSON or as a browser.
func (b *browser) post(path string, form url.Values, asJSON bool) asynctest.Response {
	b.t.Helper()
	if _, ok := form["_xsrf"]; !ok {
		form.Set("_xsrf", b.token())
	}
	header := []string{"Content-Type: application/x-www-form-urlencoded"}
	if asJSON {
		header = append(header, "Accept: application/json")
	}
	return b.client.Fetch("POST", path, form.Encode(), header...)
}

// signin posts the sign-in form.
func (b *browser) signin(name, password string, asJSON bool) asynctest.Response {
	b.t.Helper()
	return b.post("/signin", url.Values{"name": {name}, "password": {password}}, asJSON)
}

// mustSignin signs in and fails the test unless it worked.
func (b *browser) mustSignin(name, password string) accounts.WireUser {
	b.t.Helper()
	r := b.signin(name, password, true)
	if r.Status != http.StatusOK {
		b.t.Fatalf("sign in %q: %d %s", name, r.Status, r.Body)
	}
	return decodeUser(b.t, r)
}

func decodeUser(t *testing.T, r asynctest.Response) accounts.WireUser {
	t.Helper()
	var me struct{ User accounts.WireUser }
	if err := json.Unmarshal([]byte(r.Body), &me); err != nil || me.User.ID == 0 {
		t.Fatalf("%d %q: no user: %v", r.Status, r.Body, err)
	}
	return me.User
}

// me is GET /api/me's status.
func (b *browser) me() int {
	b.t.Helper()
	return b.client.Get("/api/me").Status
}

// apiError decodes the protocol's error object.
type apiError struct {
	Code, Error, Message, Field string
	Fields                      map[string]string
	RetryAfter                  int `json:"retry_after"`
}

func decodeError(t *testing.T, r asynctest.Response) apiError {
	t.Helper()
	var e apiError
	if err := json.Unmarshal([]byte(r.Body), &e); err != nil {
		t.Fatalf("%d %q: not JSON: %v", r.Status, r.Body, err)
	}
	return e
}

// hasAll fails unless the page (unescaped) holds every want.
func hasAll(t *testing.T, r asynctest.Response, want ...string) {
	t.Helper()
	body := html.UnescapeString(r.Body)
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("%d: the page lacks %q:\n%s", r.Status, w, r.Body)
		}
	}
}

// The sign-in page: the form the e2e tests drive, with links to sign-up
// and (guests on) the guest form, both keeping next.
func TestSigninForm(t *testing.T) {
	for _, guests := range []bool{true, false} {
		t.Run(fmt.Sprintf("guests %v", guests), func(t *testing.T) {
			as := startAccounts(t, accountsOptions{allowGuests: guests})
			b := as.browser()
			r := b.client.Get("/signin?next=/rooms/lobby")
			if r.Status != http.StatusOK || b.cookie("_xsrf") == "" {
				t.Fatalf("GET /signin: %d, _xsrf %q", r.Status, b.cookie("_xsrf"))
			}
			hasAll(t, r, `<form id="signin-form" method="post" action="/signin"`, `name="_xsrf"`,
				`id="name" name="name"`, `autocomplete="username"`, `id="password" name="password" type="password"`,
				`autocomplete="current-password"`, `name="next" value="/rooms/lobby"`, `id="signin-submit"`,
				`href="/signup?next=%2Frooms%2Flobby"`, `data-page="signin"`)
			if got := strings.Contains(r.Body, `href="/guest?next=%2Frooms%2Flobby"`); got != guests {
				t.Fatalf("guest link shown %v, guests on %v:\n%s", got, guests, r.Body)
			}
		})
	}
}

// Wrong passwords, unknown names and guests' names get the same answer,
// after the same bcrypt compare; the right password signs in; a banned
// user with the right password is told why and for how long.
func TestSignin(t *testing.T) {
	as := startAccounts(t, accountsOptions{allowGuests: true})
	ctx := context.Background()
	ada := as.user("ada", "correct horse battery", store.RoleUser)
	as.browser().guest("visitor")
	banned := as.user("mallory", "mallory's password", store.RoleUser)
	if err := as.store.BanUser(ctx, as.owner.ID, banned.ID, time.Now().Add(3*time.Hour+time.Minute), "spam"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, user, password string
		status               int
		code                 string
		words                string
	}{
		{"wrong password", "ada", "wrong horse battery", 401, "bad_credentials", "Wrong name or password."},
		{"unknown name", "nobody", "correct horse battery", 401, "bad_credentials", "Wrong name or password."},
		{"guest's name", "visitor", "any password at all", 401, "bad_credentials", "Wrong name or password."},
		{"guest's name, no password", "visitor", "", 400, "invalid", "Enter your name and your password."},
		{"impossible name", "a b", "correct horse battery", 401, "bad_credentials", "Wrong name or password."},
		{"password past 72 bytes", "ada", "correct horse battery" + strings.Repeat("x", 60), 401, "bad_credentials", "Wrong name or password."},
		{"banned", "Mallory", "mallory's password", 403, "banned", "You are banned: spam. Time left: 3 hours."},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := as.browser()
			before := as.compares()
			e := decodeError(t, b.signin(c.user, c.password, true))
			if e.Code != c.code || e.Message != c.words || e.Error != c.words {
				t.Fatalf("JSON: %+v, want code %q %q", e, c.code, c.words)
			}
			if c.status == 401 {
				// The worker counts a job just after handing its result
				// back: wait for the count.
				as.WaitFor(func() bool { return as.compares() > before }, "a password compare")
			}
			r := b.signin(c.user, c.password, false)
			if r.Status != c.status {
				t.Fatalf("browser: %d, want %d", r.Status, c.status)
			}
			hasAll(t, r, `id="signin-error" class="field-error" role="alert">`+c.words, `aria-describedby="signin-error"`,
				`value="`+strings.TrimSpace(c.user)+`"`)
			if b.cookie(accounts.CookieName) != "" || b.me() != http.StatusUnauthorized {
				t.Fatal("signed in after a refused sign-in")
			}
		})
	}
	t.Run("right password", func(t *testing.T) {
		b := as.browser()
		if u := b.mustSignin("ADA", "correct horse battery"); u.ID != ada.ID || u.Name != "ada" || u.Guest {
			t.Fatalf("signed in as %+v", u)
		}
		if b.me() != http.StatusOK {
			t.Fatal("/api/me refused the new session")
		}
		r := as.browser().post("/signin", url.Values{"name": {"ada"}, "password": {"correct horse battery"},
			"next": {"/rooms/lobby"}}, false)
		if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/rooms/lobby" {
			t.Fatalf("browser sign-in: %d Location %q", r.Status, r.Header.Get("Location"))
		}
	})
}

// Five failures for a name, then each attempt waits a delay that doubles
// from 1 s; the run is forgotten 15 minutes after its last failure, and
// by the right password. The throttled answer is 429 throttled with
// Retry-After, shown in p#signin-error, whatever the password.
func TestSigninThrottle(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	b := as.browser()
	fail := func(name string) {
		t.Helper()
		if r := b.signin(name, "wrong horse battery", true); r.Status != http.StatusUnauthorized {
			t.Fatalf("a failure that should run: %d %s", r.Status, r.Body)
		}
	}
	throttled := func(name string, wait int) {
		t.Helper()
		r := b.signin(name, "correct horse battery", true)
		e := decodeError(t, r)
		words := fmt.Sprintf("Too many failed sign-ins: wait %d s.", wait)
		if r.Status != http.StatusTooManyRequests || e.Code != "throttled" || e.Message != words ||
			e.RetryAfter != wait || r.Header.Get("Retry-After") != fmt.Sprint(wait) {
			t.Fatalf("got %d %s Retry-After %q; want 429 %q", r.Status, r.Body, r.Header.Get("Retry-After"), words)
		}
	}
	for range 5 {
		fail("ada")
	}
	throttled("ada", 1)
	throttled("ADA", 1) // the name in any letter case
	page := b.signin("Ada", "correct horse battery", false)
	if page.Status != http.StatusTooManyRequests || page.Header.Get("Retry-After") != "1" {
		t.Fatalf("browser: %d Retry-After %q", page.Status, page.Header.Get("Retry-After"))
	}
	hasAll(t, page, `id="signin-error" class="field-error" role="alert">Too many failed sign-ins: wait 1 s.`)

	for _, wait := range []int{1, 2, 4, 8} {
		as.clock.Advance(time.Duration(wait)*time.Second - time.Millisecond)
		throttled("ada", 1)
		as.clock.Advance(time.Millisecond)
		fail("ada")
		throttled("ada", 2*wait)
	}
	// Quiet for the window: forgotten, five free failures again.
	as.clock.Advance(15 * time.Minute)
	for range 5 {
		fail("ada")
	}
	throttled("ada", 1)
	// Another name is not throttled by ada's failures.
	fail("grace")
	// The right password clears the run.
	as.clock.Advance(time.Second)
	b.mustSignin("ada", "correct horse battery")
	for range 5 {
		fail("ada")
	}
	throttled("ada", 1)
}

// One address failing on many names is throttled after 20 failures,
// whatever name it tries next.
func TestSigninThrottleByAddress(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	b := as.browser()
	for i := range 20 {
		if r := b.signin(fmt.Sprintf("user%d", i), "wrong horse battery", true); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s", i, r.Status, r.Body)
		}
	}
	r := b.signin("ada", "correct horse battery", true)
	if e := decodeError(t, r); r.Status != http.StatusTooManyRequests || e.Code != "throttled" || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("the 21st: %d %s", r.Status, r.Body)
	}
	as.clock.Advance(time.Second)
	b.mustSignin("ada", "correct horse battery")
}

// Every form POST needs the XSRF token: 403, and nothing happens, even
// from a browser holding a session and an _xsrf cookie.
func TestAccountFormsNeedXSRF(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	b := as.browser()
	b.mustSignin("ada", "correct horse battery")
	for _, c := range []struct {
		path string
		form url.Values
	}{
		{"/signin", url.Values{"name": {"ada"}, "password": {"correct horse battery"}}},
		{"/signup", url.Values{"name": {"grace"}, "password": {"a long enough password"}}},
		{"/signout", url.Values{"everywhere": {"1"}}},
		{"/account/password", url.Values{"current": {"correct horse battery"}, "password": {"another long password"}}},
	} {
		for _, token := range []string{"", "2|00000000|00000000000000000000000000000000|1"} {
			t.Run(c.path+" "+token, func(t *testing.T) {
				form := url.Values{}
				for k, v := range c.form {
					form[k] = v
				}
				if token != "" {
					form.Set("_xsrf", token)
				}
				for _, asJSON := range []bool{true, false} {
					header := []string{"Content-Type: application/x-www-form-urlencoded"}
					if asJSON {
						header = append(header, "Accept: application/json")
					}
					if r := b.client.Fetch("POST", c.path, form.Encode(), header...); r.Status != http.StatusForbidden {
						t.Fatalf("JSON %v: %d %s", asJSON, r.Status, r.Body)
					}
				}
			})
		}
	}
	if b.me() != http.StatusOK {
		t.Fatal("the session ended")
	}
	if _, err := as.store.UserByName(context.Background(), "grace"); err == nil {
		t.Fatal("grace was created")
	}
	as.browser().mustSignin("ada", "correct horse battery") // the password did not change
}

// next is followed only to a path of this site.
func TestNextIsSameSite(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	for i, c := range []struct{ next, want string }{
		{"//evil.com", "/"},
		{"https://evil.com", "/"},
		{"https://evil.com/rooms/lobby", "/"},
		{`/\evil.com`, "/"},
		{"javascript:alert(1)", "/"},
		{"evil.com", "/"},
		{"", "/"},
		{"/rooms/lobby?after=3", "/rooms/lobby?after=3"},
	} {
		t.Run(c.next, func(t *testing.T) {
			for _, form := range []struct {
				path   string
				fields url.Values
			}{
				{"/signin", url.Values{"name": {"ada"}, "password": {"correct horse battery"}}},
				{"/signup", url.Values{"name": {fmt.Sprintf("new%d", i)}, "password": {"a long enough password"}}},
				{"/signout", url.Values{}},
			} {
				fields := url.Values{"next": {c.next}}
				for k, v := range form.fields {
					fields[k] = v
				}
				r := as.browser().post(form.path, fields, false)
				if r.Status != http.StatusSeeOther || r.Header.Get("Location") != c.want {
					t.Fatalf("%s: %d Location %q, want %q", form.path, r.Status, r.Header.Get("Location"), c.want)
				}
			}
		})
	}
}

// Sign out ends this browser's session; sign out everywhere ends every
// session of the user, an open WebSocket's too.
func TestSignout(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	here, other := as.browser(), as.browser()
	here.mustSignin("ada", "correct horse battery")
	other.mustSignin("ada", "correct horse battery")

	r := here.post("/signout", url.Values{}, false)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/" || here.cookie(accounts.CookieName) != "" {
		t.Fatalf("sign out: %d Location %q cookie %q", r.Status, r.Header.Get("Location"), here.cookie(accounts.CookieName))
	}
	if here.me() != http.StatusUnauthorized || other.me() != http.StatusOK {
		t.Fatal("sign out should end this session only")
	}

	here.mustSignin("ada", "correct horse battery")
	stale := here.cookieHeader() // as another tab of this browser would still send it
	ws := as.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+other.cookieHeader())
	if !strings.Contains(ws.ReadText(), `"type":"hello"`) {
		t.Fatal("no hello")
	}
	if r := here.post("/signout", url.Values{"everywhere": {"1"}}, true); r.Status != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Body)
	}
	if here.cookie(accounts.CookieName) != "" || here.me() != http.StatusUnauthorized || other.me() != http.StatusUnauthorized {
		t.Fatal("a session survived sign out everywhere")
	}
	if r := as.browser().client.Get("/api/me", "Cookie: "+stale); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old cookie: %d", r.Status)
	}
	ws.Send(`{"type":"send","body":"still here?","key":"k"}`)
	if code, _ := ws.WaitClosed(); code != rooms.CloseSessionEnded {
		t.Fatalf("the WebSocket closed with %d, want %d", code, rooms.CloseSessionEnded)
	}
	// Signing in again works, at the new version.
	here.mustSignin("ada", "correct horse battery")
	if here.me() != http.StatusOK {
		t.Fatal("cannot sign in again")
	}
}

// Without Config.Passwords the password routes cannot run: 500, and the
// guest form still works.
func TestNoPasswordExecutor(t *testing.T) {
	gs := startGuests(t, true)
	b := gs.browser()
	for _, path := range []string{"/signin", "/signup"} {
		form := url.Values{"name": {"owner"}, "password": {"a long enough password"}, "_xsrf": {b.xsrf()}}
		if r := b.client.Fetch("POST", path, form.Encode(), "Content-Type: application/x-www-form-urlencoded"); r.Status != http.StatusInternalServerError {
			t.Fatalf("%s: %d %s", path, r.Status, r.Body)
		}
	}
	b.guest("ada")
}
