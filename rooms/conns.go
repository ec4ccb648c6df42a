package rooms

import (
	"cmp"
	"net/http"
	"slices"
	"time"

	"chat/accounts"
	"chat/framework/web"
)

// The connection registry: every open connection on every door, for the
// admin dashboard's inspector and for kicks. There is no registry of its
// own to keep in step: a connection is in its hub from the moment it
// opens until it ends (socket.OnOpen to OnClose, stream.open to leave,
// poll.start to finish), so the hubs are the registry, and a listing or a
// kick walks them. That costs one pass over the open connections, which
// an admin's click can afford; the doors' hot paths pay nothing but the
// few fields of connMeta. Everything here is loop-only.

// Door names how a connection reaches its room.
type Door string

// The three doors.
const (
	DoorWebSocket Door = "ws"
	DoorSSE       Door = "sse"
	DoorPoll      Door = "poll"
)

// ConnInfo is one open connection as the inspector shows it.
type ConnInfo struct {
	ID       uint64 // unique in this process, never reused; KickConnection takes it
	Door     Door
	UserID   int64
	UserName string
	Guest    bool
	Room     string
	Address  string    // the client's address (the request's RemoteIP, after X-Forwarded-For when the server trusts it)
	Since    time.Time // when the connection arrived
	// QueuedBytes is what the server holds for the client and the kernel
	// has not taken: a WebSocket's pending writes, a stream's unflushed
	// and unsent bytes; 0 for a long poll, which holds nothing but its
	// cursor.
	QueuedBytes int
	// LastRead is when the server last read from the client: its last
	// frame on a WebSocket, the request itself on a stream or a long poll
	// (neither sends anything after its request).
	LastRead time.Time
}

// connMeta is what every connection records for the registry, set when
// its request arrives.
type connMeta struct {
	id       uint64
	address  string
	since    time.Time
	lastRead time.Time
}

// newConnMeta numbers a connection arriving on c.
func (e *Engine) newConnMeta(c *web.Context) connMeta {
	e.lastConnID++
	now := e.now()
	return connMeta{id: e.lastConnID, address: c.Request().RemoteIP, since: now, lastRead: now}
}

// conn is a connection on any door.
type conn interface {
	meta() *connMeta
	door() Door
	owner() *accounts.User
	// sessionVersion is the session version the connection's cookie held.
	sessionVersion() int64
	queued() int
	// closeWith closes the connection with r: a WebSocket with close code code
	// and r's message as the reason, a long poll answered r (status and
	// error object), a stream ended after r as an error event.
	closeWith(code int, r *Refusal)
}

func (s *socket) meta() *connMeta                { return &s.connMeta }
func (s *socket) door() Door                     { return DoorWebSocket }
func (s *socket) owner() *accounts.User          { return s.user }
func (s *socket) sessionVersion() int64          { return s.version }
func (s *socket) queued() int                    { return s.conn.PendingWriteBytes() }
func (s *socket) closeWith(code int, r *Refusal) { s.conn.Close(code, r.Message) }

func (s *stream) meta() *connMeta       { return &s.connMeta }
func (s *stream) door() Door            { return DoorSSE }
func (s *stream) owner() *accounts.User { return s.user }
func (s *stream) sessionVersion() int64 { return s.version }
func (s *stream) queued() int {
	return s.c.Response().BodyLen() + s.c.Response().PendingWriteBytes()
}
func (s *stream) closeWith(_ int, r *Refusal) { s.endWith(encodeFrame(errorFrame(r, ""))) }

func (p *poll) meta() *connMeta             { return &p.connMeta }
func (p *poll) door() Door                  { return DoorPoll }
func (p *poll) owner() *accounts.User       { return p.user }
func (p *poll) sessionVersion() int64       { return p.version }
func (p *poll) queued() int                 { return 0 }
func (p *poll) closeWith(_ int, r *Refusal) { p.fail(r) }

// eachConn calls fn for every connection of the hub, on every door. fn
// may end the connection it is given.
func (h *hub) eachConn(fn func(conn)) {
	for s := range h.sockets {
		if s.conn.Open() { // not one already closing
			fn(s)
		}
	}
	for s := range h.streams {
		fn(s)
	}
	for p := range h.polls {
		fn(p)
	}
}

func (h *hub) info(c conn) ConnInfo {
	m, u := c.meta(), c.owner()
	return ConnInfo{ID: m.id, Door: c.door(), UserID: u.ID, UserName: u.Name, Guest: u.Guest,
		Room: h.room.Name, Address: m.address, Since: m.since, QueuedBytes: c.queued(), LastRead: m.lastRead}
}

// Connections lists every open connection now, on every door, oldest
// first. Loop-only: the admin dashboard calls it on the loop.
func (e *Engine) Connections() []ConnInfo {
	var out []ConnInfo
	for _, h := range e.hubs {
		h.eachConn(func(c conn) { out = append(out, h.info(c)) })
	}
	slices.SortFunc(out, func(a, b ConnInfo) int {
		return cmp.Or(a.Since.Compare(b.Since), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// KickConnection closes one connection with a reason the client shows, as
// Kick does for every connection of a user: a WebSocket with close code
// 4000, a long poll answered 403 with code kicked, a stream ended after a
// kicked error event. It reports whether the connection was open.
// Loop-only.
func (e *Engine) KickConnection(id uint64, reason string) bool {
	r := kickRefusal(reason)
	for _, h := range e.hubs {
		var found conn
		h.eachConn(func(c conn) {
			if c.meta().id == id {
				found = c
			}
		})
		if found != nil {
			found.closeWith(CloseKicked, r)
			return true
		}
	}
	return false
}

func kickRefusal(reason string) *Refusal {
	return refuse(http.StatusForbidden, "kicked", "%s", reasonOr(reason))
}

// closeUser closes every connection of userID in this room, on every
// door, with r (a WebSocket with code), and returns how many it closed.
func (h *hub) closeUser(userID int64, code int, r *Refusal) int {
	n := 0
	h.eachConn(func(c conn) {
		if c.owner().ID == userID {
			c.closeWith(code, r)
			n++
		}
	})
	return n
}
