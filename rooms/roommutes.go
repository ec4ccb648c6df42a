package rooms

import (
	"log/slog"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/store"
)

// Mutes in one room (store.MuteInRoomAs): each hub keeps the mutes of its
// room in force, by user id, read with the room when the hub loads and
// read again by RoomMutesChanged after the dashboard changes one. The post
// pipeline's check (post.go) consults it, so a refused post costs no
// read. A mute's end is judged at each check, so one that has run out
// stops counting without a reload. At most MaxRoomMutes mutes per room
// are held (the lowest user ids); past that, mutes are logged and not
// enforced. Loop-only.

// MaxRoomMutes bounds the mutes one hub holds.
const MaxRoomMutes = 10000

// readRoomMutes reads the room's mutes in force at now; it runs on an
// executor, so it takes nothing from the engine but its logger.
func readRoomMutes(st *store.Store, roomID int64, now time.Time, logger *slog.Logger) (map[int64]store.RoomMute, error) {
	out := make(map[int64]store.RoomMute)
	after := int64(0)
	for len(out) < MaxRoomMutes {
		page, err := st.RoomMutes(ctxBackground, roomID, now, after, store.MaxPageSize)
		if err != nil {
			return nil, err
		}
		for _, m := range page {
			out[m.UserID] = m
		}
		if len(page) < store.MaxPageSize {
			return out, nil
		}
		after = page[len(page)-1].UserID
	}
	logger.Warn("room mutes past the engine's bound are not enforced", "room", roomID, "bound", MaxRoomMutes)
	return out, nil
}

// roomMute is the user's mute in force in the hub's room, if any.
func (h *hub) roomMute(userID int64) (store.RoomMute, bool) {
	m, ok := h.mutes[userID]
	if !ok || !m.MutedAt(h.e.now()) {
		return store.RoomMute{}, false
	}
	return m, true
}

// RoomMutesChanged applies a change to the mutes of the named room that
// the dashboard has just stored: the room's hub, when it is active (or
// loading), reads its mutes again, and posts are judged by them once the
// future resolves. A room not active has nothing to update: its hub reads
// them when it loads. It fails when the store cannot be read; the old
// mutes stay then.
func (e *Engine) RoomMutesChanged(room string) *concurrent.Future[struct{}] {
	if f := e.loading[room]; f != nil {
		// The load may have read the mutes before the change.
		return concurrent.Then(f, func(*hub) *concurrent.Future[struct{}] { return e.RoomMutesChanged(room) })
	}
	h := e.hubs[room]
	if h == nil {
		return concurrent.Resolved(struct{}{})
	}
	h.mutesGen++
	gen, st, id, now, logger := h.mutesGen, e.cfg.Store, h.room.ID, e.now(), e.cfg.Logger
	f := concurrent.New[struct{}]()
	h.mutesNew = f
	ioloop.RunInExecutor(e.cfg.Reads, func() (map[int64]store.RoomMute, error) {
		return readRoomMutes(st, id, now, logger)
	}).OnResult(func(m map[int64]store.RoomMute, err error) {
		if h.mutesNew == f {
			h.mutesNew = nil
		}
		switch {
		case h.mutesGen != gen:
			// A later reload, started after a later change, installs its
			// own read (this one may predate that change): this one is
			// done when that one is.
			if later := h.mutesNew; later != nil {
				later.OnResult(func(_ struct{}, err error) { f.Set(struct{}{}, err) })
			} else {
				f.Resolve(struct{}{})
			}
		case err != nil:
			f.Fail(err)
		default:
			h.mutes = m
			f.Resolve(struct{}{})
		}
	})
	return f
}
