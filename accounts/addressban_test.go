package accounts_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/rooms"
	"chat/store"
)

// startBanningAccounts is startAccounts (guests on) with
// Config.AddressBanned wired to the rooms engine's table of address bans,
// as cmd/chat wires it; it returns the engine too.
func startBanningAccounts(t *testing.T) (*accountsServer, **rooms.Engine) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	as := &accountsServer{guestServer: &guestServer{t: t, store: st}, clock: &testClock{now: time.Now()}, cost: bcrypt.MinCost}
	as.owner = as.user("owner", "owner's password", store.RoleAdmin)
	keys := []web.KeyPair{web.GenerateKeys()}
	var engine *rooms.Engine
	as.Server = asynctest.StartAppFunc(t, nil, func(loop *ioloop.Loop) (*web.Application, error) {
		as.passwords = accounts.NewPasswordExecutor(loop)
		as.sessions = accounts.New(accounts.Config{Loop: loop, Store: st, AllowGuests: true,
			Passwords: as.passwords, BcryptCost: as.cost,
			AddressBanned: func(ip string) (string, time.Time, bool) {
				b, ok := engine.AddressBanned(ip)
				return b.Reason, b.Until, ok
			}})
		engine = rooms.New(rooms.Config{Loop: loop, Store: st, Sessions: as.sessions})
		return web.NewApplication(web.Config{Loop: loop, CookieKeys: keys,
			Routes: append(as.sessions.Routes(), engine.Routes()...)})
	})
	return as, &engine
}

// A banned client address is refused sign-in, sign-up and guest sign-in
// with 403 and the ban's reason (in the form's error for a browser, in the
// error object for a program); the unban lets it back.
func TestAddressBanRefusesSignIn(t *testing.T) {
	as, engine := startBanningAccounts(t)
	as.user("ada", "ada's long password", store.RoleUser)
	ctx := context.Background()
	ban, err := as.store.BanAddressAs(ctx, store.Actor{ID: as.owner.ID}, "127.0.0.0/16", time.Now().Add(time.Hour), "shared abuse")
	if err != nil {
		t.Fatal(err)
	}
	changed := func() {
		t.Helper()
		if _, err := asynctest.Await(t, as.Loop, func() *concurrent.Future[struct{}] {
			return (*engine).AddressBansChanged()
		}); err != nil {
			t.Fatal(err)
		}
	}
	changed()

	b := as.browser()
	check := func(what string, r asynctest.Response, asJSON bool) {
		t.Helper()
		if r.Status != http.StatusForbidden || !strings.Contains(r.Body, "shared abuse") {
			t.Fatalf("%s: %d %s, want 403 with the reason", what, r.Status, r.Body)
		}
		if asJSON && !strings.Contains(r.Body, `"banned"`) {
			t.Fatalf("%s: %s, want code banned", what, r.Body)
		}
		if !asJSON && !strings.Contains(r.Body, "Your address is banned") {
			t.Fatalf("%s: the form does not say why: %s", what, r.Body)
		}
	}
	check("sign-in", b.signin("ada", "ada's long password", false), false)
	check("sign-in (JSON)", b.signin("ada", "ada's long password", true), true)
	check("sign-up", b.post("/signup", url.Values{"name": {"newbie"}, "password": {"a fine long password"}}, false), false)
	check("guest", b.signIn(url.Values{"name": {"visitor"}, "_xsrf": {b.xsrf()}}, false), false)
	check("guest (JSON)", b.signIn(url.Values{"name": {"visitor"}, "_xsrf": {b.xsrf()}}, true), true)

	if err := as.store.UnbanAddressAs(ctx, store.Actor{ID: as.owner.ID}, ban.ID, "lifted"); err != nil {
		t.Fatal(err)
	}
	changed()
	b.mustSignin("ada", "ada's long password")
	as.browser().guest("visitor")
}
