package rooms

import (
	"encoding/json"
	"time"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/websocket"
	"chat/store"
)

// hub is one active room: everyone connected to it on every door, the
// ring of its recent events, its presence, and the per-user state of its
// rules (slow mode, typing). Loop-owned: no mutex anywhere, because every
// method runs on the loop (ARCHITECTURE.md §2).
type hub struct {
	e      *Engine
	room   store.Room // its state as of lastID: room events update it
	lastID int64      // the newest event published here
	ring   ring

	sockets map[*socket]struct{} // every WebSocket, catching up or live
	live    websocket.Group      // the WebSockets that are caught up: broadcasts go here
	polls   map[*poll]struct{}   // long polls from start to answer (reading or parked)
	streams map[*stream]struct{} // every SSE stream, catching up or live (stream.live)

	presence presence
	typing   map[int64]time.Time          // when each user's typing was last relayed
	lastPost map[int64]time.Time          // when each user last posted, for slow mode
	acks     recentAcks                   // acks of recent sends by client key, for retries
	inflight int                          // writes submitted and not yet committed
	mutes    map[int64]store.RoomMute     // mutes in this room by user id (roommutes.go)
	mutesGen int                          // reloads of mutes started
	mutesNew *concurrent.Future[struct{}] // the latest reload, while in flight

	pollFlush bool          // a flush of the parked polls is scheduled
	idle      *ioloop.Timer // runs drop once the hub has been empty for HubIdle
}

func newHub(e *Engine, room store.Room, lastID int64) *hub {
	h := &hub{
		e: e, room: room, lastID: lastID,
		ring:     newRing(e.cfg.RingSize, lastID),
		sockets:  make(map[*socket]struct{}),
		polls:    make(map[*poll]struct{}),
		streams:  make(map[*stream]struct{}),
		typing:   make(map[int64]time.Time),
		lastPost: make(map[int64]time.Time),
		acks:     newRecentAcks(recentAckLimit),
	}
	h.presence = newPresence(h)
	return h
}

func (h *hub) loop() *ioloop.Loop { return h.e.cfg.Loop }

// empty reports whether nothing keeps the hub: no connection on any door,
// nobody in presence's grace period, no write in flight.
func (h *hub) empty() bool {
	return len(h.sockets) == 0 && len(h.polls) == 0 && len(h.streams) == 0 &&
		h.inflight == 0 && h.presence.empty()
}

// touch re-arms or cancels the idle timer after the hub gained or lost
// something. Call it after every change to what empty counts.
func (h *hub) touch() {
	if !h.empty() {
		if h.idle != nil {
			h.idle.Cancel()
			h.idle = nil
		}
		return
	}
	if h.idle == nil {
		h.idle = h.loop().CallLater(h.e.cfg.HubIdle, func() {
			h.idle = nil
			if h.empty() {
				h.e.drop(h)
			}
		})
	}
}

// release cancels the hub's timers when it is dropped.
func (h *hub) release() {
	if h.idle != nil {
		h.idle.Cancel()
		h.idle = nil
	}
	h.presence.release()
}

// publish sends a committed event to every door, in id order. Events reach
// a hub in commit order (the store's writer reports commits in order, and
// the loop runs its callbacks in order), so ids only grow here.
func (h *hub) publish(ev *Event) {
	if ev.ID <= h.lastID {
		return // already published (a broker's echo)
	}
	switch ev.Kind {
	case store.EventDelete:
		h.ring.redact(h.room.Name, ev.MessageID)
	case store.EventRoom:
		h.applyRoomChange(ev.Data)
	}
	h.ring.push(ev)
	h.lastID = ev.ID
	n := h.live.Broadcast(websocket.NewPreparedMessage(websocket.OpText, ev.JSON))
	var framed []byte // the SSE form, made once for every stream
	for s := range h.streams {
		if s.live {
			if framed == nil {
				framed = sseMessage(ev.ID, ev.JSON)
			}
			s.sendFramed(framed)
			n++
		}
	}
	h.e.stats.deliveries += uint64(n + len(h.polls))
	if len(h.polls) > 0 && !h.pollFlush {
		// Answer the parked polls on the loop's next turn, so that a group
		// commit's whole batch, whose callbacks run in this turn, goes in
		// one answer rather than one answer (and one re-poll) per event.
		h.pollFlush = true
		h.loop().AddCallback(h.flushPolls)
	}
}

// broadcastEphemeral sends a frame that is not part of the log (presence,
// typing) to the live WebSockets and streams. Long polls do not get them.
func (h *hub) broadcastEphemeral(frame []byte) {
	h.live.Broadcast(websocket.NewPreparedMessage(websocket.OpText, frame))
	var framed []byte
	for s := range h.streams {
		if s.live {
			if framed == nil {
				framed = sseMessage(-1, frame)
			}
			s.sendFramed(framed)
		}
	}
}

// roomChanges is the Data of a room event.
type roomChanges struct {
	Title    *string `json:"title"`
	Topic    *string `json:"topic"`
	Locked   *bool   `json:"locked"`
	Archived *bool   `json:"archived"`
	SlowMode *int    `json:"slow_mode"`
}

func (h *hub) applyRoomChange(data string) {
	var c roomChanges
	if json.Unmarshal([]byte(data), &c) != nil {
		return
	}
	if c.Title != nil {
		h.room.Title = *c.Title
	}
	if c.Topic != nil {
		h.room.Topic = *c.Topic
	}
	if c.Locked != nil {
		h.room.Locked = *c.Locked
	}
	if c.Archived != nil {
		h.room.Archived = *c.Archived
	}
	if c.SlowMode != nil {
		h.room.SlowMode = *c.SlowMode
	}
}

// shutdown answers everyone: 1001 to WebSockets, an empty answer to parked
// polls, the end to streams.
func (h *hub) shutdown() {
	for s := range h.sockets {
		s.conn.Close(websocket.CloseGoingAway, "server restarting")
	}
	for p := range h.polls {
		p.answer(nil, false)
	}
	for s := range h.streams {
		s.end()
	}
}

// relayTyping relays that u is typing, at most once per TypingInterval
// per user.
func (h *hub) relayTyping(u *accounts.User) {
	now := h.e.now()
	if last, ok := h.typing[u.ID]; ok && now.Sub(last) < h.e.cfg.TypingInterval {
		return
	}
	if len(h.typing) >= maxTrackedUsers {
		pruneBefore(h.typing, now.Add(-h.e.cfg.TypingInterval))
	}
	h.typing[u.ID] = now
	h.broadcastEphemeral(encodeFrame(wireTyping{Type: "typing", User: u.Name}))
}

// maxTrackedUsers bounds the per-user maps of a hub (typing, slow mode):
// past it, entries that no longer matter are pruned.
const maxTrackedUsers = 4096

func pruneBefore(m map[int64]time.Time, cutoff time.Time) {
	for id, t := range m {
		if t.Before(cutoff) {
			delete(m, id)
		}
	}
}

// wireRoom is the protocol's room object.
type wireRoom struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	Topic    string `json:"topic"`
	Online   int    `json:"online"`
	Locked   bool   `json:"locked"`
	Archived bool   `json:"archived"`
	SlowMode int    `json:"slow_mode"`
	LastID   int64  `json:"last_id"`
}

func (h *hub) wire() wireRoom {
	return roomWire(h.room, h.presence.online(), h.lastID)
}

func roomWire(r store.Room, online int, lastID int64) wireRoom {
	return wireRoom{Name: r.Name, Title: r.Title, Topic: r.Topic, Online: online,
		Locked: r.Locked, Archived: r.Archived, SlowMode: r.SlowMode, LastID: lastID}
}
