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
