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
	hd.e.withRoom(c, func(u *accounts.User, h *hub, _ int64) {
		if cursor == noCursor {
			cursor = h.lastID
		}
		hd.p = &poll{h: h, c: c, user: u, cursor: cursor}
		hd.p.start()
	})
}

// OnConnectionClose drops the waiter of a client that left.
func (hd *pollHandler) OnConnectionClose(*web.Context) {
	if hd.p != nil {
		hd.p.drop()
	}
}

// poll is one long-poll request. Loop-owned.
type poll struct {
	h      *hub
	c      *web.Context
	user   *accounts.User
	cursor int64
	timer  *ioloop.Timer
	done   bool
}

// start answers from what exists after the cursor, or parks.
func (p *poll) start() {
	p.h.fetch(p.cursor, p.h.e.cfg.PageSize).OnResult(func(pg page, err error) {
		switch {
		case p.done || p.c.Finished():
			return
		case err != nil:
			p.done = true
			p.c.Fail(err)
		case pg.reset:
			p.done = true
			p.c.WriteJSON(wireReset{Type: "reset", LastID: p.h.lastID})
			p.c.Finish()
		case len(pg.events) > 0:
			p.answer(pg.events, pg.more)
		case p.h.e.closing:
			p.answer(nil, false) // a shutdown began while it read: do not park
		default:
			p.park()
		}
	})
}

func (p *poll) park() {
	h := p.h
	h.polls[p] = struct{}{}
	h.presence.arrive(p.user)
	h.touch()
	p.timer = h.loop().CallLater(h.e.cfg.LongPollTimeout, func() {
		p.timer = nil
		p.answer(nil, false)
	})
}

// unpark takes the poll out of its hub.
func (p *poll) unpark() {
	h := p.h
	if _, ok := h.polls[p]; !ok {
		return
	}
	delete(h.polls, p)
	if p.timer != nil {
		p.timer.Cancel()
		p.timer = nil
	}
	h.presence.depart(p.user)
	h.touch()
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
	p.done = true
	p.unpark()
	p.c.SetHeader("Content-Type", "application/json; charset=utf-8")
	p.c.SetHeader("Cache-Control", "no-store")
	p.c.Write(body)
	p.c.Finish()
}

// refuse ends the poll with an error (a kick).
func (p *poll) refuse(r *Refusal) {
	if p.done {
		return
	}
	p.done = true
	p.unpark()
	failRequest(p.c, r)
}

// drop forgets a poll whose client left.
func (p *poll) drop() {
	p.done = true
	p.unpark()
}

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
		parked = append(parked, p)
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
