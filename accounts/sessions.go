package accounts

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
	"chat/views"
)

// ctxBackground is the context of store calls made for the loop: they are
// bounded by the store's own timeouts, not by a request.
var ctxBackground = context.Background()

// CookieName is the session cookie's name.
const CookieName = "session"

// Config configures Sessions. Loop and Store are required.
type Config struct {
	Loop  *ioloop.Loop
	Store *store.Store
	// Executor runs the store calls (user loads, guest creation). Nil
	// means the loop's default executor.
	Executor *ioloop.Executor
	// AllowGuests turns guest sign-in on.
	AllowGuests bool
	// CacheIdle is how long a user nobody holds stays cached after its
	// last use. Zero means DefaultCacheIdle.
	CacheIdle time.Duration
	// MaxCached bounds the cache: past it, the users nobody holds are
	// dropped at once (they load again on their next request). Zero means
	// DefaultMaxCached.
	MaxCached int
	// Layout builds the shell of the pages this package renders (the guest
	// form). Nil means a bare page.
	Layout func(c *web.Context, title string) views.Page

	// Passwords runs every bcrypt hash and compare, and nothing else: a
	// hash at cost 12 holds a core for about a quarter of a second, so it
	// must neither run on the loop nor queue behind (or in front of) the
	// store's reads. Required for the password routes (/signin, /signup,
	// /account/password): without it they answer 500 and log why.
	// NewPasswordExecutor makes one of the recommended size. Its queue
	// must be bounded: when it is full, a sign-in is answered 503 "busy"
	// with Retry-After rather than waiting.
	Passwords *ioloop.Executor
	// BcryptCost is the cost of new password hashes (and of the dummy hash
	// unknown names are compared with). Zero means DefaultBcryptCost;
	// tests use bcrypt.MinCost.
	BcryptCost int
	// Now is the clock of the sign-in throttles and of ban checks at
	// sign-in; nil means time.Now. Tests inject one to step through the
	// throttle's delays.
	Now func() time.Time
	// NewUsersPerMinute bounds how many guests and sign-ups one client
	// address may create a minute (DefaultNewUsersPerMinute is the
	// recommended value). Zero means no bound, for tests and load tools
	// that create many users from one address.
	NewUsersPerMinute int
	// AddressBanned, if set, tells whether a client address (as
	// Request.RemoteIP has it) is banned, with the ban's reason and end:
	// sign-in, sign-up and guest sign-in refuse a banned address with 403
	// banned and the reason. It is called on the loop and must not block
	// (cmd/chat wires it to the rooms engine's table of address bans).
	AddressBanned func(ip string) (reason string, until time.Time, banned bool)
}

// The defaults of Config.
const (
	DefaultCacheIdle = 10 * time.Minute
	DefaultMaxCached = 100_000
)

// Sessions decodes session cookies and caches the users they name. It is
// loop-owned: every method must be called on the loop.
type Sessions struct {
	cfg     Config
	cache   map[int64]*cached
	loading map[int64]*concurrent.Future[*User]
	claims  map[[sha256.Size]byte]verifiedClaim // cookie values already verified, by digest
	sweeper *ioloop.PeriodicCallback

	signins  *signinThrottle          // failed password sign-ins, by name and by address
	newUsers *rateLimiter             // guests and sign-ups created, by address
	throttle *ioloop.PeriodicCallback // sweeps signins and newUsers
	dummy    func() []byte            // the hash unknown names are compared with; safe from any goroutine
}

// verifiedClaim is a session cookie value whose signature was checked,
// remembered for claimTTL: a long poll presents the same cookie every few
// seconds, and checking its HMAC and decrypting it was 40% of the poll's
// own cost (a CPU profile of chatload -mode longpoll, 10,000 pollers).
type verifiedClaim struct {
	claim
	until time.Time
}

// claimTTL bounds how long a verified cookie value is trusted without
// checking it again; a cookie that expires is refused at most this late.
const claimTTL = time.Minute

// cached is one user in the cache: held counts the long-lived connections
// that keep its pointer (a held entry is never evicted, so a Refresh always
// reaches them).
type cached struct {
	user     *User
	held     int
	lastUsed time.Time
}

// claim is what the session cookie holds.
type claim struct {
	UserID  int64 `json:"u"`
	Version int64 `json:"v"`
}

