// Package accounts is who a request or a frame belongs to: the session
// cookie, the loop's cache of signed-in users, sign-up and sign-in with a
// password, guest sign-in, and the account page. Tornado has no module of
// its own for it; it is what a Tornado application writes in
// RequestHandler.get_current_user with set_secure_cookie, guards with
// tornado.web.authenticated (login_url with ?next=), and does in its login
// handlers, with bcrypt run through IOLoop.run_in_executor.
//
// A session is the secure cookie "session" (framework/web on
// gorilla/securecookie: signed, encrypted, HttpOnly, SameSite=Lax, Secure
// behind TLS) holding a user id and that user's session version. Bumping the
// version in the store (sign out everywhere, a password change, a ban) makes
// every older cookie invalid at its next request or frame.
//
// Routes (Sessions.Routes; docs/protocol.md, "Sessions and XSRF"): GET/POST
// /signin, /signup and /guest, POST /signout (everywhere=1 ends every
// session), GET /account and POST /account/password, and GET /api/me. Every
// POST carries the XSRF token; next is followed only to a path of this site
// (web.SafeNextURL). A client sending Accept: application/json gets JSON
// answers and the protocol's error object instead of pages and redirects.
//
// What runs where. Sessions and everything it owns (the user cache, the
// verified cookies, the throttles) are loop-owned: every method runs on the
// loop, and handlers are coroutines (web.Context.Go) whose code between two
// awaits runs on the loop's turn. Decoding a cookie (Claim) is cheap and
// runs on the loop; loading the user it names (Load) answers from the
// cache, or reads the store on Config.Executor the first time. Store reads
// and writes (users, guests, SetPassword, BumpSessionVersion) run on
// Config.Executor. Every bcrypt hash and compare runs on Config.Passwords, an
// executor of its own with a bounded queue: a cost-12 hash holds a core for
// about a quarter of a second, so it must never run on the loop nor delay
// the store's reads, and when its queue is full a sign-in is refused at once
// with 503 "busy" rather than queued. HashPassword and PasswordProblem are
// plain functions, safe from any goroutine (cmd/chat hashes the first
// admin's password with HashPassword before the loop runs). Nothing here
// blocks the loop.
//
// Sign-in reveals neither which names exist nor which have passwords: an
// unknown name, a guest's name and a wrong password get the same answer
// after the same bcrypt compare (against a dummy hash of the same cost). It
// is throttled by name and by client address (throttle.go: five failures a
// name, twenty an address, then delays doubling from 1 s to 5 min,
// forgotten 15 minutes after the last failure); the tables are bounded and
// swept by a loop timer. Config.NewUsersPerMinute bounds the guests and
// sign-ups one address makes.
//
// The delivery engine (rooms/) checks bans and mutes against the cached
// User on every post, so a moderation change must reach the cache: Refresh
// reloads a user after the store changed, and the sign-out and password
// handlers call it after bumping the session version.
package accounts
