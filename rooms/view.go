package rooms

import (
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// The read side the pages use (package pages): the room list and the room
// page are rendered on the server from these snapshots, then the browser
// client takes over live from the cursor they carry.

// Person is someone present in a room.
type Person struct {
	Name  string
	Guest bool
}

// Listing is one room of the room list.
type Listing struct {
	Room         store.Room // live state when the room is active
	Online       int        // users present now
	LastID       int64      // the room's newest cursor
	LastActivity time.Time  // when the newest event was written; zero: none
}

// RoomView is a room as a page shows it when rendered: the room, the
// latest events, and who is online. A client that renders it connects
// with after=LastID and misses nothing: every event after LastID is
// replayed on its door.
type RoomView struct {
	Room        store.Room // as of LastID
	Events      []*Event   // the latest durable events up to LastID, oldest first
	More        bool       // events older than Events[0] exist
	LastID      int64      // the newest event the view includes (may be newer than Events' last: none after it)
	Online      []Person   // up to 100 of the users present, by name
	OnlineCount int
}

// Rooms lists the rooms not archived, oldest first, with their live
// state: up to store.MaxPageSize of them. Call it on the loop; it reads
// on the reads executor.
func (e *Engine) Rooms() *concurrent.Future[[]Listing] {
	st := e.cfg.Store
	read := ioloop.RunInExecutor(e.cfg.Reads, func() ([]Listing, error) {
		rooms, err := st.ListRooms(ctxBackground, 0, store.MaxPageSize, false)
		if err != nil {
			return nil, err
		}
		out := make([]Listing, 0, len(rooms))
		for _, r := range rooms {
			latest, err := st.EventsBefore(ctxBackground, r.ID, 0, 1, store.PublicView)
			if err != nil {
				return nil, err
			}
			l := Listing{Room: r}
			if len(latest) == 1 {
				l.LastID, l.LastActivity = latest[0].ID, latest[0].CreatedAt
			}
			out = append(out, l)
		}
		return out, nil
	})
	// Back on the loop: an active room's hub is newer than the read.
	return concurrent.Map(read, func(rooms []Listing) ([]Listing, error) {
		for i := range rooms {
			if h := e.hubs[rooms[i].Room.Name]; h != nil {
				rooms[i].Room, rooms[i].Online = h.room, h.presence.online()
				if h.lastID > rooms[i].LastID {
					rooms[i].LastID = h.lastID
					if newest := h.ring.newest(); newest != nil {
						rooms[i].LastActivity = newest.CreatedAt
					}
				}
			}
		}
		return rooms, nil
	})
}

// View reads the named room's latest limit events (at most
// store.MaxPageSize-1) for its page. It fails with a *Refusal (404) for an
// unknown room. Call it on the loop.
func (e *Engine) View(name string, limit int) *concurrent.Future[RoomView] {
	limit = max(1, min(limit, store.MaxPageSize-1))
	return concurrent.Then(e.loadHub(name), func(h *hub) *concurrent.Future[RoomView] {
		// The cursor is taken before the read: an event committed during
		// the read has a larger id and reaches the client by replay.
		view := RoomView{Room: h.room, LastID: h.lastID}
		st, roomID, room := e.cfg.Store, h.room.ID, h.room.Name
		read := ioloop.RunInExecutor(e.cfg.Reads, func() ([]*Event, error) {
			stored, err := st.EventsBefore(ctxBackground, roomID, view.LastID+1, limit+1, store.PublicView)
			events := make([]*Event, len(stored))
			for i, ev := range stored {
				events[i] = newEvent(room, ev)
			}
			return events, err
		})
		return concurrent.Map(read, func(events []*Event) (RoomView, error) {
			if view.More = len(events) > limit; view.More {
				events = events[1:] // oldest first: the extra one is the oldest
			}
			view.Events = events
			for _, u := range h.presence.list() {
				view.Online = append(view.Online, Person{Name: u.Name, Guest: u.Guest})
			}
			view.OnlineCount = h.presence.online()
			return view, nil
		})
	})
}