// New returns the sessions of cfg.Loop and starts the cache's sweep. Call
// it on the loop or before the loop runs.
func New(cfg Config) *Sessions {
	if cfg.Executor == nil {
		cfg.Executor = cfg.Loop.DefaultExecutor()
	}
	if cfg.CacheIdle <= 0 {
		cfg.CacheIdle = DefaultCacheIdle
	}
	if cfg.MaxCached <= 0 {
		cfg.MaxCached = DefaultMaxCached
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = DefaultBcryptCost
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Sessions{cfg: cfg, cache: make(map[int64]*cached), loading: make(map[int64]*concurrent.Future[*User]),
		claims: make(map[[sha256.Size]byte]verifiedClaim)}
	s.sweeper = ioloop.NewPeriodicCallback(cfg.Loop, cfg.CacheIdle/2, s.sweep)
	s.sweeper.Start()
	s.signins = newSigninThrottle()
	s.newUsers = newRateLimiter(cfg.NewUsersPerMinute, time.Minute)
	s.throttle = ioloop.NewPeriodicCallback(cfg.Loop, throttleSweepEvery, func() {
		now := s.cfg.Now()
		s.signins.sweep(now)
		s.newUsers.sweep(now)
	})
	s.throttle.Start()
	s.dummy = dummyHash(cfg.BcryptCost)
	s.warmDummyHash()
	return s
}

// Executor is the executor the sessions use for the store.
func (s *Sessions) Executor() *ioloop.Executor { return s.cfg.Executor }

// Store is the store the sessions read.
func (s *Sessions) Store() *store.Store { return s.cfg.Store }

// AllowGuests reports whether guest sign-in is on.
func (s *Sessions) AllowGuests() bool { return s.cfg.AllowGuests }

// Load resolves the user the request's session cookie names, or nil when
// there is no cookie, it is invalid or expired, its session version is not
// the user's current one, or the user no longer exists. It fails only when
// the store cannot answer. The request is marked asynchronous while the
// store is read (the first time a user is seen since it was cached).
func (s *Sessions) Load(c *web.Context) *concurrent.Future[*User] {
	cl, ok := s.claim(c)
	if !ok {
		return concurrent.Resolved[*User](nil)
	}
	if entry := s.cache[cl.UserID]; entry != nil {
		entry.lastUsed = time.Now()
		return concurrent.Resolved(current(entry.user, cl.Version))
	}
	c.Async()
	return web.Guard(c, concurrent.Map(s.user(cl.UserID), func(u *User) (*User, error) {
		return current(u, cl.Version), nil
	}))
}

// current returns u if version is its session version, else nil.
func current(u *User, version int64) *User {
	if u == nil || u.SessionVersion != version {
		return nil
	}
	return u
}

// SessionValid reports whether the session a connection opened with
// (its user and the version its cookie held) is still good: same version,
// not banned. Connections ask on every frame.
func SessionValid(u *User, version int64, now time.Time) bool {
	return u.SessionVersion == version && !u.BannedAt(now)
}

// claim decodes the session cookie, or finds the same cookie value among
// those verified in the last claimTTL.
func (s *Sessions) claim(c *web.Context) (claim, bool) {
	value, ok := c.Cookie(CookieName)
	if !ok {
		return claim{}, false
	}
	now := time.Now()
	// Keyed by the value's SHA-256, 32 bytes rather than the value's 200:
	// the cache holds one entry per connected member.
	digest := sha256.Sum256([]byte(value))
	if v, ok := s.claims[digest]; ok && now.Before(v.until) {
		return v.claim, true
	}
	raw, err := c.GetSecureCookie(CookieName)
	if err != nil {
		return claim{}, false
	}
	var cl claim
	if json.Unmarshal(raw, &cl) != nil || cl.UserID <= 0 {
		return claim{}, false
	}
	if len(s.claims) >= s.cfg.MaxCached {
		clear(s.claims) // bounded; the next requests verify again
	}
	s.claims[digest] = verifiedClaim{claim: cl, until: now.Add(claimTTL)}
	return cl, true
}

// user returns the cached user, or loads it from the store once however
// many requests ask at the same time. A user the store does not have
// resolves to nil.
func (s *Sessions) user(id int64) *concurrent.Future[*User] {
	if entry := s.cache[id]; entry != nil {
		return concurrent.Resolved(entry.user)
	}
	if f := s.loading[id]; f != nil {
		return f
	}
	st := s.cfg.Store
	f := concurrent.Map(ioloop.RunInExecutor(s.cfg.Executor, func() (store.User, error) {
		return st.UserByID(ctxBackground, id)
	}), func(su store.User) (*User, error) {
		return s.remember(su), nil
	})
	wrapped := concurrent.New[*User]()
	s.loading[id] = wrapped
	f.OnResult(func(u *User, err error) {
		delete(s.loading, id)
		if errors.Is(err, store.ErrNotFound) {
			err = nil
		}
		wrapped.Set(u, err)
	})
	return wrapped
}

// remember caches su (or updates the cached user in place) and returns
// the cached pointer.
func (s *Sessions) remember(su store.User) *User {
	u := userFromStore(su)
	if entry := s.cache[su.ID]; entry != nil {
		*entry.user = u
		entry.lastUsed = time.Now()
		return entry.user
	}
	if len(s.cache) >= s.cfg.MaxCached {
		s.dropUnheld(time.Now()) // a flood of sign-ins: bounded, not remembered
	}
	s.cache[su.ID] = &cached{user: &u, lastUsed: time.Now()}
	return &u
}

// Hold marks u as kept by a long-lived connection (a WebSocket, a stream)
// until the matching Release: it stays cached, so Refresh reaches it.
func (s *Sessions) Hold(u *User) {
	if entry := s.cache[u.ID]; entry != nil && entry.user == u {
		entry.held++
	}
}

// Release undoes one Hold.
func (s *Sessions) Release(u *User) {
	if entry := s.cache[u.ID]; entry != nil && entry.user == u && entry.held > 0 {
		entry.held--
		entry.lastUsed = time.Now()
	}
}

// Refresh reloads a user from the store after something changed it (a
// role, a mute, a ban, a new session version) and updates the cached user
// in place, so every connection holding it sees the change at its next
// frame. A user not cached is not loaded; one being loaded is read again
// after that load. It resolves with the cached user (nil if not cached).
func (s *Sessions) Refresh(id int64) *concurrent.Future[*User] {
	if f := s.loading[id]; f != nil {
		// A load is reading the row now, perhaps from before the change:
		// read again once it has landed, or the old row would be cached.
		return concurrent.Then(f, func(*User) *concurrent.Future[*User] { return s.Refresh(id) })
	}
	if s.cache[id] == nil {
		return concurrent.Resolved[*User](nil)
	}
	st := s.cfg.Store
	return concurrent.Map(ioloop.RunInExecutor(s.cfg.Executor, func() (store.User, error) {
		return st.UserByID(ctxBackground, id)
	}), func(su store.User) (*User, error) { return s.remember(su), nil })
}

// SignIn sets the session cookie for u on the response.
func (s *Sessions) SignIn(c *web.Context, u *User) error {
	raw, err := json.Marshal(claim{UserID: u.ID, Version: u.SessionVersion})
	if err != nil {
		return err
	}
	if err := c.SetSecureCookie(CookieName, raw); err != nil {
		return fmt.Errorf("set session cookie: %w", err)
	}
	c.SetCurrentUser(u)
	return nil
}

// Cached is how many users the cache holds, for stats.
func (s *Sessions) Cached() int { return len(s.cache) }

// sweep drops users nobody holds that were not used for CacheIdle.
func (s *Sessions) sweep() {
	now := time.Now()
	s.dropUnheld(now.Add(-s.cfg.CacheIdle))
	for digest, v := range s.claims {
		if !now.Before(v.until) {
			delete(s.claims, digest)
		}
	}
}

// dropUnheld drops the users nobody holds that were last used before
// cutoff.
func (s *Sessions) dropUnheld(cutoff time.Time) {
	for id, entry := range s.cache {
		if entry.held == 0 && entry.lastUsed.Before(cutoff) {
			delete(s.cache, id)
		}
	}
}

// Close stops the sweeps. Loop-only.
func (s *Sessions) Close() {
	s.sweeper.Stop()
	s.throttle.Stop()
}

// EnsureXSRFCookie sets the _xsrf cookie on the response when the request
// has none, so that a program calling the API (not only a page with a
// form) learns the token its POSTs must carry.
func EnsureXSRFCookie(c *web.Context) {
	if _, ok := c.Cookie(web.XSRFCookieName); !ok {
		c.XSRFToken()
	}
}
