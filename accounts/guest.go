package accounts

import (
	"errors"
	"net/http"
	"strings"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// Routes are the account routes this package serves: sign-in, sign-up
// and sign-out, the guest form, the account page and its password change,
// and /api/me (docs/protocol.md, "Sessions and XSRF").
func (s *Sessions) Routes() []web.Spec {
	return []web.Spec{
		{Name: "signin", Pattern: "/signin", New: func() web.Handler { return &signinHandler{s: s} }},
		{Name: "signup", Pattern: "/signup", New: func() web.Handler { return &signupHandler{s: s} }},
		{Name: "signout", Pattern: "/signout", New: func() web.Handler { return &signoutHandler{s: s} }},
		{Name: "account", Pattern: "/account", New: func() web.Handler { return &accountHandler{s: s} }},
		{Name: "account-password", Pattern: "/account/password", New: func() web.Handler { return &passwordHandler{s: s} }},
		{Name: "guest", Pattern: "/guest", New: func() web.Handler { return &guestHandler{s: s} }},
		{Name: "me", Pattern: "/api/me", New: func() web.Handler { return &meHandler{s: s} },
			RouteSettings: web.RouteSettings{API: true}},
	}
}

// guestHandler serves /guest: GET shows the form, POST signs in a new
// guest. A client asking for JSON (Accept: application/json) gets 201 and
// the user instead of a redirect, and errors as JSON.
type guestHandler struct{ s *Sessions }

func (h *guestHandler) Get(c *web.Context) {
	if !h.s.cfg.AllowGuests {
		c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: "guest sign-in is switched off on this server"})
		return
	}
	h.render(c, "", "", web.SafeNextURL(c.GetArgument("next", ""), "/"), http.StatusOK)
}

func (h *guestHandler) Post(c *web.Context) {
	if !h.s.cfg.AllowGuests {
		h.refuse(c, http.StatusForbidden, "forbidden", "guest sign-in is switched off on this server", "")
		return
	}
	name := strings.TrimSpace(c.GetArgument("name", ""))
	next := web.SafeNextURL(c.GetArgument("next", ""), "/")
	if r := h.s.addressRefusal(c); r != nil {
		if wantsJSON(c) {
			writeRefusalJSON(c, r, nil)
			return
		}
		setRetryAfter(c, r)
		h.refuse(c, r.status, r.code, r.message, name)
		return
	}
	if !ValidNickname(name) {
		h.refuse(c, http.StatusBadRequest, "invalid", `A nickname is 1 to 32 letters, digits, "_", "-" or ".".`, name)
		return
	}
	// Each address may make Config.NewUsersPerMinute guests (and
	// sign-ups) a minute; an attempt that made nobody gives its turn back.
	addr := clientAddr(c)
	if wait := h.s.newUsers.take(addr, h.s.now()); wait > 0 {
		r := throttled("new guests from your address", wait, "name")
		if wantsJSON(c) {
			writeRefusalJSON(c, r, nil)
			return
		}
		setRetryAfter(c, r)
		h.refuse(c, r.status, r.code, r.message, name)
		return
	}
	st := h.s.cfg.Store
	c.Async()
	web.Guard(c, ioloop.RunInExecutor(h.s.cfg.Executor, func() (store.User, error) {
		return st.CreateGuest(ctxBackground, name)
	})).OnResult(func(su store.User, err error) {
		if err != nil {
			h.s.newUsers.refund(addr)
		}
		switch {
		case errors.Is(err, store.ErrNameTaken):
			h.refuse(c, http.StatusConflict, "name_taken", "That name is taken; pick another.", name)
		case errors.Is(err, ioloop.ErrQueueFull):
			c.SetHeader("Retry-After", "1")
			h.refuse(c, http.StatusServiceUnavailable, "busy", "The server is busy; try again in a moment.", name)
		case err != nil:
			c.Fail(err)
		default:
			h.signedIn(c, h.s.remember(su), next)
		}
	})
}

func (h *guestHandler) signedIn(c *web.Context, u *User, next string) {
	if err := h.s.SignIn(c, u); err != nil {
		c.Fail(err)
		return
	}
	if wantsJSON(c) {
		c.SetStatus(http.StatusCreated)
		c.WriteJSON(map[string]any{"user": u.Wire()})
		c.Finish()
		return
	}
	c.Redirect(next, http.StatusSeeOther)
}

// refuse answers a refused sign-in: JSON for programs, the form again
// with the error beside the field for browsers.
func (h *guestHandler) refuse(c *web.Context, status int, code, message, name string) {
	if wantsJSON(c) {
		c.SetStatus(status)
		// The protocol's error object (docs/protocol.md), as the rooms API
		// answers its refusals.
		c.WriteJSON(map[string]string{"type": "error", "code": code, "message": message, "error": message})
		c.Finish()
		return
	}
	h.render(c, name, message, web.SafeNextURL(c.GetArgument("next", ""), "/"), status)
}

func (h *guestHandler) render(c *web.Context, name, errText, next string, status int) {
	page := views.Page{Title: "Join as a guest"}
	if h.s.cfg.Layout != nil {
		page = h.s.cfg.Layout(c, "Join as a guest")
	}
	c.SetStatus(status)
	c.Render(views.Guest(views.GuestData{Page: page, Name: name, Error: errText, Next: next, XSRFForm: c.XSRFFormHTML()}))
}

// wantsJSON reports whether the client asked for JSON.
func wantsJSON(c *web.Context) bool {
	return strings.Contains(c.Request().Header.Get("Accept"), "application/json")
}

// meHandler serves GET /api/me: the session's user, or 401.
type meHandler struct{ s *Sessions }

func (h *meHandler) Get(c *web.Context) {
	EnsureXSRFCookie(c)
	h.s.Load(c).OnResult(func(u *User, err error) {
		switch {
		case err != nil:
			c.Fail(err)
		case u == nil:
			c.Fail(&web.HTTPError{Status: http.StatusUnauthorized, Message: "not signed in"})
		default:
			c.WriteJSON(map[string]any{"user": u.Wire()})
			c.Finish()
		}
	})
}
