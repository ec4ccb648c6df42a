package main

import (
	"log/slog"

	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/static"
	"chat/store"
	"chat/views"
)

// newApp builds the web application: its routes, static files and secrets.
// Handlers run on the loop; anything that touches the store goes through
// an executor.
func newApp(loop *ioloop.Loop, st *store.Store, sec secrets, version string, accessLog *slog.Logger) (*web.Application, error) {
	pages := &pages{loop: loop, store: st, version: version}
	app, err := web.NewApplication(web.Config{
		Loop:       loop,
		CookieKeys: sec.CookieKeys,
		StaticFS:   static.FS,
		AccessLog:  accessLog,
		Routes: []web.Spec{
			{Name: "home", Pattern: "/", New: web.Func(pages.home)},
		},
	})
	if err != nil {
		return nil, err
	}
	pages.app = app
	return app, nil
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
