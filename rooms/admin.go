package rooms

import (
	"errors"
	"net/http"
	"time"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// The engine's side of moderation: what the admin dashboard calls after it
// has stored a change to a user (admin/actions.go), and how a banned
// user's stale cookie is answered. Loop-only, like every Engine method.

// UserChanged applies a change to a user that the dashboard has just
// stored (a mute, an unmute, a ban, an unban, a role change): it reloads
// the cached user through accounts.Sessions.Refresh, so that the rules
// (a mute, a role) and SessionValid (a ban) see the change at once on
// every connection of the user, which share the cached *User; then, when
// the user is banned or their session version moved (a ban raises it),
// it ends every connection of the user on every door with close code 4001
// and the reason: code banned (with the time left) or session_ended on a
// long poll and a stream. Their cookie is then refused by its version
// (withSession answers it 403 banned while the ban lasts). The future
// resolves on the loop once that is done, or fails when the store cannot
// be read (nothing was closed then).
//
// A user nobody has cached has no WebSocket and no stream (those hold the
// cached user), but a parked long poll may keep a user the cache has
// since dropped: then the user is read from the store to judge it.
func (e *Engine) UserChanged(userID int64, reason string) *concurrent.Future[struct{}] {
	return concurrent.Then(e.cfg.Sessions.Refresh(userID), func(u *accounts.User) *concurrent.Future[struct{}] {
		if u != nil {
			e.endStaleSessions(userID, standing{u.BannedUntil, u.BanReason, u.SessionVersion}, reason)
			return concurrent.Resolved(struct{}{})
		}
		if !e.connected(userID) {
			return concurrent.Resolved(struct{}{})
		}
		st := e.cfg.Store
		return concurrent.Map(ioloop.RunInExecutor(e.cfg.Reads, func() (store.User, error) {
			return st.UserByID(ctxBackground, userID)
		}), func(su store.User) (struct{}, error) {
			e.endStaleSessions(userID, standing{su.BannedUntil, su.BanReason, su.SessionVersion}, reason)
			return struct{}{}, nil
		})
	})
}

// standing is what decides whether a user's connections may stay open.
type standing struct {
	bannedUntil time.Time
	banReason   string
	version     int64
}

// endStaleSessions ends the connections of userID that its standing no
// longer allows: all of them while it is banned, else those opened with
// an older session version.
func (e *Engine) endStaleSessions(userID int64, st standing, reason string) {
	now := e.now()
	var banned *Refusal
	if now.Before(st.bannedUntil) {
		why := reason
		if why == "" {
			why = st.banReason
		}
		banned = refuseUntil(http.StatusForbidden, "banned", st.bannedUntil, now, "You are banned: %s", reasonOr(why))
	}
	ended := refuse(http.StatusForbidden, "session_ended", "Your session ended; sign in again.")
	if reason != "" {
		ended.Message = "Your session ended: " + reason
	}
	for _, h := range e.hubs {
		h.eachConn(func(c conn) {
			switch {
			case c.owner().ID != userID:
			case banned != nil:
				c.closeWith(CloseSessionEnded, banned)
			case c.sessionVersion() != st.version:
				c.closeWith(CloseSessionEnded, ended)
			}
		})
	}
}

// connected reports whether userID has a connection on any door.
func (e *Engine) connected(userID int64) bool {
	found := false
	for _, h := range e.hubs {
		h.eachConn(func(c conn) { found = found || c.owner().ID == userID })
		if found {
			return true
		}
	}
	return false
}

// sessionRefusal is nil while the session a request or connection holds
// (its user, the version its cookie held) is good; else the refusal that
// says why not: banned, with the time left, or session_ended.
func (e *Engine) sessionRefusal(u *accounts.User, version int64) error {
	now := e.now()
	switch {
	case u.BannedAt(now):
		return refuseUntil(http.StatusForbidden, "banned", u.BannedUntil, now, "You are banned: %s", reasonOr(u.BanReason))
	case u.SessionVersion != version:
		return refuse(http.StatusForbidden, "session_ended", "Your session ended; sign in again.")
	}
	return nil
}

// errUnauthorized is the answer to a request without a valid session.
var errUnauthorized = refuse(http.StatusUnauthorized, "unauthorized", "Sign in first.")

// refuseWithoutSession answers a request whose session Load refused. A
// ban raises the user's session version, so a banned user's cookie no
// longer names a session; but it is still a cookie this server signed, and
// its user is read from the store: a ban in force is answered 403 banned
// with the reason and the time left (what the client shows), anything
// else 401. Only requests with a signed but stale cookie cost that read.
func (e *Engine) refuseWithoutSession(c *web.Context) {
	id := e.cfg.Sessions.CookieUserID(c)
	if id <= 0 {
		failRequest(c, errUnauthorized)
		return
	}
	st := e.cfg.Store
	web.Guard(c, ioloop.RunInExecutor(e.cfg.Reads, func() (store.User, error) {
		return st.UserByID(ctxBackground, id)
	})).OnResult(func(su store.User, err error) {
		now := e.now()
		switch {
		case errors.Is(err, store.ErrNotFound):
			failRequest(c, errUnauthorized)
		case err != nil:
			failRequest(c, err)
		case su.BannedAt(now):
			failRequest(c, refuseUntil(http.StatusForbidden, "banned", su.BannedUntil, now, "You are banned: %s", reasonOr(su.BanReason)))
		default:
			failRequest(c, errUnauthorized)
		}
	})
}
