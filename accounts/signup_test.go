package accounts_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// The sign-up page: the form the e2e tests drive.
func TestSignupForm(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	b := as.browser()
	r := b.client.Get("/signup?next=/rooms/lobby")
	if r.Status != http.StatusOK || b.cookie("_xsrf") == "" {
		t.Fatalf("GET /signup: %d, _xsrf %q", r.Status, b.cookie("_xsrf"))
	}
	hasAll(t, r, `<form id="signup-form" method="post" action="/signup"`, `name="_xsrf"`, `id="name" name="name"`,
		`autocomplete="username"`, `id="password" name="password" type="password"`, `autocomplete="new-password"`,
		`name="next" value="/rooms/lobby"`, `id="signup-submit"`, `href="/signin?next=%2Frooms%2Flobby"`,
		`<label for="name">`, `<label for="password">`)
}

// Sign-up's rules, each refused beside its field: 400 invalid (409
// name_taken for a name taken in any letter case), as JSON for programs
// and as the form again for browsers; nobody is created or signed in.
func TestSignupValidation(t *testing.T) {
	as := startAccounts(t, accountsOptions{allowGuests: true})
	as.user("Grace", "grace's password", store.RoleUser)
	as.browser().guest("visitor")
	for _, c := range []struct {
		name, user, password string
		status               int
		code                 string
		field                string // the field JSON names
		nameErr, passwordErr string // the words beside each field ("" none)
	}{
		{"short password", "ada", "short", 400, "invalid", "password", "", "A password has at least 10 characters."},
		{"nine characters", "ada", "123456789", 400, "invalid", "password", "", "A password has at least 10 characters."},
		{"nine accented letters (18 bytes)", "ada", "ééééééééé", 400, "invalid", "password", "", "A password has at least 10 characters."},
		{"password past 72 bytes", "ada", strings.Repeat("x", 73), 400, "invalid", "password", "", "A password has at most 72 bytes"},
		{"37 accented letters (74 bytes)", "ada", strings.Repeat("é", 37), 400, "invalid", "password", "", "A password has at most 72 bytes"},
		{"password is the name", "Alexandrina", "aLEXANDRINA", 400, "invalid", "password", "", "Your password cannot be your name."},
		{"bad name", "a b", "a long enough password", 400, "invalid", "name", `A name is 1 to 32 letters, digits, "_", "-" or ".".`, ""},
		{"name past 32", strings.Repeat("n", 33), "a long enough password", 400, "invalid", "name", "A name is 1 to 32", ""},
		{"no name", "", "a long enough password", 400, "invalid", "name", "A name is 1 to 32", ""},
		{"both wrong", "<b>x</b>", "short", 400, "invalid", "name", "A name is 1 to 32", "A password has at least 10"},
		{"name taken in another case", "grace", "a long enough password", 409, "name_taken", "name", "That name is taken.", ""},
		{"a guest's name", "VISITOR", "a long enough password", 409, "name_taken", "name", "That name is taken.", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := as.browser()
			form := url.Values{"name": {c.user}, "password": {c.password}}
			r := b.post("/signup", form, true)
			e := decodeError(t, r)
			if r.Status != c.status || e.Code != c.code || e.Field != c.field || e.Error == "" {
				t.Fatalf("JSON: %d %+v, want %d %q field %q", r.Status, e, c.status, c.code, c.field)
			}
			if !strings.HasPrefix(e.Fields["name"], c.nameErr) || !strings.HasPrefix(e.Fields["password"], c.passwordErr) ||
				(c.nameErr == "") != (e.Fields["name"] == "") || (c.passwordErr == "") != (e.Fields["password"] == "") {
				t.Fatalf("JSON fields %q, want name %q password %q", e.Fields, c.nameErr, c.passwordErr)
			}
			r = b.post("/signup", form, false)
			if r.Status != c.status {
				t.Fatalf("browser: %d, want %d", r.Status, c.status)
			}
			for field, words := range map[string]string{"name": c.nameErr, "password": c.passwordErr} {
				tag := `<p id="` + field + `-error" class="field-error" role="alert">`
				if words == "" {
					if strings.Contains(r.Body, tag) {
						t.Fatalf("an error beside %s:\n%s", field, r.Body)
					}
					continue
				}
				hasAll(t, r, tag+words, `aria-describedby="`+field+`-error `+field+`-hint"`)
			}
			if strings.Contains(r.Body, "<b>x</b>") || strings.Contains(r.Body, c.password+`"`) && c.password != "" {
				t.Fatalf("the page shows the name unescaped or the password:\n%s", r.Body)
			}
			if b.cookie(accounts.CookieName) != "" {
				t.Fatal("signed in after a refused sign-up")
			}
		})
	}
	if users, err := as.store.ListUsers(context.Background(), 0, 100); err != nil || len(users) != 3 {
		t.Fatalf("users after refused sign-ups: %d %v, want owner, Grace and the guest", len(users), err)
	}
}

