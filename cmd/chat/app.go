package main

import (
	"log/slog"
	"net/http"
	"time"

	"chat/accounts"
	"chat/admin"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/pages"
	"chat/rooms"
	"chat/static"
	"chat/store"
	"chat/views"
)

// chatApp is the wired application: the web layer with the pages, the
// sessions and the delivery engine's routes.
type chatApp struct {
	web      *web.Application
	sessions *accounts.Sessions
	engine   *rooms.Engine
	admin    *admin.Admin
}

// appOptions are the parts of the configuration the application uses.
type appOptions struct {
	AccessLog   *slog.Logger
	AllowGuests bool
	// NewUsersPerMinute bounds the guests and sign-ups of one address
	// (accounts.Config.NewUsersPerMinute); 0: no bound.
	NewUsersPerMinute int
	// BcryptCost is the cost of password hashes; 0: accounts.DefaultBcryptCost.
	BcryptCost int
	// Engine adjusts the delivery engine's configuration (tests shorten
	// its timeouts); nil keeps the defaults.
	Engine func(*rooms.Config)
}

// newApp builds the web application: its routes, static files and secrets.
// Handlers run on the loop; anything that touches the store goes through
// an executor (reads) or the store's writer queue (events).
func newApp(loop *ioloop.Loop, st *store.Store, sec secrets, opts appOptions) (*chatApp, error) {
	// The store's reads get their own executor: a burst of history reads
	// must not queue behind other blocking work, nor the other way round.
	reads := loop.NewExecutor("store-reads", 4, 1024)
	var sessions *accounts.Sessions
	var engine *rooms.Engine
	sessions = accounts.New(accounts.Config{
		Loop: loop, Store: st, Executor: reads, AllowGuests: opts.AllowGuests,
		// bcrypt gets an executor of its own, sized so it never holds
		// every core (see NewPasswordExecutor).
		Passwords:  accounts.NewPasswordExecutor(loop),
		BcryptCost: opts.BcryptCost, NewUsersPerMinute: opts.NewUsersPerMinute,
		Layout: func(c *web.Context, title string) views.Page {
			return pages.Layout(c, title, "account", sessions.CachedUser(c))
		},
		// The engine's table of address bans (rooms/addressbans.go); it is
		// made below, before the server takes a request.
		AddressBanned: func(ip string) (string, time.Time, bool) {
			b, ok := engine.AddressBanned(ip)
			return b.Reason, b.Until, ok
		},
	})
	engineCfg := rooms.Config{Loop: loop, Store: st, Sessions: sessions, Reads: reads}
	if opts.Engine != nil {
		opts.Engine(&engineCfg)
	}
	engine = rooms.New(engineCfg)
	site := pages.New(pages.Config{Engine: engine, Sessions: sessions})
	dashboard := admin.New(admin.Config{Loop: loop, Store: st, Sessions: sessions, Engine: engine, Reads: reads})
	routes := site.Routes()
	routes = append(routes, dashboard.Routes()...)
	routes = append(routes, sessions.Routes()...)
	routes = append(routes, engine.Routes()...)
	app, err := web.NewApplication(web.Config{
		Loop:           loop,
		Executor:       reads,
		CookieKeys:     sec.CookieKeys,
		StaticFS:       static.FS,
		AccessLog:      opts.AccessLog,
		LoginURL:       "/signin",
		Routes:         routes,
		DefaultHeaders: securityHeaders(),
	})
	if err != nil {
		return nil, err
	}
	return &chatApp{web: app, sessions: sessions, engine: engine, admin: dashboard}, nil
}

// securityHeaders go on every response. The Content-Security-Policy
// allows scripts, styles and connections only from this origin, and no
// inline script or style at all: even if some user text slipped through
// as HTML, the browser would run nothing it carried. The page may not be
// framed (clickjacking), nor its type sniffed.
func securityHeaders() http.Header {
	return http.Header{
		"Content-Security-Policy": {"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"},
		"X-Content-Type-Options": {"nosniff"},
		"X-Frame-Options":        {"DENY"},
		"Referrer-Policy":        {"same-origin"},
	}
}
