package rooms

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"chat/accounts"
	"chat/framework/web"
	"chat/framework/websocket"
)

// The WebSocket door: GET /api/rooms/{room}/ws?after=ID.

// socketHandler answers the upgrade once the session's user and the room's
// hub are known.
type socketHandler struct{ e *Engine }

func (hd socketHandler) Get(c *web.Context) {
	cursor, err := cursorArgument(c, "after")
	if err != nil {
		failRequest(c, err)
		return
	}
	hd.e.withRoom(c, func(u *accounts.User, h *hub, version int64) {
		s := &socket{h: h, user: u, version: version, cursor: cursor, connMeta: hd.e.newConnMeta(c)}
		if _, err := websocket.Upgrade(c.Response(), c.Request(), s, h.e.cfg.WebSocket); err != nil {
			return // Upgrade answered the handshake's error itself
		}
	})
}

// socket is one member's WebSocket in a room. It is its connection's
// Handler. Loop-owned.
type socket struct {
	h       *hub
	conn    *websocket.Conn
	user    *accounts.User
	version int64 // the session version its cookie held
	cursor  int64 // the replay's start; noCursor: live from now
	closed  bool
	connMeta
}

// noCursor means the request gave no cursor: the connection starts live.
const noCursor = -1

func (s *socket) OnOpen(c *websocket.Conn) {
	h := s.h
	s.conn = c
	h.sockets[s] = struct{}{}
	h.e.cfg.Sessions.Hold(s.user)
	h.presence.arrive(s.user)
	h.touch()
	c.WriteMessage(websocket.OpText, encodeFrame(h.hello(s.user)))
	if s.cursor == noCursor {
		s.goLive()
		return
	}
	h.replay(s.cursor, s)
}

func (s *socket) OnClose(c *websocket.Conn, code int, reason string) {
	h := s.h
	s.closed = true
	h.live.Remove(c)
	delete(h.sockets, s)
	h.presence.depart(s.user)
	h.e.cfg.Sessions.Release(s.user)
	h.touch()
}

// clientFrame is every frame a client may send.
type clientFrame struct {
	Type string `json:"type"`
	Body string `json:"body"`
	Key  string `json:"key"`
	Msg  int64  `json:"msg"`
}

func (s *socket) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	s.lastRead = s.h.e.now()
	if !accounts.SessionValid(s.user, s.version, s.h.e.now()) {
		c.Close(CloseSessionEnded, sessionEndedReason(s.user, s.h.e.now()))
		return
	}
	if op != websocket.OpText {
		c.Close(websocket.CloseUnsupportedData, "binary frames are not accepted")
		return
	}
	var f clientFrame
	if err := json.Unmarshal(data, &f); err != nil {
		s.sendError(refuse(http.StatusBadRequest, "invalid", "The frame is not a JSON object: %v", err), "")
		return
	}
	var a action
	switch f.Type {
	case "send":
		a = action{kind: actSend, body: f.Body, key: f.Key}
	case "edit":
		a = action{kind: actEdit, body: f.Body, key: f.Key, msgID: f.Msg}
	case "delete":
		a = action{kind: actDelete, key: f.Key, msgID: f.Msg}
	case "typing":
		s.h.relayTyping(s.user)
		return
	default:
		s.sendError(refuse(http.StatusBadRequest, "invalid", "Unknown frame type %q.", f.Type), f.Key)
		return
	}
	a.address = s.address
	s.h.e.act(s.h, s.user, a).OnResult(func(reply Ack, err error) {
		if s.closed {
			return // the client resends with its key and gets the same ack
		}
		if err != nil {
			s.sendError(err, f.Key)
			return
		}
		c.WriteMessage(websocket.OpText, encodeFrame(ackFrame(reply)))
	})
}

func ackFrame(a Ack) wireAck {
	return wireAck{Type: "ack", Key: a.Key, ID: a.EventID, Msg: a.MessageID, TS: a.At}
}

// sendError sends the protocol's error object for err.
func (s *socket) sendError(err error, key string) {
	s.conn.WriteMessage(websocket.OpText, encodeFrame(errorFrame(err, key)))
}

func errorFrame(err error, key string) wireError {
	var r *Refusal
	if !errors.As(err, &r) {
		r = refuse(http.StatusInternalServerError, "unavailable", "Something went wrong on the server.")
	}
	return wireError{Type: "error", Code: r.Code, Message: r.Message, Key: key, RetryAfter: r.retryAfterSeconds()}
}

// The replayer side (hub.replay).

func (s *socket) gone() bool { return s.closed }

func (s *socket) sendEvent(ev *Event) bool {
	return s.conn.WriteMessage(websocket.OpText, ev.JSON) == nil
}

// behind: more than a quarter of the pending-write bound is queued.
func (s *socket) behind() bool {
	return s.conn.PendingWriteBytes() > maxPendingWriteBytes(s.h.e.cfg.WebSocket)/4
}

func (s *socket) sendReset(lastID int64) {
	s.conn.WriteMessage(websocket.OpText, encodeFrame(wireReset{Type: "reset", LastID: lastID}))
}

func (s *socket) goLive() {
	if !s.closed {
		s.h.live.Add(s.conn)
	}
}

func (s *socket) dropSlow() {
	s.conn.Close(websocket.CloseTryAgainLater, "too slow: reconnect with your cursor")
}

func (s *socket) replayFailed(err error) {
	s.h.e.cfg.Logger.Error("rooms: replay failed", "room", s.h.room.Name, "err", err)
	s.conn.Close(websocket.CloseInternalError, "history is unavailable; reconnect in a moment")
}

// maxPendingWriteBytes is the bound the websocket package applies.
func maxPendingWriteBytes(o *websocket.Options) int {
	if o.MaxPendingWriteBytes > 0 {
		return o.MaxPendingWriteBytes
	}
	return 1 << 20 // the websocket package's default
}

// hello is the first frame of a WebSocket and a stream.
type wireHello struct {
	Type        string            `json:"type"`
	User        accounts.WireUser `json:"user"`
	Room        wireRoom          `json:"room"`
	LastID      int64             `json:"last_id"`
	Online      []wireUser        `json:"online"`
	OnlineCount int               `json:"online_count"`
}

func (h *hub) hello(u *accounts.User) wireHello {
	return wireHello{Type: "hello", User: u.Wire(), Room: h.wire(), LastID: h.lastID,
		Online: h.presence.list(), OnlineCount: h.presence.online()}
}

// sessionEndedReason says why a connection's session no longer holds.
func sessionEndedReason(u *accounts.User, now time.Time) string {
	if u.BannedAt(now) {
		return refuseUntil(http.StatusForbidden, "banned", u.BannedUntil, now, "You are banned: %s", reasonOr(u.BanReason)).Message
	}
	return "Your session ended; sign in again."
}
