package accounts

import (
	"net/http"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// accountHandler serves GET /account, a registered user's page: the
// password form and sign out everywhere. Without a session a browser is
// sent to /signin?next=/account (a program gets 401); a guest, who has no
// password, gets 403.
type accountHandler struct{ s *Sessions }

func (h *accountHandler) Get(c *web.Context) {
	c.Go(func(co *ioloop.Co) error {
		u, err := ioloop.Await(co, h.s.Load(c))
		if err != nil || !registered(c, u) {
			return err
		}
		renderAccount(c, h.s, u, accountForm{})
		return nil
	})
}

// registered reports whether u is a signed-in registered user; if not,
// it has answered (see accountHandler).
func registered(c *web.Context, u *User) bool {
	switch {
	case u == nil && c.Request().Method == http.MethodGet && !wantsJSON(c):
		c.Redirect(withNext("/signin", c.Request().Target), http.StatusFound)
	case u == nil:
		c.Fail(&web.HTTPError{Status: http.StatusUnauthorized, Message: "not signed in"})
	case u.Guest:
		c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: "Guests have no account or password: sign up to have one."})
	default:
		c.SetCurrentUser(u)
		return true
	}
	return false
}

// accountForm is what the password form shows after a POST.
type accountForm struct {
	currentError, passwordError string
	done                        bool
}

func renderAccount(c *web.Context, s *Sessions, u *User, f accountForm) {
	c.Render(views.Account(views.AccountData{Page: s.page(c, "Your account", "account"), Name: u.Name,
		CurrentError: f.currentError, PasswordError: f.passwordError, Done: f.done, XSRFForm: c.XSRFFormHTML()}))
}

// passwordHandler serves POST /account/password (fields current and
// password): it checks the current password (throttled like a sign-in,
// by the user's name and the client's address), hashes the new one, and
// stores it with store.SetPassword, which raises the session version:
// every other session of the user ends. This browser is signed in again
// at the new version. Success renders the account page with
// p#password-done (200 {"user":...} for JSON).
type passwordHandler struct{ s *Sessions }

func (h *passwordHandler) Post(c *web.Context) {
	s := h.s
	current := c.GetArgument("current", "")
	password := c.GetArgument("password", "")
	c.Go(func(co *ioloop.Co) error {
		u, err := ioloop.Await(co, s.Load(c))
		if err != nil || !registered(c, u) {
			return err
		}
		refuse := func(r *refusal) error {
			if wantsJSON(c) {
				writeRefusalJSON(c, r, map[string]string{r.field: r.message})
				return nil
			}
			setRetryAfter(c, r)
			c.SetStatus(r.status)
			f := accountForm{currentError: r.message}
			if r.field == "password" {
				f = accountForm{passwordError: r.message}
			}
			renderAccount(c, s, u, f)
			return nil
		}
		switch {
		case current == "":
			return refuse(&refusal{status: http.StatusBadRequest, code: "invalid", field: "current",
				message: "Enter your current password."})
		case PasswordProblem(u.Name, password) != "":
			return refuse(&refusal{status: http.StatusBadRequest, code: "invalid", field: "password",
				message: PasswordProblem(u.Name, password)})
		case password == current:
			return refuse(&refusal{status: http.StatusBadRequest, code: "invalid", field: "password",
				message: "The new password is the same as the current one."})
		case s.cfg.Passwords == nil:
			return errNoPasswordExecutor
		}
		att, wait := s.signins.begin(u.Name, clientAddr(c), s.now())
		if att == nil {
			return refuse(throttled("failed sign-ins", wait, "current"))
		}
		defer func() { att.failed(s.now()) }()
		st, id := s.cfg.Store, u.ID
		su, err := ioloop.Await(co, ioloop.RunInExecutor(s.cfg.Executor, func() (store.User, error) {
			return st.UserByID(ctxBackground, id)
		}))
		var ok bool
		if err == nil {
			ok, err = ioloop.Await(co, s.checkPassword(passwordHash(su), current))
		}
		if err != nil {
			att.abandoned()
			if r := refusalFor(err, "current"); r != nil {
				return refuse(r)
			}
			return err
		}
		if !ok {
			att.failed(s.now())
			return refuse(&refusal{status: http.StatusForbidden, code: "wrong_password", field: "current",
				message: "That is not your current password."})
		}
		att.succeeded()
		hash, err := ioloop.Await(co, s.hashPassword(password))
		if err == nil {
			_, err = ioloop.Await(co, ioloop.RunInExecutor(s.cfg.Executor, func() (int64, error) {
				return st.SetPassword(ctxBackground, id, hash)
			}))
		}
		if err != nil {
			if r := refusalFor(err, "password"); r != nil {
				return refuse(r)
			}
			return err
		}
		// The cached user (shared by this user's open connections) takes
		// the new session version, which ends those connections at their
		// next frame; this browser gets a cookie at that version.
		fresh, err := ioloop.Await(co, s.Refresh(id))
		if err == nil && fresh == nil {
			fresh, err = ioloop.Await(co, s.user(id))
		}
		if err != nil {
			return err
		}
		if fresh == nil {
			return &web.HTTPError{Status: http.StatusUnauthorized, Message: "the account no longer exists"}
		}
		if err := s.SignIn(c, fresh); err != nil {
			return err
		}
		if wantsJSON(c) {
			c.WriteJSON(map[string]any{"user": fresh.Wire()})
			c.Finish()
			return nil
		}
		renderAccount(c, s, fresh, accountForm{done: true})
		return nil
	})
}
