// Package accounts is who a request or a frame belongs to: the session
// cookie, the loop's cache of signed-in users, and guest sign-in. It has no
// Tornado module of its own; it is what a Tornado application writes in
// get_current_user with set_secure_cookie, and what its login handlers do.
//
// A session is the secure cookie "session" (framework/web on
// gorilla/securecookie: signed, encrypted, HttpOnly, SameSite=Lax, Secure
// behind TLS) holding a user id and that user's session version. Bumping the
// version in the store (sign out everywhere, a password change, a ban) makes
// every older cookie invalid at its next request or frame.
//
// What runs where: Sessions is loop-owned. Decoding a cookie (Claim) is
// cheap and runs on the loop; loading the user it names (Load) answers from
// the loop's cache, or reads the store on an executor the first time and
// caches the result. Guest sign-in writes the new user on that executor too.
// Nothing here blocks the loop. The delivery engine (rooms/) checks bans
// and mutes against the cached User on every post, so a moderation change
// must reach the cache: Refresh reloads a user after the store changed.
//
// The product issue adds sign-up and sign-in with passwords on the same
// cookie and cache.
package accounts
