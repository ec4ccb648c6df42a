// Package admin is the moderators' and administrators' dashboard under
// /admin: Django-admin-like tables of users, rooms, messages, reports,
// open connections and the audit log; the actions (delete, mute, kick,
// ban, lock, archive, slow mode, topic, roles), each live on every door
// and written to the audit log in the same transaction as the change; and
// the live panel, where the event loop itself is on screen, fed over the
// framework's own WebSocket once a second, with /metrics for Prometheus.
//
// Tornado counterpart: none in Tornado itself; the tables follow Django's
// admin, and access follows tornado.web.authenticated plus a role check
// (a RequestHandler's prepare refusing with 403).
//
// Who may do what (access.go): signed out, a sign-in page with next;
// a user who is not staff, a 403 page; moderators moderate; only admins
// change roles; nobody demotes or bans the last admin; a moderator
// cannot act on an admin or on another moderator.
//
// Everything here runs on the loop, like every handler: reads go to the
// store-reads executor and come back as Futures; actions go through the
// store (audited) and then through the delivery engine, which makes them
// live. Nothing here is safe from other goroutines.
package admin
