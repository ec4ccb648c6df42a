package rooms

import (
	"slices"
	"strings"

	"chat/accounts"
	"chat/framework/ioloop"
)

// presence counts who is in a room: users, not connections. A user's first
// connection makes them join; when their last one closes they leave only
// after the grace period, so a reload (close, then open within a few
// seconds) says nothing. Joins and leaves are collected and sent at most
// once per PresenceFlush; a flush with many changes sends one snapshot
// instead, so a thousand people arriving at once cost one frame per member,
// not a thousand. Loop-owned, part of its hub.
type presence struct {
	h       *hub
	users   map[int64]*present
	changes []wirePresenceChange
	flush   *ioloop.Timer
}

// present is one user in the room.
type present struct {
	name    string
	guest   bool
	conns   int           // open connections on any door
	leaving *ioloop.Timer // the grace period after the last one closed
}

// maxChangesSent is the most join/leave frames one flush sends; past it, a
// snapshot replaces them.
const maxChangesSent = 10

// maxOnlineListed bounds the users listed in a hello or a snapshot.
const maxOnlineListed = 100

func newPresence(h *hub) presence { return presence{h: h, users: make(map[int64]*present)} }

// online is how many users are in the room.
func (p *presence) online() int { return len(p.users) }

// empty reports whether nobody is present, not even in a grace period.
func (p *presence) empty() bool { return len(p.users) == 0 }

// arrive counts a new connection of u.
func (p *presence) arrive(u *accounts.User) {
	if pu := p.users[u.ID]; pu != nil {
		pu.conns++
		if pu.leaving != nil { // back within the grace period: no leave, no join
			pu.leaving.Cancel()
			pu.leaving = nil
		}
		return
	}
	p.users[u.ID] = &present{name: u.Name, guest: u.Guest, conns: 1}
	p.record("join", u.Name, u.Guest)
}

// depart counts a closed connection of u.
func (p *presence) depart(u *accounts.User) {
	pu := p.users[u.ID]
	if pu == nil || pu.conns == 0 {
		return
	}
	pu.conns--
	if pu.conns > 0 {
		return
	}
	pu.leaving = p.h.loop().CallLater(p.h.e.cfg.PresenceGrace, func() {
		if p.users[u.ID] != pu {
			return
		}
		delete(p.users, u.ID)
		p.record("leave", pu.name, pu.guest)
		p.h.touch()
	})
}

// record queues a change for the next flush.
func (p *presence) record(kind, name string, guest bool) {
	p.changes = append(p.changes, wirePresenceChange{Type: kind, User: name, Guest: guest})
	if p.flush == nil {
		p.flush = p.h.loop().CallLater(p.h.e.cfg.PresenceFlush, p.send)
	}
}

// send flushes the queued changes.
func (p *presence) send() {
	p.flush = nil
	changes := p.changes
	p.changes = nil
	if len(changes) > maxChangesSent {
		p.h.broadcastEphemeral(encodeFrame(p.snapshot()))
		return
	}
	for _, c := range changes {
		p.h.broadcastEphemeral(encodeFrame(c))
	}
}

// snapshot is the presence frame: who is online (see list) and how many.
func (p *presence) snapshot() wirePresence {
	return wirePresence{Type: "presence", Online: p.list(), OnlineCount: len(p.users)}
}

// list returns up to maxOnlineListed users, sorted by name. In a room with
// more, which ones is arbitrary: the count says how many there are, and
// picking the alphabetically first would sort every member on every
// connect.
func (p *presence) list() []wireUser {
	out := make([]wireUser, 0, min(len(p.users), maxOnlineListed))
	for _, pu := range p.users {
		if len(out) == maxOnlineListed {
			break
		}
		out = append(out, wireUser{Name: pu.name, Guest: pu.guest})
	}
	slices.SortFunc(out, func(a, b wireUser) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// release cancels the timers of a dropped hub.
func (p *presence) release() {
	if p.flush != nil {
		p.flush.Cancel()
		p.flush = nil
	}
	for _, pu := range p.users {
		if pu.leaving != nil {
			pu.leaving.Cancel()
		}
	}
}
