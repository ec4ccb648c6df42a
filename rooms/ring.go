package rooms

import (
	"sort"

	"chat/store"
)

// ring holds a room's most recent durable events, oldest first, so that a
// client resuming from a recent cursor is served from memory. It is
// complete above base: every event of the room with an id greater than
// base is in it. When it is full, pushing drops the oldest event and base
// moves up to that event's id. Loop-owned, like its hub.
type ring struct {
	events []*Event // circular, capacity len(events)
	start  int      // index of the oldest event
	n      int      // events held
	base   int64    // the ring holds every event with id > base
}

func newRing(capacity int, base int64) ring {
	return ring{events: make([]*Event, capacity), base: base}
}

// at returns the i-th oldest event held.
func (r *ring) at(i int) *Event { return r.events[(r.start+i)%len(r.events)] }

// push appends ev, whose id must exceed every id held.
func (r *ring) push(ev *Event) {
	if r.n == len(r.events) {
		oldest := r.at(0)
		r.events[r.start] = nil
		r.start = (r.start + 1) % len(r.events)
		r.n--
		r.base = oldest.ID
	}
	r.events[(r.start+r.n)%len(r.events)] = ev
	r.n++
}

// newest returns the newest event held, nil when empty.
func (r *ring) newest() *Event {
	if r.n == 0 {
		return nil
	}
	return r.at(r.n - 1)
}

// covers reports whether the ring can serve every event after cursor.
func (r *ring) covers(cursor int64) bool { return cursor >= r.base }

// has reports whether an event with this id is held.
func (r *ring) has(id int64) bool {
	i := r.search(id)
	return i < r.n && r.at(i).ID == id
}

// search returns the index of the first event with an id >= id.
func (r *ring) search(id int64) int {
	return sort.Search(r.n, func(i int) bool { return r.at(i).ID >= id })
}

// after returns up to limit events with ids above cursor, oldest first.
func (r *ring) after(cursor int64, limit int) []*Event {
	i := r.search(cursor + 1)
	out := make([]*Event, 0, min(limit, r.n-i))
	for ; i < r.n && len(out) < limit; i++ {
		out = append(out, r.at(i))
	}
	return out
}

// redact replaces the events of a deleted message (the message and its
// edits) with copies that no longer carry its text, as store.PublicView
// reads them, so a client resuming from memory learns no more than one
// reading SQLite.
func (r *ring) redact(room string, msgID int64) {
	for i := range r.n {
		ev := r.at(i)
		if ev.MessageID != msgID || (ev.Kind != store.EventMessage && ev.Kind != store.EventEdit) {
			continue
		}
		stored := ev.Event
		stored.Body = ""
		r.events[(r.start+i)%len(r.events)] = newEvent(room, stored)
	}
}
