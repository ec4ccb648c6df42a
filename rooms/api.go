package rooms

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"chat/accounts"
	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/store"
)

// Routes are the engine's routes: the three doors and the HTTP API
// (docs/protocol.md). All are API routes: errors are JSON.
func (e *Engine) Routes() []web.Spec {
	api := web.RouteSettings{API: true}
	return []web.Spec{
		{Name: "rooms", Pattern: "/api/rooms", New: func() web.Handler { return roomsHandler{e} }, RouteSettings: api},
		{Name: "room", Pattern: "/api/rooms/{room}", New: func() web.Handler { return roomHandler{e} }, RouteSettings: api},
		{Name: "room-ws", Pattern: "/api/rooms/{room}/ws", New: func() web.Handler { return socketHandler{e} }, RouteSettings: api},
		{Name: "room-events", Pattern: "/api/rooms/{room}/events", New: func() web.Handler { return &pollHandler{e: e} }, RouteSettings: api},
		{Name: "room-stream", Pattern: "/api/rooms/{room}/stream", New: func() web.Handler { return &streamHandler{e: e} }, RouteSettings: api},
		{Name: "room-history", Pattern: "/api/rooms/{room}/history", New: func() web.Handler { return historyHandler{e} }, RouteSettings: api},
		{Name: "room-messages", Pattern: "/api/rooms/{room}/messages", New: func() web.Handler { return messagesHandler{e} }, RouteSettings: api},
		{Name: "room-message", Pattern: "/api/rooms/{room}/messages/{msg}", New: func() web.Handler { return messagesHandler{e} }, RouteSettings: api},
		{Name: "room-message-report", Pattern: "/api/rooms/{room}/messages/{msg}/report", New: func() web.Handler { return reportHandler{e} }, RouteSettings: api},
	}
}

// withSession loads the request's user and calls fn with it: 401 without a
// session, 403 for a banned user (even when the ban raised the session
// version the cookie holds: admin.go).
//
// A request from a banned client address (addressbans.go) is answered 403
// banned with the ban's reason before its session is looked at.
func (e *Engine) withSession(c *web.Context, fn func(u *accounts.User)) {
	accounts.EnsureXSRFCookie(c)
	c.Async()
	web.Guard(c, e.addressBansReady()).OnResult(func(_ struct{}, err error) {
		if err == nil {
			if r := e.addressRefusal(c.Request().RemoteIP); r != nil {
				err = r
			}
		}
		if err != nil {
			failRequest(c, err)
			return
		}
		e.loadSession(c, fn)
	})
}

// loadSession is withSession once the client's address passed.
func (e *Engine) loadSession(c *web.Context, fn func(u *accounts.User)) {
	e.cfg.Sessions.Load(c).OnResult(func(u *accounts.User, err error) {
		switch {
		case err != nil:
			failRequest(c, err)
		case u == nil:
			e.refuseWithoutSession(c) // 401, or 403 banned for a banned user's stale cookie
		case u.BannedAt(e.now()):
			failRequest(c, e.sessionRefusal(u, u.SessionVersion))
		default:
			fn(u)
		}
	})
}

// withRoom loads the user and the {room} hub, then calls fn with them and
// the session version the cookie held. The session is checked again once
// the hub is there: a ban (UserChanged) during the room's load found no
// connection of this request to end.
func (e *Engine) withRoom(c *web.Context, fn func(u *accounts.User, h *hub, version int64)) {
	e.withSession(c, func(u *accounts.User) {
		version := u.SessionVersion // Load checked the cookie held this one
		web.Guard(c, e.loadHub(c.Param("room"))).OnResult(func(h *hub, err error) {
			if err == nil {
				err = e.sessionRefusal(u, version)
			}
			if err == nil { // the address was banned during the room's load
				if r := e.addressRefusal(c.Request().RemoteIP); r != nil {
					err = r
				}
			}
			if err != nil {
				failRequest(c, err)
				return
			}
			fn(u, h, version)
		})
	})
}

// failRequest answers a refusal with its status and the protocol's error
// object, anything else with the web layer's error page.
func failRequest(c *web.Context, err error) {
	var r *Refusal
	if errors.Is(err, ioloop.ErrQueueFull) {
		r = busy // the reads executor is full
	} else if !errors.As(err, &r) {
		c.Fail(err)
		return
	}
	if c.Finished() {
		return
	}
	if s := r.retryAfterSeconds(); s > 0 {
		c.SetHeader("Retry-After", strconv.Itoa(s))
	}
	c.SetStatus(r.Status)
	frame := errorFrame(r, "")
	c.WriteJSON(struct {
		wireError
		Error string `json:"error"` // the web layer's JSON errors carry this field too
	}{frame, r.Message})
	c.Finish()
}

