package rooms

import (
	"strconv"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
)

// The long-poll door: GET /api/rooms/{room}/events?after=ID answers at once
// when events after ID exist (at most PageSize, with "more"), else parks
// until the next event or LongPollTimeout (an empty list). A waiter whose
// client disconnects is dropped at once (OnConnectionClose). Each parked
// poll is a callback and a timer, no goroutine: ten thousand cost little.

type pollHandler struct {
	e *Engine
	p *poll // set once parked or answering
}

func (hd *pollHandler) Get(c *web.Context) {
	cursor, err := cursorArgument(c, "after")
	if err != nil {
		failRequest(c, err)
		return
	}
	hd.e.withRoom(c, func(u *accounts.User, h *hub, version int64) {
		if c.Finished() { // the client left while the session or room loaded
			return
		}
		if cursor == noCursor {
			cursor = h.lastID
		}
		hd.p = &poll{h: h, c: c, user: u, version: version, cursor: cursor, connMeta: hd.e.newConnMeta(c)}
		hd.p.start()
	})
}

// OnConnectionClose drops the waiter of a client that left.
func (hd *pollHandler) OnConnectionClose(*web.Context) {
	if hd.p != nil {
		hd.p.clientLeft()
	}
}

// poll is one long-poll request. It belongs to its hub (h.polls) from
// start until it is answered, whether it is reading, parked or being
// answered, so a kick, a shutdown and presence see it all along: its user
// counts as present while it is there, and the grace period covers the
// moment between one poll's answer and the next poll. Loop-owned.
type poll struct {
	h       *hub
	c       *web.Context
	user    *accounts.User
	version int64 // the session version its cookie held
	cursor  int64
	joined  bool          // in h.polls, counted in presence
	timer   *ioloop.Timer // set while parked
	done    bool
	connMeta
}

// start answers from what exists after the cursor, or parks.
func (p *poll) start() {
	h := p.h
	if !p.joined {
		p.joined = true
		h.polls[p] = struct{}{}
		h.presence.arrive(p.user)
		h.touch()
	}
	h.fetch(p.cursor, h.e.cfg.PageSize).OnResult(func(pg page, err error) {
		switch {
		case p.done:
			return
		case p.c.Finished(): // the client left while it read
			p.finish()
		case err != nil:
			p.finish()
			failRequest(p.c, err)
		case pg.reset:
			p.finish()
			p.c.WriteJSON(wireReset{Type: "reset", LastID: h.lastID})
			p.c.Finish()
		case len(pg.events) > 0:
			p.answer(pg.events, pg.more)
		case pg.more: // published while it read: fetch again, from the ring now
			p.start()
		case h.e.closing:
			p.answer(nil, false) // a shutdown began while it read: do not park
		default:
			p.park()
		}
	})
}

// parked reports whether the poll waits for the next event.
func (p *poll) parked() bool { return p.timer != nil }

func (p *poll) park() {
	p.timer = p.h.loop().CallLater(p.h.e.cfg.LongPollTimeout, func() {
		p.timer = nil
		p.answer(nil, false)
	})
}

// unpark stops the wait (the poll stays in its hub).
func (p *poll) unpark() {
	if p.timer != nil {
		p.timer.Cancel()
		p.timer = nil
	}
}

// finish takes the poll out of its hub, once: it is answered or its
// client left.
func (p *poll) finish() {
	p.done = true
	p.unpark()
	if !p.joined {
		return
	}
	p.joined = false
	delete(p.h.polls, p)
	p.h.presence.depart(p.user)
	p.h.touch()
}

// answer sends events (nil: none, the timeout or a shutdown) and finishes.
func (p *poll) answer(events []*Event, more bool) {
	last := p.cursor
	if n := len(events); n > 0 {
		last = events[n-1].ID
	}
	p.answerJSON(eventsJSON(events, last, more))
}

// answerJSON sends an answer already encoded (flushPolls shares one among
// the polls that wait at the same cursor) and finishes.
func (p *poll) answerJSON(body []byte) {
	if p.done {
		return
	}
	p.finish()
	p.c.SetHeader("Content-Type", "application/json; charset=utf-8")
	p.c.SetHeader("Cache-Control", "no-store")
	p.c.Write(body)
	p.c.Finish()
}

// fail ends the poll with an error object (a kick, a session that ended).
func (p *poll) fail(r *Refusal) {
	if p.done {
		return
	}
	p.finish()
	failRequest(p.c, r)
}

// clientLeft forgets a poll whose client went away.
func (p *poll) clientLeft() { p.finish() }

// eventsJSON is the long poll's answer, spliced from the events' JSON.
func eventsJSON(events []*Event, last int64, more bool) []byte {
	b := []byte(`{"type":"events","events":`)
	b = appendEventArray(b, events)
	b = append(b, `,"last_id":`...)
	b = strconv.AppendInt(b, last, 10)
	b = append(b, `,"more":`...)
	b = strconv.AppendBool(b, more)
	return append(b, '}')
}

// appendEventArray appends the events' JSON as an array.
func appendEventArray(b []byte, events []*Event) []byte {
	b = append(b, '[')
	for i, ev := range events {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, ev.JSON...)
	}
	return append(b, ']')
}

// flushPolls answers every parked poll with what was published after its
// cursor. It runs one turn after a publish (hub.publish). Parked polls
// mostly wait at the same cursor (the last id when they parked), so the
// answer is encoded once per cursor and the same bytes go to each.
func (h *hub) flushPolls() {
	h.pollFlush = false
	parked := make([]*poll, 0, len(h.polls))
	for p := range h.polls {
		if p.parked() {
			parked = append(parked, p)
		}
	}
	answers := make(map[int64][]byte)
	for _, p := range parked {
		if body, ok := answers[p.cursor]; ok {
			p.answerJSON(body)
			continue
		}
		p.unpark()
		if !h.ring.covers(p.cursor) {
			p.start() // the ring moved past this cursor: from SQLite
			continue
		}
		pg, _ := h.fetch(p.cursor, h.e.cfg.PageSize).Result() // from the ring: already resolved
		if pg.reset || len(pg.events) == 0 {
			p.start() // answers the reset, or parks again
			continue
		}
		last := pg.events[len(pg.events)-1].ID
		answers[p.cursor] = eventsJSON(pg.events, last, pg.more)
		p.answerJSON(answers[p.cursor])
	}
}
