package accounts

import "chat/framework/web"

// CachedUser returns the request's user when its session cookie is good
// and the user is in the cache (as after a Load in the last minutes), nil
// otherwise. It never reads the store, so a page shell that merely shows
// who is signed in (the sign-in page's header) needs no asynchronous
// step; pages that act for the user call Load. Loop-only.
func (s *Sessions) CachedUser(c *web.Context) *User {
	cl, ok := s.claim(c)
	if !ok {
		return nil
	}
	if entry := s.cache[cl.UserID]; entry != nil {
		return current(entry.user, cl.Version)
	}
	return nil
}

// CookieUserID returns the user id the request's session cookie names
// when its signature holds, whatever its session version (0 without one).
// A cookie whose version is stale is no session (Load answers nil), but
// the delivery engine still tells a banned user why they were signed out.
// Loop-only.
func (s *Sessions) CookieUserID(c *web.Context) int64 {
	cl, ok := s.claim(c)
	if !ok {
		return 0
	}
	return cl.UserID
}