// cursorArgument reads a cursor argument: noCursor when absent.
func cursorArgument(c *web.Context, name string) (int64, error) {
	v := c.GetArgument(name, "")
	if v == "" {
		return noCursor, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, refuse(http.StatusBadRequest, "invalid", "%s must be a non-negative integer.", name)
	}
	return n, nil
}

// roomsHandler: GET lists the rooms, POST creates one.
type roomsHandler struct{ e *Engine }

func (hd roomsHandler) Get(c *web.Context) {
	accounts.EnsureXSRFCookie(c)
	web.Guard(c, hd.e.Rooms()).OnResult(func(rooms []Listing, err error) {
		if err != nil {
			failRequest(c, err)
			return
		}
		out := make([]wireRoom, 0, len(rooms))
		for _, l := range rooms {
			out = append(out, roomWire(l.Room, l.Online, l.LastID))
		}
		c.WriteJSON(map[string]any{"rooms": out})
		c.Finish()
	})
	c.Async()
}

// Bounds of a room's title and topic, in characters.
const (
	MaxTitleChars = 100
	MaxTopicChars = 500
)

func (hd roomsHandler) Post(c *web.Context) {
	var req NewRoom
	if err := decodeBody(c, &req); err != nil {
		failRequest(c, err)
		return
	}
	hd.e.withSession(c, func(u *accounts.User) {
		web.Guard(c, hd.e.CreateRoom(u, req)).OnResult(func(room store.Room, err error) {
			if err != nil {
				failRequest(c, err)
				return
			}
			c.SetStatus(http.StatusCreated)
			c.WriteJSON(roomWire(room, 0, 0))
			c.Finish()
		})
	})
}

// NewRoom is a room as someone asks for it: its name, title and topic.
type NewRoom struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	Topic string `json:"topic"`
}

// CreateRoom makes a room for u, the one way the API and the room list's
// form both take. The title and topic are trimmed. It fails with a
// *Refusal naming the Field for bad input (400 invalid), a taken name (409
// name_taken) or an empty token bucket (429 rate_limited). Call it on the
// loop; the insert runs on the reads executor.
func (e *Engine) CreateRoom(u *accounts.User, req NewRoom) *concurrent.Future[store.Room] {
	req.Title, req.Topic = strings.TrimSpace(req.Title), strings.TrimSpace(req.Topic)
	if r := checkNewRoom(req); r != nil {
		return concurrent.Failed[store.Room](r)
	}
	// Rooms outlive their creators: making one costs a token of the same
	// bucket as posting, so nobody makes them by the thousand.
	if ok, wait := e.limiter.take(u.ID, e.now()); !ok {
		return concurrent.Failed[store.Room](refuseAfter(http.StatusTooManyRequests, "rate_limited", wait, "Too many rooms at once: wait %d s.", ceilSeconds(wait)))
	}
	st := e.cfg.Store
	return ioloop.RunInExecutor(e.cfg.Reads, func() (store.Room, error) {
		room, err := st.CreateRoom(ctxBackground, store.NewRoom{Name: req.Name, Title: req.Title, Topic: req.Topic, CreatorID: u.ID})
		if errors.Is(err, store.ErrNameTaken) {
			r := refuse(http.StatusConflict, "name_taken", "A room named %q exists already.", req.Name)
			r.Field = "name"
			return room, r
		}
		return room, err
	})
}

func checkNewRoom(req NewRoom) *Refusal {
	var r *Refusal
	switch {
	case !store.ValidRoomName(req.Name):
		r = refuse(http.StatusBadRequest, "invalid", "A room's name is 1 to %d lower-case letters, digits, \"-\" or \"_\".", store.MaxNameLen)
		r.Field = "name"
	case !utf8.ValidString(req.Title + req.Topic):
		r = refuse(http.StatusBadRequest, "invalid", "The title and topic must be valid UTF-8.")
		r.Field = "title"
	case req.Title == "" || utf8.RuneCountInString(req.Title) > MaxTitleChars:
		r = refuse(http.StatusBadRequest, "invalid", "A room's title is 1 to %d characters.", MaxTitleChars)
		r.Field = "title"
	case utf8.RuneCountInString(req.Topic) > MaxTopicChars:
		r = refuse(http.StatusBadRequest, "invalid", "A room's topic is at most %d characters.", MaxTopicChars)
		r.Field = "topic"
	}
	return r
}

// roomHandler: GET one room, with who is online.
type roomHandler struct{ e *Engine }

