package pages

import (
	"errors"
	"net/http"
	"net/url"

	"chat/accounts"
	"chat/framework/web"
	"chat/rooms"
	"chat/views"
)

// TimelineSize is how many of a room's latest events its page renders.
const TimelineSize = 50

// Config configures the pages. Both fields are required.
type Config struct {
	Engine   *rooms.Engine
	Sessions *accounts.Sessions
}

// Pages serves the room list and the room pages. Loop-owned.
type Pages struct {
	cfg Config
}

// New returns the pages of cfg.
func New(cfg Config) *Pages { return &Pages{cfg: cfg} }

// Routes are the pages' routes: the room list, the create-a-room form's
// target, and a room's page.
func (p *Pages) Routes() []web.Spec {
	return []web.Spec{
		{Name: "room-list", Pattern: "/", New: func() web.Handler { return roomListHandler{p} }},
		{Name: "room-create", Pattern: "/rooms", New: func() web.Handler { return roomListHandler{p} }},
		{Name: "room-page", Pattern: "/rooms/{room}", New: func() web.Handler { return roomPageHandler{p} }},
	}
}

// Layout fills in the shell every page shares: the versioned stylesheet,
// script and icon, who is signed in (u, nil: nobody) and the sign-out form's
// XSRF field.
func Layout(c *web.Context, title, kind string, u *accounts.User) views.Page {
	css, _ := c.App().StaticURL("css/app.css")
	js, _ := c.App().StaticURL("js/app.js")
	icon, _ := c.App().StaticURL("img/icon.svg")
	page := views.Page{Title: title, Stylesheet: css, Script: js, Icon: icon, Kind: kind}
	if u != nil {
		page.User = pageUser(u)
		page.XSRFForm = c.XSRFFormHTML()
	}
	return page
}

func pageUser(u *accounts.User) *views.PageUser {
	return &views.PageUser{ID: u.ID, Name: u.Name, Guest: u.Guest, Role: string(u.Role)}
}

// withUser loads the request's user and calls fn with it (nil: signed out).
func (p *Pages) withUser(c *web.Context, fn func(u *accounts.User)) {
	c.Async()
	web.Guard(c, p.cfg.Sessions.Load(c)).OnResult(func(u *accounts.User, err error) {
		if err != nil {
			c.Fail(err)
			return
		}
		fn(u)
	})
}

// signInFirst sends a signed-out reader to the sign-in page, coming back
// here afterwards (Tornado's @authenticated).
func signInFirst(c *web.Context) {
	c.Redirect("/signin?next="+url.QueryEscape(c.Request().Path), http.StatusFound)
}

// failPage answers a refusal of the engine (an unknown room: 404) with its
// status and message on the error page, anything else as a server error.
func failPage(c *web.Context, err error) {
	var r *rooms.Refusal
	if errors.As(err, &r) {
		c.Fail(&web.HTTPError{Status: r.Status, Message: r.Message})
		return
	}
	c.Fail(err)
}
