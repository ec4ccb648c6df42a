package rooms

import (
	"strconv"
	"time"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
)

// The Server-Sent Events door: GET /api/rooms/{room}/stream?after=ID. Each
// durable event goes out as "id: N" and "data: {json}", so the browser's
// EventSource resumes by itself with Last-Event-ID (which wins over
// after); ephemeral events are "data:" alone. The response is a chunked
// stream that never finishes on its own.

// StreamPing is how often an idle stream gets a comment line, so proxies
// do not time it out.
const StreamPing = 15 * time.Second

type streamHandler struct {
	e *Engine
	s *stream
}

func (hd *streamHandler) Get(c *web.Context) {
	cursor, err := cursorArgument(c, "after")
	if err != nil {
		failRequest(c, err)
		return
	}
	if id := c.Request().Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n >= 0 {
			cursor = n
		}
	}
	hd.e.withRoom(c, func(u *accounts.User, h *hub, version int64) {
		if c.Finished() {
			return // the client left during the loads: OnConnectionClose found no stream
		}
		hd.s = &stream{h: h, c: c, user: u, version: version, connMeta: hd.e.newConnMeta(c)}
		hd.s.open(cursor)
	})
}

func (hd *streamHandler) OnConnectionClose(*web.Context) {
	if hd.s != nil {
		hd.s.clientLeft()
	}
}

// stream is one SSE response. Loop-owned.
type stream struct {
	h       *hub
	c       *web.Context
	user    *accounts.User
	version int64 // the session version its cookie held
	ping    *ioloop.PeriodicCallback
	ended   bool
	// live: caught up, so the hub's broadcasts reach it. The stream is in
	// the hub's streams from open on, so that Shutdown and kicks reach it
	// while it replays too.
	live bool

	flushing bool // a flush is scheduled for the loop's next turn
	connMeta
}

// open joins the hub first (so a kick, a shutdown or its own end finds
// it), then writes the hello and starts the replay or goes live.
func (s *stream) open(cursor int64) {
	h := s.h
	h.streams[s] = struct{}{}
	h.presence.arrive(s.user)
	h.e.cfg.Sessions.Hold(s.user)
	h.touch()
	s.c.SetHeader("Content-Type", "text/event-stream; charset=utf-8")
	s.c.SetHeader("Cache-Control", "no-store")
	s.c.SetHeader("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	s.write([]byte("retry: 2000\n\n"))
	s.sendEphemeral(encodeFrame(h.hello(s.user)))
	if s.ended {
		return
	}
	s.ping = ioloop.NewPeriodicCallback(h.loop(), StreamPing, func() { s.write([]byte(": ping\n\n")) })
	s.ping.Start()
	if cursor == noCursor {
		s.goLive()
		return
	}
	h.replay(cursor, s)
}

// A stream's bounds. What one turn writes is flushed at the end of the
// turn, so a group commit's whole batch may sit unflushed for a moment: up
// to maxUnflushed. What the kernel has not taken after a flush (the
// client's real backlog) may reach Config.StreamMaxBehind; past it, the
// stream is ended and the client resumes with Last-Event-ID.
func (s *stream) maxUnflushed() int { return 16 * s.h.e.cfg.StreamMaxBehind }

// write queues b and schedules one flush for this turn's writes.
func (s *stream) write(b []byte) {
	if s.ended {
		return
	}
	s.c.Write(b)
	if s.c.Response().BodyLen() > s.maxUnflushed() {
		s.end()
		return
	}
	if !s.flushing {
		s.flushing = true
		s.h.loop().AddCallback(s.flush)
	}
}

// flush sends this turn's writes as one chunk, then ends a stream whose
// client has fallen too far behind.
func (s *stream) flush() {
	s.flushing = false
	if s.ended {
		return
	}
	s.c.Flush()
	if s.c.Response().PendingWriteBytes() > s.h.e.cfg.StreamMaxBehind {
		s.end() // too far behind: the client reconnects with Last-Event-ID
	}
}

// sseMessage frames data as one Server-Sent Event: with an "id:" line
// when id >= 0 (a durable event, or a reset's new cursor), without one for
// ephemeral frames.
func sseMessage(id int64, data []byte) []byte {
	b := make([]byte, 0, len(data)+32)
	if id >= 0 {
		b = append(b, "id: "...)
		b = strconv.AppendInt(b, id, 10)
		b = append(b, '\n')
	}
	b = append(b, "data: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

// sendEvent sends one durable event (a replay's; a broadcast frames the
// event once and calls sendFramed).
func (s *stream) sendEvent(ev *Event) bool { return s.sendFramed(sseMessage(ev.ID, ev.JSON)) }

// sendFramed sends an event already framed by sseMessage; the bytes are
// copied into the response, so one framing serves every stream.
func (s *stream) sendFramed(b []byte) bool {
	s.write(b)
	return !s.ended
}

func (s *stream) sendEphemeral(frame []byte) { s.write(sseMessage(-1, frame)) }

// endWith sends a last frame (a kick's reason), then ends.
func (s *stream) endWith(frame []byte) {
	s.sendEphemeral(frame)
	s.end()
}

// end finishes the response and leaves the hub.
func (s *stream) end() {
	if s.ended {
		return
	}
	s.leave()
	s.c.Finish()
}

// clientLeft is the client going away: leave the hub, send nothing.
func (s *stream) clientLeft() { s.leave() }

func (s *stream) leave() {
	if s.ended {
		return
	}
	s.ended = true
	h := s.h
	if s.ping != nil { // nil when a write in open ended the stream
		s.ping.Stop()
	}
	delete(h.streams, s)
	h.presence.depart(s.user)
	h.e.cfg.Sessions.Release(s.user)
	h.touch()
}

// The replayer side (hub.replay).

func (s *stream) gone() bool { return s.ended }

// behind: the kernel holds back more than a quarter of the bound. (What
// this turn wrote is not counted: replayTurnBytes bounds it, and the
// flush at the end of the turn hands it over.)
func (s *stream) behind() bool {
	return s.c.Response().PendingWriteBytes() > s.h.e.cfg.StreamMaxBehind/4
}

// sendReset sends the reset with the room's last id as its event id, so
// that the browser's own reconnect (Last-Event-ID) resumes from the new
// cursor; the stream then goes live like any other (docs/protocol.md).
func (s *stream) sendReset(lastID int64) {
	s.write(sseMessage(lastID, encodeFrame(wireReset{Type: "reset", LastID: lastID})))
}

func (s *stream) goLive() { s.live = !s.ended }

func (s *stream) dropSlow() { s.end() }

func (s *stream) replayFailed(err error) {
	s.h.e.cfg.Logger.Error("rooms: replay failed", "room", s.h.room.Name, "err", err)
	s.end()
}
