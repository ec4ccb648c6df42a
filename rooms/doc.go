// Package rooms is the chat's delivery engine: durable, ordered, resumable
// rooms over three doors (WebSocket, long poll, Server-Sent Events), on one
// event loop. It is the part of a Tornado chat (the chatdemo's
// MessageBuffer, grown up) that the framework exists for: tens of
// thousands of people in rooms, every message committed to SQLite before
// anyone sees it, delivered once, in order, to every door, with no gap
// after a reconnect. docs/protocol.md is its wire contract; docs/tour.md
// follows one message through it.
//
// # The model
//
// A room's history is an event log (store.Event): messages, edits,
// deletions and room changes, each with a cursor id assigned at commit.
// Presence (join, leave) and typing are ephemeral: no id, never replayed.
//
// One hub per active room (hub.go) holds everyone connected on every door,
// a ring of the room's recent events (ring.go) so a recent cursor is served
// without SQLite, the room's presence (presence.go) and the per-user state
// of its rules. Hubs live in the Engine's maps and nowhere else; a hub with
// nobody in it, no grace period running and no write in flight is dropped
// after Config.HubIdle, so memory follows the active rooms, not the rooms
// ever visited.
//
// # The post pipeline (post.go)
//
// check (body, key, ban, mute, locked, archived) → throttle (slow mode, the
// user's token bucket) → store.Submit, which only queues the write for the
// store's group-commit writer → on the writer goroutine, the done callback
// hands the result back with Loop.AddCallback → on the loop, committed acks
// the sender and publishes the event once: one PreparedMessage to every
// live WebSocket, the same JSON to every stream, and one answer to every
// parked long poll on the next turn. Because Submit never blocks, the loop
// keeps many writes in flight and each commit covers everything that
// arrived during the previous one; because the writer reports commits in
// order and the loop runs callbacks in order, a room's events are published
// in id order.
//
// # Resume without gaps (hub.fetch, hub.replay)
//
// A client passes the last id it applied. If the ring covers it, the
// events come from memory, in the same loop turn in which the connection
// joins the live set, so nothing can be published in between. Otherwise
// pages come from SQLite on the reads executor; an event read there that
// has not yet been published on the loop is left for the live path, so it
// is delivered exactly once. A cursor beyond the last id, or one that is
// not an event of this room, is answered with a reset, never a silent skip.
//
// # What runs where
//
// Everything in this package runs on the loop: handlers, hubs, the
// pipeline, timers. No mutex: the loop is the lock. Store reads run on
// Config.Reads (an executor) and touch nothing of the loop's; the store's
// writer goroutine only calls done callbacks, which only call AddCallback.
// Engine.Stats, like every method, is loop-only.
//
// # Bounds
//
// WebSocket frames from clients are at most MaxFrameBytes (1009 beyond); a
// WebSocket more than its pending-write bound behind is dropped with 1013
// and resumes from its cursor; an SSE stream more than
// Config.StreamMaxBehind behind is ended and resumes with Last-Event-ID; a
// long poll holds nothing but its cursor and its timer; replay pages are
// Config.PageSize, send at most 256 KiB a turn, wait for a slow connection
// to drain and drop one that takes nothing for Config.ReplayStall; the
// ring and the recent acks have fixed sizes; the per-user maps (typing,
// slow mode) are pruned of stale entries once they reach 4,096; rooms cost
// a token of the creator's bucket.
//
// # Broker: more than one process
//
// Hubs are per process. Broker (broker.go) is the seam to other
// processes: the engine publishes each committed event to it and receives
// every event, its own included, through the function given to Start.
// LocalBroker, the default, delivers in process. A NATS broker would
// publish the event's JSON and ids on a subject per room (rooms.<name>)
// and, from its subscription, hand each event to the loop with AddCallback.
// Every write that makes an event must go through the engine (a hub
// submits it and publishes it on commit): the store's blocking setters
// (SetRoomLocked, DeleteMessage, ...) commit events no hub publishes, so
// they are for tools and tests when no server runs. Two rules make a
// broker correct: the processes must share one store writer
// or order events by id before delivering (a hub drops an event whose id
// is not above its last, so an out-of-order arrival would be lost; a
// per-room reorder buffer keyed by id, with a read of the store to fill a
// gap, is the remedy), and a process that loses its subscription must
// resync its hubs from the store. No broker is built here.
//
// # Moderation (admin.go, conns.go)
//
// Kick and EndSessions close a user's connections on every door with a
// reason the client shows (close codes 4000 and 4001; an error object on a
// long poll or a stream). Bans and mutes are checked against the cached
// accounts.User on every post, and a WebSocket checks its session
// (accounts.SessionValid) on every frame. The admin dashboard stores a
// change to a user, then calls UserChanged: it reloads the cached user
// (accounts.Sessions.Refresh, in place, so every connection sharing the
// pointer sees a mute, an unmute or a role at once) and, when the user is
// banned or their session version moved, ends every connection of theirs
// with 4001 and the "banned" (with the time left) or "session_ended"
// error. A ban raises the session version, so the banned user's cookie is
// no session any more; withSession still answers it 403 banned, with the
// reason, by reading the user the signed cookie names (one store read, only
// for stale cookies). ChangeRoom applies a room change (lock, archive,
// slow mode, title, topic) as a room event, and DeleteMessage a
// moderator's delete as a tombstone; both go through the post pipeline,
// so they reach every door and replay.
//
// Address bans (addressbans.go) are a table on the loop, loaded at start
// and after every change the dashboard makes (AddressBansChanged, which
// also ends the open connections the change bans, with 4001): withSession
// refuses a banned client address 403 banned before the session, on every
// door, and accounts' sign-in pages ask AddressBanned through
// accounts.Config. Mutes in one room (roommutes.go) are a table per hub,
// read when the hub loads and on RoomMutesChanged, which the post
// pipeline's check consults.
//
// The connections inspector's list is the hubs themselves: a connection
// is in its hub from open to end on every door (a long poll while it
// reads and while it is parked), so Connections and KickConnection walk
// the hubs and no second registry can drift. Each connection records its
// number, client address, arrival and last read (connMeta) when its
// request arrives.
//
// # Shutdown
//
// Engine.Shutdown refuses new connections, answers parked long polls, sends
// 1001 to WebSockets and ends streams; writes already submitted still
// commit. cmd/chat then waits until Drained, stops the loop and closes the
// store, whose writer commits what it queued. Clients resume afterwards
// from their cursors.
package rooms
