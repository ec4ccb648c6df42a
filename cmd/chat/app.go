package main

import (
	"context"
	"net/url"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/static"
	"chat/store"
	"chat/views"
)

// app routes requests to pages and static files.
type app struct {
	loop    *ioloop.Loop
	store   *store.Store
	static  *web.StaticFiles
	version string
}

func newApp(loop *ioloop.Loop, st *store.Store, _ secrets, version string) (*app, error) {
	files, err := web.NewStaticFiles(static.FS, web.StaticConfig{Prefix: "/static/"})
	if err != nil {
		return nil, err
	}
	return &app{loop: loop, store: st, static: files, version: version}, nil
}

func (a *app) ServeHTTP(w *httpserver.ResponseWriter, r *httpserver.Request) {
	switch {
	case r.Path == "/":
		a.home(w, r)
	case len(r.Path) > len(a.static.Prefix()) && r.Path[:len(a.static.Prefix())] == a.static.Prefix():
		a.serveStatic(w, r)
	default:
		w.SendError(404, errNotFound.Error())
	}
}

func (a *app) page(title string) views.Page {
	css, _ := a.static.StaticURL("css/app.css")
	return views.Page{Title: title, Stylesheet: css}
}

func (a *app) home(w *httpserver.ResponseWriter, r *httpserver.Request) {
	data := views.HomeData{Page: a.page("Tornado Chat"), OpenConnections: a.loop.OpenConns(), Version: a.version}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := views.Home(data).Render(context.Background(), w); err != nil {
		w.SendError(500, "")
		return
	}
	w.Finish()
}

func (a *app) serveStatic(w *httpserver.ResponseWriter, r *httpserver.Request) {
	q, _ := url.ParseQuery(r.RawQuery)
	res := a.static.Serve(web.StaticRequest{
		Method: r.Method, Path: r.Path, Version: q.Get("v"),
		IfNoneMatch: r.Header.Get("If-None-Match"), IfModifiedSince: r.Header.Get("If-Modified-Since"),
	})
	if res.Status >= 400 {
		w.SendError(res.Status, "")
		return
	}
	for k, vs := range res.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if r.Method != "HEAD" {
		w.Header().Del("Content-Length") // the server sets it (after gzip)
	}
	w.WriteHeader(res.Status)
	w.Write(res.Body)
	w.Finish()
}
