package main

import (
	"log/slog"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
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
}

// appOptions are the parts of the configuration the application uses.
type appOptions struct {
	Version     string
	AccessLog   *slog.Logger
	AllowGuests bool
	// Engine adjusts the delivery engine's configuration (tests shorten
	// its timeouts); nil keeps the defaults.
	Engine func(*rooms.Config)
}

// newApp builds the web application: its routes, static files and secrets.
// Handlers run on the loop; anything that touches the store goes through
// an executor (reads) or the store's writer queue (events).
func newApp(loop *ioloop.Loop, st *store.Store, sec secrets, opts appOptions) (*chatApp, error) {
	pages := &pages{loop: loop, store: st, version: opts.Version}
	// The store's reads get their own executor: a burst of history reads
	// must not queue behind other blocking work, nor the other way round.
	reads := loop.NewExecutor("store-reads", 4, 1024)
	sessions := accounts.New(accounts.Config{
		Loop: loop, Store: st, Executor: reads, AllowGuests: opts.AllowGuests,
		Layout: func(c *web.Context, title string) views.Page { return pages.layout(title) },
	})
	engineCfg := rooms.Config{Loop: loop, Store: st, Sessions: sessions, Reads: reads}
	if opts.Engine != nil {
		opts.Engine(&engineCfg)
	}
	engine := rooms.New(engineCfg)
	routes := []web.Spec{{Name: "home", Pattern: "/", New: web.Func(pages.home)}}
	routes = append(routes, sessions.Routes()...)
	routes = append(routes, engine.Routes()...)
	app, err := web.NewApplication(web.Config{
		Loop:       loop,
		Executor:   reads,
		CookieKeys: sec.CookieKeys,
		StaticFS:   static.FS,
		AccessLog:  opts.AccessLog,
		LoginURL:   "/guest",
		Routes:     routes,
	})
	if err != nil {
		return nil, err
	}
	pages.app = app
	return &chatApp{web: app, sessions: sessions, engine: engine}, nil
}

// pages holds what the page handlers share. Loop-owned.
type pages struct {
	app     *web.Application
	loop    *ioloop.Loop
	store   *store.Store
	version string
}

// layout fills in what every page's shell needs.
func (p *pages) layout(title string) views.Page {
	css, _ := p.app.StaticURL("css/app.css")
	return views.Page{Title: title, Stylesheet: css}
}

func (p *pages) home(c *web.Context) {
	c.Render(views.Home(views.HomeData{
		Page:            p.layout("Tornado Chat"),
		OpenConnections: p.loop.OpenConns(),
		Version:         p.version,
	}))
}
