package admin

import (
	"fmt"
	"net/http"
	"net/url"

	"chat/accounts"
	"chat/framework/web"
	"chat/store"
)

// withStaff loads the request's user and calls fn when it is a moderator
// or an administrator. A signed-out browser is sent to the sign-in page
// with next (a program asking for JSON gets 401); anyone else gets 403.
func (a *Admin) withStaff(c *web.Context, fn func(u *accounts.User)) {
	c.Async()
	web.Guard(c, a.cfg.Sessions.Load(c)).OnResult(func(u *accounts.User, err error) {
		switch {
		case err != nil:
			c.Fail(err)
		case u == nil && c.Request().Method == http.MethodGet && !wantsJSON(c):
			c.Redirect("/signin?next="+url.QueryEscape(c.Request().Target), http.StatusFound)
		case u == nil:
			c.Fail(&web.HTTPError{Status: http.StatusUnauthorized, Message: "Sign in first."})
		case !u.Moderator():
			c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: "The dashboard is for moderators and administrators."})
		default:
			fn(u)
		}
	})
}

// withAdmin is withStaff for what only administrators may do (roles).
func (a *Admin) withAdmin(c *web.Context, fn func(u *accounts.User)) {
	a.withStaff(c, func(u *accounts.User) {
		if u.Role != store.RoleAdmin {
			c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: "Only administrators may do that."})
			return
		}
		fn(u)
	})
}

func wantsJSON(c *web.Context) bool {
	return c.Request().Header.Get("Accept") == "application/json"
}

// canActOn says why actor may not moderate target, or nil when it may:
// nobody acts on themselves, and a moderator acts only on plain users
// (not on an administrator, nor on another moderator). The rule about the
// last administrator is checked where roles and bans are changed, since
// it needs a count from the store.
func canActOn(actor *accounts.User, target store.User) error {
	switch {
	case actor.ID == target.ID:
		return refusal(http.StatusForbidden, "You cannot do that to yourself.")
	case actor.Role == store.RoleModerator && target.Role != store.RoleUser:
		return refusal(http.StatusForbidden, fmt.Sprintf("A moderator cannot act on %s, who is %s.", target.Name, article(target.Role)))
	}
	return nil
}

func article(r store.Role) string {
	if r == store.RoleAdmin {
		return "an administrator"
	}
	return "a " + string(r)
}

// refusal is an action refused with a status and words for the person.
func refusal(status int, message string) *web.HTTPError {
	return &web.HTTPError{Status: status, Message: message}
}
