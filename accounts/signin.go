package accounts

import (
	"errors"
	"net/http"
	"strings"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// wrongCredentials is the one answer to a wrong password, an unknown name
// and a guest's name alike, so the answer does not tell which names
// exist.
var wrongCredentials = refusal{status: http.StatusUnauthorized, code: "bad_credentials",
	message: "Wrong name or password."}

// signinHandler serves /signin: GET shows the form, POST checks the name
// and password and sets the session cookie. The handler runs on the loop;
// the user is read on Config.Executor and the password compared on
// Config.Passwords, in a coroutine (web.Context.Go).
type signinHandler struct{ s *Sessions }

func (h *signinHandler) Get(c *web.Context) {
	h.render(c, "", nextURL(c), nil)
}

func (h *signinHandler) Post(c *web.Context) {
	s := h.s
	name := strings.TrimSpace(c.GetArgument("name", ""))
	password := c.GetArgument("password", "")
	next := nextURL(c)
	if name == "" || password == "" {
		h.render(c, name, next, &refusal{status: http.StatusBadRequest, code: "invalid",
			message: "Enter your name and your password."})
		return
	}
	if r := s.addressRefusal(c); r != nil {
		h.render(c, name, next, r)
		return
	}
	if s.cfg.Passwords == nil {
		c.Fail(errNoPasswordExecutor)
		return
	}
	att, wait := s.signins.begin(name, clientAddr(c), s.now())
	if att == nil {
		h.render(c, name, next, throttled("failed sign-ins", wait, ""))
		return
	}
	c.Go(func(co *ioloop.Co) error {
		// Whatever ends the coroutine before an outcome was recorded (the
		// client left) counts as a failure: a no-op after one.
		defer func() { att.failed(s.now()) }()
		su, err := ioloop.Await(co, s.userByName(name))
		if err == nil {
			var ok bool
			ok, err = ioloop.Await(co, s.checkPassword(passwordHash(su), password))
			if err == nil && !ok {
				att.failed(s.now())
				r := wrongCredentials
				h.render(c, name, next, &r)
				return nil
			}
		}
		if err != nil {
			att.abandoned()
			if r := refusalFor(err, ""); r != nil {
				h.render(c, name, next, r)
				return nil
			}
			return err
		}
		att.succeeded()
		u := s.remember(su)
		if now := s.now(); u.BannedAt(now) {
			h.render(c, name, next, bannedRefusal(u, now))
			return nil
		}
		if err := s.SignIn(c, u); err != nil {
			return err
		}
		answerUser(c, u, http.StatusOK, next)
		return nil
	})
}

// addressRefusal is the refusal of a request from a banned client address
// (Config.AddressBanned), nil for any other.
func (s *Sessions) addressRefusal(c *web.Context) *refusal {
	if s.cfg.AddressBanned == nil {
		return nil
	}
	reason, until, banned := s.cfg.AddressBanned(clientAddr(c))
	if !banned {
		return nil
	}
	r := &refusal{status: http.StatusForbidden, code: "banned", message: "Your address is banned: " + reasonOr(reason) + "."}
	if until.Year() < 9000 {
		r.retryAfter = until.Sub(s.now())
		r.message += " Time left: " + timeLeft(r.retryAfter) + "."
	} else {
		r.message += " The ban has no end."
	}
	return r
}

// passwordHash is the hash to compare a sign-in with: none for a guest
// (nor for a name nobody has: su is then the zero User), which makes the
// check compare with the dummy hash and fail.
func passwordHash(su store.User) []byte {
	if su.Guest || su.ID == 0 {
		return nil
	}
	return su.PasswordHash
}

// userByName reads the user called name (in any letter case) on the
// store executor; a name nobody has, or one that cannot be a name,
// resolves to the zero User so that it is checked like any other.
// Loop-only.
func (s *Sessions) userByName(name string) *concurrent.Future[store.User] {
	if !ValidNickname(name) {
		return concurrent.Resolved(store.User{})
	}
	st := s.cfg.Store
	return ioloop.RunInExecutor(s.cfg.Executor, func() (store.User, error) {
		u, err := st.UserByName(ctxBackground, name)
		if errors.Is(err, store.ErrNotFound) {
			return store.User{}, nil
		}
		return u, err
	})
}

// render answers with the form (and r's words in p#signin-error), or
// with the protocol's error object for a client asking for JSON.
func (h *signinHandler) render(c *web.Context, name, next string, r *refusal) {
	status := http.StatusOK
	errText := ""
	if r != nil {
		if wantsJSON(c) {
			writeRefusalJSON(c, r, nil)
			return
		}
		setRetryAfter(c, r)
		status, errText = r.status, r.message
	}
	d := views.SigninData{Page: h.s.page(c, "Sign in", "signin"), Name: name, Error: errText, Next: next,
		XSRFForm: c.XSRFFormHTML(), SignupURL: withNext("/signup", next)}
	if h.s.cfg.AllowGuests {
		d.GuestURL = withNext("/guest", next)
	}
	c.SetStatus(status)
	c.Render(views.Signin(d))
}

// signoutHandler serves POST /signout: it clears the session cookie and
// redirects to next (204 for a client asking for JSON). With everywhere=1
// it first raises the user's session version in the store and refreshes
// the cached user, so every other cookie of that user (other browsers,
// open WebSockets and streams at their next frame) stops being accepted.
type signoutHandler struct{ s *Sessions }

func (h *signoutHandler) Post(c *web.Context) {
	s := h.s
	next := nextURL(c)
	if c.GetArgument("everywhere", "") != "1" {
		h.done(c, next)
		return
	}
	c.Go(func(co *ioloop.Co) error {
		u, err := ioloop.Await(co, s.Load(c))
		if err != nil {
			return err
		}
		if u != nil {
			st, id := s.cfg.Store, u.ID
			_, err = ioloop.Await(co, ioloop.RunInExecutor(s.cfg.Executor, func() (int64, error) {
				return st.BumpSessionVersion(ctxBackground, id)
			}))
			if err == nil {
				_, err = ioloop.Await(co, s.Refresh(id))
			}
			if err != nil {
				if r := refusalFor(err, ""); r != nil {
					// Nothing changed: the user is still signed in.
					if wantsJSON(c) {
						writeRefusalJSON(c, r, nil)
						return nil
					}
					setRetryAfter(c, r)
					return &web.HTTPError{Status: r.status, Message: r.message}
				}
				return err
			}
		}
		h.done(c, next)
		return nil
	})
}

func (h *signoutHandler) done(c *web.Context, next string) {
	c.ClearCookie(CookieName)
	c.SetCurrentUser(nil)
	if wantsJSON(c) {
		c.SetStatus(http.StatusNoContent)
		c.Finish()
		return
	}
	c.Redirect(next, http.StatusSeeOther)
}
