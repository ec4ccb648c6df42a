package accounts_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"chat/rooms"
	"chat/store"
)

// /account is for registered users: a browser without a session is sent
// to sign in and back, a program gets 401, a guest 403.
func TestAccountPage(t *testing.T) {
	as := startAccounts(t, accountsOptions{allowGuests: true})
	as.user("ada", "correct horse battery", store.RoleUser)
	anon := as.browser()
	if r := anon.client.Get("/account"); r.Status != http.StatusFound || r.Header.Get("Location") != "/signin?next=%2Faccount" {
		t.Fatalf("anonymous: %d Location %q", r.Status, r.Header.Get("Location"))
	}
	if r := anon.client.Get("/account", "Accept: application/json"); r.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous program: %d", r.Status)
	}
	guest := as.browser()
	guest.guest("visitor")
	if r := guest.client.Get("/account"); r.Status != http.StatusForbidden {
		t.Fatalf("guest: %d", r.Status)
	}
	if r := guest.post("/account/password", url.Values{"current": {"x"}, "password": {"a long enough password"}}, true); r.Status != http.StatusForbidden {
		t.Fatalf("guest's password change: %d %s", r.Status, r.Body)
	}
	b := as.browser()
	b.mustSignin("ada", "correct horse battery")
	r := b.client.Get("/account")
	if r.Status != http.StatusOK {
		t.Fatalf("GET /account: %d", r.Status)
	}
	hasAll(t, r, `<form id="password-form" method="post" action="/account/password"`, `id="current" name="current" type="password"`,
		`autocomplete="current-password"`, `id="password" name="password" type="password"`, `autocomplete="new-password"`,
		`<form id="signout-everywhere" method="post" action="/signout"`, `name="everywhere" value="1"`, `name="_xsrf"`,
		`data-page="account"`)
	if strings.Contains(r.Body, `id="password-done"`) {
		t.Fatal("password-done before any change")
	}
}

// A refused password change says why beside the field and changes
// nothing.
func TestPasswordChangeRefused(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	as.user("ada", "correct horse battery", store.RoleUser)
	b := as.browser()
	b.mustSignin("ada", "correct horse battery")
	for _, c := range []struct {
		name, current, password string
		status                  int
		code, field, words      string
	}{
		{"wrong current", "wrong horse battery", "a new long password", 403, "wrong_password", "current", "That is not your current password."},
		{"no current", "", "a new long password", 400, "invalid", "current", "Enter your current password."},
		{"short", "correct horse battery", "short", 400, "invalid", "password", "A password has at least 10 characters."},
		{"too long", "correct horse battery", strings.Repeat("x", 73), 400, "invalid", "password", "A password has at most 72 bytes"},
		{"same", "correct horse battery", "correct horse battery", 400, "invalid", "password", "The new password is the same as the current one."},
	} {
		t.Run(c.name, func(t *testing.T) {
			form := url.Values{"current": {c.current}, "password": {c.password}}
			r := b.post("/account/password", form, true)
			if e := decodeError(t, r); r.Status != c.status || e.Code != c.code || e.Field != c.field || !strings.HasPrefix(e.Message, c.words) {
				t.Fatalf("JSON: %d %+v; want %d %s %s %q", r.Status, e, c.status, c.code, c.field, c.words)
			}
			r = b.post("/account/password", form, false)
			if r.Status != c.status {
				t.Fatalf("browser: %d", r.Status)
			}
			hasAll(t, r, `<p id="`+c.field+`-error" class="field-error" role="alert">`+c.words, `aria-describedby="`+c.field+`-error`)
			if strings.Contains(r.Body, `id="password-done"`) {
				t.Fatal("password-done after a refusal")
			}
		})
	}
	if b.me() != http.StatusOK {
		t.Fatal("the session ended")
	}
	as.browser().mustSignin("ada", "correct horse battery")
}

// A password change ends every other session (cookies and open
// WebSockets) and keeps this browser signed in at the new version; the
// new password works and the old one does not.
func TestPasswordChange(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	ada := as.user("ada", "correct horse battery", store.RoleUser)
	here, other := as.browser(), as.browser()
	here.mustSignin("ada", "correct horse battery")
	other.mustSignin("ada", "correct horse battery")
	old := here.cookieHeader()
	ws := as.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+other.cookieHeader())
	if !strings.Contains(ws.ReadText(), `"type":"hello"`) {
		t.Fatal("no hello")
	}

	r := here.post("/account/password", url.Values{"current": {"correct horse battery"}, "password": {"a new long password"}}, false)
	if r.Status != http.StatusOK {
		t.Fatalf("change: %d\n%s", r.Status, r.Body)
	}
	hasAll(t, r, `<p id="password-done"`)
	if here.me() != http.StatusOK {
		t.Fatal("this browser was signed out")
	}
	if other.me() != http.StatusUnauthorized {
		t.Fatal("the other browser is still signed in")
	}
	if r := as.browser().client.Get("/api/me", "Cookie: "+old); r.Status != http.StatusUnauthorized {
		t.Fatalf("this browser's old cookie: %d", r.Status)
	}
	ws.Send(`{"type":"send","body":"still here?","key":"k"}`)
	if code, _ := ws.WaitClosed(); code != rooms.CloseSessionEnded {
		t.Fatalf("the WebSocket closed with %d, want %d", code, rooms.CloseSessionEnded)
	}
	if r := as.browser().signin("ada", "correct horse battery", true); r.Status != http.StatusUnauthorized {
		t.Fatalf("the old password: %d", r.Status)
	}
	as.browser().mustSignin("ada", "a new long password")

	// As a program: 200 and the user; the session version went up again.
	r = here.post("/account/password", url.Values{"current": {"a new long password"}, "password": {"a third long password"}}, true)
	if u := decodeUser(t, r); r.Status != http.StatusOK || u.ID != ada.ID {
		t.Fatalf("JSON change: %d %s", r.Status, r.Body)
	}
	if here.me() != http.StatusOK {
		t.Fatal("signed out by the second change")
	}
}