// A sign-up creates a registered user with a bcrypt hash at the
// configured cost and signs in: 201 for programs, 303 to next for
// browsers. The password works at /signin afterwards.
func TestSignup(t *testing.T) {
	as := startAccounts(t, accountsOptions{})
	b := as.browser()
	r := b.post("/signup", url.Values{"name": {"Ada"}, "password": {"correct horse battery"}}, true)
	if r.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", r.Status, r.Body)
	}
	if u := decodeUser(t, r); u.Name != "Ada" || u.Guest || u.Role != "user" {
		t.Fatalf("signed up as %+v", u)
	}
	if b.me() != http.StatusOK {
		t.Fatal("not signed in after sign-up")
	}
	su, err := as.store.UserByName(context.Background(), "ada")
	if err != nil {
		t.Fatal(err)
	}
	if cost, err := bcrypt.Cost(su.PasswordHash); err != nil || cost != bcrypt.MinCost || su.Guest {
		t.Fatalf("stored %+v: cost %d %v", su, cost, err)
	}
	as.browser().mustSignin("ada", "correct horse battery")

	r = as.browser().post("/signup", url.Values{"name": {"grace"}, "password": {"a long enough password"},
		"next": {"/rooms/lobby"}}, false)
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/rooms/lobby" {
		t.Fatalf("browser sign-up: %d Location %q", r.Status, r.Header.Get("Location"))
	}
}

// Config.NewUsersPerMinute bounds the guests and sign-ups one address
// makes a minute: then 429 throttled with Retry-After; a refused attempt
// (a taken name) does not use up a turn.
func TestNewUsersPerAddress(t *testing.T) {
	as := startAccounts(t, accountsOptions{allowGuests: true, newUsers: 3})
	as.browser().guest("g1")
	if r := as.browser().post("/guest", url.Values{"name": {"G1"}}, true); r.Status != http.StatusConflict {
		t.Fatalf("a taken name: %d", r.Status)
	}
	as.browser().guest("g2")
	if r := as.browser().post("/signup", url.Values{"name": {"ada"}, "password": {"a long enough password"}}, true); r.Status != http.StatusCreated {
		t.Fatalf("sign up: %d %s", r.Status, r.Body)
	}
	b := as.browser()
	for _, try := range []struct {
		path string
		form url.Values
	}{
		{"/guest", url.Values{"name": {"g3"}}},
		{"/signup", url.Values{"name": {"grace"}, "password": {"a long enough password"}}},
	} {
		r := b.post(try.path, try.form, true)
		if e := decodeError(t, r); r.Status != http.StatusTooManyRequests || e.Code != "throttled" ||
			r.Header.Get("Retry-After") != "60" || e.RetryAfter != 60 {
			t.Fatalf("%s: %d %s Retry-After %q", try.path, r.Status, r.Body, r.Header.Get("Retry-After"))
		}
		if page := b.post(try.path, try.form, false); page.Status != http.StatusTooManyRequests ||
			!strings.Contains(page.Body, "wait 60 s.") {
			t.Fatalf("%s browser: %d\n%s", try.path, page.Status, page.Body)
		}
	}
	as.clock.Advance(time.Minute)
	as.browser().guest("g3")
}

// A full password executor refuses at once with 503 busy and Retry-After,
// for sign-in and sign-up alike, and the refused sign-in does not count
// against the name.
func TestPasswordsBusy(t *testing.T) {
	as := startAccounts(t, accountsOptions{passwords: func(l *ioloop.Loop) *ioloop.Executor {
		return l.NewExecutor("passwords", 1, 1)
	}})
	as.user("ada", "correct horse battery", store.RoleUser)
	release := make(chan struct{})
	block := func() *concurrent.Future[struct{}] {
		return ioloop.RunInExecutor(as.passwords, func() (struct{}, error) { <-release; return struct{}{}, nil })
	}
	asynctest.Do(t, as.Loop, func() { block() })
	as.WaitFor(func() bool { return as.passwords.Stats().BusyWorkers == 1 }, "the worker held")
	asynctest.Do(t, as.Loop, func() { block() })
	as.WaitFor(func() bool { return as.passwords.Stats().QueueDepth == 1 }, "the queue full")

	b := as.browser()
	for range 6 { // more than the failures a name may have
		r := b.signin("ada", "correct horse battery", true)
		if e := decodeError(t, r); r.Status != http.StatusServiceUnavailable || e.Code != "busy" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("sign in: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
		}
	}
	r := b.post("/signup", url.Values{"name": {"grace"}, "password": {"a long enough password"}}, true)
	if e := decodeError(t, r); r.Status != http.StatusServiceUnavailable || e.Code != "busy" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sign up: %d %s", r.Status, r.Body)
	}
	if page := b.signin("ada", "correct horse battery", false); page.Status != http.StatusServiceUnavailable ||
		!strings.Contains(page.Body, `id="signin-error"`) {
		t.Fatalf("browser: %d\n%s", page.Status, page.Body)
	}
	close(release)
	b.mustSignin("ada", "correct horse battery")
	if _, err := as.store.UserByName(context.Background(), "grace"); err == nil {
		t.Fatal("grace was created while busy")
	}
}

// PasswordProblem's rules and HashPassword, which cmd/chat uses for the
// first admin.
func TestHashPassword(t *testing.T) {
	for _, c := range []struct {
		name, password string
		ok             bool
	}{
		{"ada", "0123456789", true},
		{"ada", "012345678", false},
		{"ada", strings.Repeat("x", 72), true},
		{"ada", strings.Repeat("x", 73), false},
		{"administrator", "ADMINISTRATOR", false},
		{"administrator", "administrator!", true},
		{"", "0123456789", true},
	} {
		t.Run(fmt.Sprintf("%s %d", c.name, len(c.password)), func(t *testing.T) {
			hash, err := accounts.HashPassword(c.name, c.password, bcrypt.MinCost)
			if (err == nil) != c.ok || (accounts.PasswordProblem(c.name, c.password) == "") != c.ok {
				t.Fatalf("HashPassword: %v; want ok %v", err, c.ok)
			}
			if c.ok && bcrypt.CompareHashAndPassword(hash, []byte(c.password)) != nil {
				t.Fatal("the hash does not match")
			}
		})
	}
}
