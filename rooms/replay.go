package rooms

import (
	"errors"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// Resuming from a cursor: fetch finds the events after it (from the ring or
// from SQLite), replay feeds them to a connection page by page, pacing
// itself by the connection's backlog, and makes it live when it has caught
// up. rooms/doc.go ("Resume without gaps") says why this cannot lose or
// repeat an event.

// page is what fetch returns: events after a cursor, oldest first, whether
// more follow, or a reset when the cursor cannot be served.
type page struct {
	events []*Event
	more   bool
	reset  bool
}

// fetch returns up to limit events after cursor: from the ring when it
// covers the cursor (the future is then already resolved, so a caller that
// joins the live set in its callback does so in the same turn, with no
// event in between), else from SQLite on the reads executor. A cursor
// beyond the last id, or one that is not an event of this room, is a
// reset.
func (h *hub) fetch(cursor int64, limit int) *concurrent.Future[page] {
	if cursor > h.lastID {
		return concurrent.Resolved(page{reset: true})
	}
	if h.ring.covers(cursor) {
		if cursor > h.ring.base && !h.ring.has(cursor) {
			return concurrent.Resolved(page{reset: true}) // not an id of this room
		}
		events := h.ring.after(cursor, limit+1)
		more := len(events) > limit
		return concurrent.Resolved(page{events: events[:min(len(events), limit)], more: more})
	}
	return concurrent.Map(h.readAfter(cursor, limit), func(p page) (page, error) {
		// Keep only what was published here: an event committed but whose
		// callback has not reached the loop yet comes live, once.
		for i, ev := range p.events {
			if ev.ID > h.lastID {
				p.events = p.events[:i]
				break
			}
		}
		last := cursor
		if n := len(p.events); n > 0 {
			last = p.events[n-1].ID
		}
		p.more = !p.reset && last < h.lastID
		return p, nil
	})
}

// readAfter reads a page from SQLite, checking first that cursor is an
// event of this room. The events are encoded on the executor's goroutine.
func (h *hub) readAfter(cursor int64, limit int) *concurrent.Future[page] {
	st, roomID, name := h.e.cfg.Store, h.room.ID, h.room.Name
	return ioloop.RunInExecutor(h.e.cfg.Reads, func() (page, error) {
		if cursor > 0 {
			owner, err := st.EventRoomID(ctxBackground, cursor)
			if errors.Is(err, store.ErrNotFound) || err == nil && owner != roomID {
				return page{reset: true}, nil
			}
			if err != nil {
				return page{}, err
			}
		}
		stored, err := st.EventsAfter(ctxBackground, roomID, cursor, limit, store.PublicView)
		if err != nil {
			return page{}, err
		}
		events := make([]*Event, len(stored))
		for i, ev := range stored {
			events[i] = newEvent(name, ev)
		}
		return page{events: events}, nil
	})
}

// A replayer is a connection catching up from a cursor: a WebSocket or a
// stream. replay feeds it page after page until it has everything, then
// makes it live.
type replayer interface {
	gone() bool               // the connection closed: stop
	sendEvent(ev *Event) bool // false: it was dropped (too far behind)
	behind() bool             // it has a lot queued: wait before the next page
	sendReset(lastID int64)   // its cursor cannot be served
	goLive()                  // caught up: add it to the live set
	replayFailed(err error)   // the store failed
	dropSlow()                // it took nothing for Config.ReplayStall: let it go
}

// replayPause is how long replay waits for a connection that is behind
// before it sends more.
const replayPause = 20 * time.Millisecond

// replayTurnBytes bounds what one replay writes in one turn of the loop, so
// a client catching up on megabytes never holds the loop for long.
const replayTurnBytes = 256 << 10

// replay catches r up from cursor, then makes it live. The move to live
// happens in the same turn of the loop as the fetch that found nothing
// more to send, so no event can be published between the last replayed
// one and the moment r joins the live set.
func (h *hub) replay(cursor int64, r replayer) {
	if r.gone() {
		return
	}
	h.fetch(cursor, h.e.cfg.PageSize).OnResult(func(p page, err error) {
		switch {
		case r.gone():
		case err != nil:
			r.replayFailed(err)
		case p.reset:
			r.sendReset(h.lastID)
			r.goLive()
		default:
			h.replayPage(cursor, p, r, true)
		}
	})
}

// replayPage sends p's events, pausing (replayLater) when r falls behind
// or this turn's budget is spent. fresh says p was fetched in this very
// turn, so its "more" is current: without more, r goes live now. A page
// resumed on a later turn is stale (events may have been published since),
// so at its end the replay fetches again, and goes live in that turn.
func (h *hub) replayPage(cursor int64, p page, r replayer, fresh bool) {
	if r.gone() {
		return
	}
	sent := 0
	for i, ev := range p.events {
		if !r.sendEvent(ev) {
			return
		}
		cursor = ev.ID
		sent += len(ev.JSON)
		rest := page{events: p.events[i+1:], more: p.more}
		if mustPause(r, sent) && (len(rest.events) > 0 || rest.more || !fresh) {
			h.replayLater(cursor, rest, r)
			return
		}
	}
	if fresh && !p.more {
		r.goLive()
		return
	}
	h.replay(cursor, r)
}

// mustPause reports whether a replay that has sent sent bytes this turn
// stops for now: its connection is behind (large events fill its bound
// before a page ends) or the turn's budget is spent (the loop has other
// connections to serve).
func mustPause(r replayer, sent int) bool { return r.behind() || sent >= replayTurnBytes }

// replayLater resumes a page on a later turn, once r has drained.
func (h *hub) replayLater(cursor int64, rest page, r replayer) {
	h.replayWhenDrained(cursor, rest, r, time.Now().Add(h.e.cfg.ReplayStall))
}

func (h *hub) replayWhenDrained(cursor int64, rest page, r replayer, deadline time.Time) {
	switch {
	case r.gone():
	case !r.behind():
		h.loop().AddCallback(func() { h.replayPage(cursor, rest, r, false) })
	case time.Now().After(deadline):
		r.dropSlow()
	default:
		h.loop().CallLater(replayPause, func() { h.replayWhenDrained(cursor, rest, r, deadline) })
	}
}