func (hd roomHandler) Get(c *web.Context) {
	hd.e.withRoom(c, func(_ *accounts.User, h *hub, _ int64) {
		c.WriteJSON(struct {
			wireRoom
			People      []wireUser `json:"people"`
			OnlineCount int        `json:"online_count"`
		}{h.wire(), h.presence.list(), h.presence.online()})
		c.Finish()
	})
}

// historyHandler: GET older events for scroll-back.
type historyHandler struct{ e *Engine }

func (hd historyHandler) Get(c *web.Context) {
	before, err := cursorArgument(c, "before")
	if err != nil {
		failRequest(c, err)
		return
	}
	limit, err := strconv.Atoi(c.GetArgument("limit", "50"))
	if err != nil || limit < 1 {
		failRequest(c, refuse(http.StatusBadRequest, "invalid", "limit must be a positive integer."))
		return
	}
	limit = min(limit, store.MaxPageSize-1)
	hd.e.withRoom(c, func(_ *accounts.User, h *hub, _ int64) {
		upTo := h.lastID + 1 // nothing newer than what the doors have published
		if before != noCursor && before < upTo {
			upTo = before
		}
		st, roomID, name := hd.e.cfg.Store, h.room.ID, h.room.Name
		web.Guard(c, ioloop.RunInExecutor(hd.e.cfg.Reads, func() ([]*Event, error) {
			stored, err := st.EventsBefore(ctxBackground, roomID, upTo, limit+1, store.PublicView)
			events := make([]*Event, len(stored))
			for i, ev := range stored {
				events[i] = newEvent(name, ev)
			}
			return events, err
		})).OnResult(func(events []*Event, err error) {
			if err != nil {
				failRequest(c, err)
				return
			}
			more := len(events) > limit
			if more {
				events = events[1:] // oldest first: the extra one is the oldest
			}
			c.SetHeader("Content-Type", "application/json; charset=utf-8")
			c.Write(historyJSON(events, more))
			c.Finish()
		})
	})
}

// historyJSON is the history's answer: {"events":[...],"more":...}.
func historyJSON(events []*Event, more bool) []byte {
	b := []byte(`{"events":`)
	b = appendEventArray(b, events)
	b = append(b, `,"more":`...)
	b = strconv.AppendBool(b, more)
	return append(b, '}')
}

// messagesHandler: POST sends, PATCH edits, DELETE deletes.
type messagesHandler struct{ e *Engine }

type messageRequest struct {
	Body string `json:"body"`
	Key  string `json:"key"`
}

func (hd messagesHandler) Post(c *web.Context) {
	var req messageRequest
	if err := decodeBody(c, &req); err != nil {
		failRequest(c, err)
		return
	}
	hd.run(c, action{kind: actSend, body: req.Body, key: req.Key})
}

func (hd messagesHandler) Patch(c *web.Context) {
	var req messageRequest
	if err := decodeBody(c, &req); err != nil {
		failRequest(c, err)
		return
	}
	hd.withMessage(c, action{kind: actEdit, body: req.Body, key: req.Key})
}

func (hd messagesHandler) Delete(c *web.Context) {
	hd.withMessage(c, action{kind: actDelete})
}

func (hd messagesHandler) withMessage(c *web.Context, a action) {
	id, err := strconv.ParseInt(c.Param("msg"), 10, 64)
	if err != nil || id <= 0 {
		failRequest(c, errMessageNotFound)
		return
	}
	a.msgID = id
	hd.run(c, a)
}

func (hd messagesHandler) run(c *web.Context, a action) {
	a.address = c.Request().RemoteIP
	hd.e.withRoom(c, func(u *accounts.User, h *hub, _ int64) {
		web.Guard(c, hd.e.act(h, u, a)).OnResult(func(reply Ack, err error) {
			if err != nil {
				failRequest(c, err)
				return
			}
			if a.kind == actSend && !reply.Duplicate {
				c.SetStatus(http.StatusCreated)
			}
			c.WriteJSON(ackFrame(reply))
			c.Finish()
		})
	})
}

// decodeBody decodes a JSON request body into v. The body must be valid
// UTF-8 first: encoding/json would replace invalid bytes with U+FFFD, and
// a message would be stored with text its sender never wrote.
func decodeBody(c *web.Context, v any) error {
	body := c.Request().Body
	if !utf8.Valid(body) {
		return refuse(http.StatusBadRequest, "invalid", "The body is not valid UTF-8.")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(http.StatusBadRequest, "invalid", "The body is not the JSON object expected: %v", err)
	}
	return nil
}
