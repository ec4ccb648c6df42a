// Package pages serves the chat's server-rendered pages: the room list at
// "/" (with the form that creates a room) and each room's page at
// "/rooms/{room}". It is the page side of what rooms/ serves as JSON:
// the same engine snapshots (rooms.Engine.Rooms, rooms.Engine.View), folded
// into what a reader sees (timeline.go) and rendered by the templ
// components of views/. A room page is useful before any script runs: its
// latest 50 events are in the HTML; the browser client (static/js) then
// connects from the page's cursor and keeps it live.
//
// Tornado counterpart: the RequestHandlers of Tornado's chat demo that
// render templates (MainHandler's self.render("index.html", messages=...)),
// with tornado.web.authenticated sending a signed-out reader to the
// sign-in page with ?next=.
//
// Everything here runs on the loop: a handler asks the engine or the
// sessions for a Future (whose reads run on the store-reads executor),
// and renders when it resolves. Nothing is safe from other goroutines.
package pages
