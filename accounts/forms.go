package accounts

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/views"
)

// refusal is a form refused for a reason the user can act on: the status,
// the protocol's error code, the words to show, the field they belong
// beside ("" for the whole form), and how long to wait before trying
// again (zero: no Retry-After).
type refusal struct {
	status     int
	code       string
	message    string
	field      string
	retryAfter time.Duration
}

// throttled is the refusal of a throttled attempt; what names what was
// attempted too often ("failed sign-ins").
func throttled(what string, wait time.Duration, field string) *refusal {
	return &refusal{status: http.StatusTooManyRequests, code: "throttled", field: field, retryAfter: wait,
		message: fmt.Sprintf("Too many %s: wait %d s.", what, ceilSeconds(wait))}
}

// busy is the refusal of work an executor had no room for.
func busy(field string) *refusal {
	return &refusal{status: http.StatusServiceUnavailable, code: "busy", field: field, retryAfter: time.Second,
		message: "The server is busy; try again in a moment."}
}

// refusalFor turns an executor's or the store's error into a refusal
// when it is one the client should retry (a full queue), else nil: the
// error is then the request's, answered by Fail.
func refusalFor(err error, field string) *refusal {
	if errors.Is(err, ioloop.ErrQueueFull) {
		return busy(field)
	}
	return nil
}

// ceilSeconds is d in whole seconds, rounded up, at least 1.
func ceilSeconds(d time.Duration) int {
	return max(1, int((d+time.Second-1)/time.Second))
}

// setRetryAfter sets the Retry-After header of a refusal that has a wait.
func setRetryAfter(c *web.Context, r *refusal) {
	if r.retryAfter > 0 {
		c.SetHeader("Retry-After", strconv.Itoa(ceilSeconds(r.retryAfter)))
	}
}

// writeRefusalJSON answers r as the protocol's error object (the same
// fields the rooms API answers with), plus "field" when the refusal is
// about one field and "fields" with every field's words when several are
// wrong.
func writeRefusalJSON(c *web.Context, r *refusal, fields map[string]string) {
	setRetryAfter(c, r)
	c.SetStatus(r.status)
	body := map[string]any{"type": "error", "code": r.code, "message": r.message, "error": r.message}
	if r.field != "" {
		body["field"] = r.field
	}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	if r.retryAfter > 0 {
		body["retry_after"] = ceilSeconds(r.retryAfter)
	}
	c.WriteJSON(body)
	c.Finish()
}

// answerUser answers a successful sign-in, sign-up or password change:
// status and {"user":...} for programs, a redirect to next for browsers.
func answerUser(c *web.Context, u *User, status int, next string) {
	if wantsJSON(c) {
		c.SetStatus(status)
		c.WriteJSON(map[string]any{"user": u.Wire()})
		c.Finish()
		return
	}
	c.Redirect(next, http.StatusSeeOther)
}

// page is the shell of a page of this package: Config.Layout's, with
// Kind set for the script when the layout left it empty.
func (s *Sessions) page(c *web.Context, title, kind string) views.Page {
	page := views.Page{Title: title}
	if s.cfg.Layout != nil {
		page = s.cfg.Layout(c, title)
	}
	if page.Kind == "" {
		page.Kind = kind
	}
	return page
}

// nextURL is the request's next argument when it is a same-site path,
// else "/" (web.SafeNextURL: no open redirect).
func nextURL(c *web.Context) string { return web.SafeNextURL(c.GetArgument("next", ""), "/") }

// withNext is path with ?next= when next is not the default "/".
func withNext(path, next string) string {
	if next == "/" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

// clientAddr is the address the throttles count by: the peer's, or the
// proxy's forwarded one when the server trusts X-Real-IP and
// X-Forwarded-For (httpserver's XHeaders).
func clientAddr(c *web.Context) string { return c.Request().RemoteIP }

// now is the sessions' clock (Config.Now).
func (s *Sessions) now() time.Time { return s.cfg.Now() }

// timeLeft says how long d is in the largest unit that reads well.
func timeLeft(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return plural(int(d/(24*time.Hour)), "day")
	case d >= 2*time.Hour:
		return plural(int(d/time.Hour), "hour")
	case d >= 2*time.Minute:
		return plural(int(d/time.Minute), "minute")
	default:
		return plural(ceilSeconds(d), "second")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// bannedRefusal refuses a banned user's sign-in with the ban's reason and
// the time left (none for a ban for good).
func bannedRefusal(u *User, now time.Time) *refusal {
	r := &refusal{status: http.StatusForbidden, code: "banned", message: "You are banned: " + reasonOr(u.BanReason) + "."}
	if u.BannedUntil.Year() < 9000 {
		r.retryAfter = u.BannedUntil.Sub(now)
		r.message += " Time left: " + timeLeft(r.retryAfter) + "."
	} else {
		r.message += " The ban has no end."
	}
	return r
}

func reasonOr(reason string) string {
	if reason == "" {
		return "no reason given"
	}
	return reason
}
