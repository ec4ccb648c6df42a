package rooms

import (
	"encoding/json"
	"time"

	"chat/store"
)

// Event is one durable event of a room's log as the engine holds it: the
// stored event (with the author's or actor's name filled in) and its JSON
// as every door sends it, encoded once. Events are immutable once built,
// except that deleting a message re-encodes its earlier events in the hub's
// ring without their text (see ring.redact).
type Event struct {
	store.Event
	Room string // the room's name
	JSON []byte // the wire form (docs/protocol.md)
}

// newEvent encodes ev for the room named room.
func newEvent(room string, ev store.Event) *Event {
	e := &Event{Event: ev, Room: room}
	e.JSON = encodeEvent(room, ev)
	return e
}

// timestamp formats t as the protocol does: RFC 3339, UTC, milliseconds.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }

// The wire forms of the durable events, one struct per type so that each
// carries exactly the fields docs/protocol.md gives it.
type (
	wireMessage struct {
		Type    string `json:"type"`
		ID      int64  `json:"id"`
		Msg     int64  `json:"msg"`
		Room    string `json:"room"`
		User    string `json:"user"`
		Guest   bool   `json:"guest"`
		Body    string `json:"body"`
		TS      string `json:"ts"`
		Key     string `json:"key,omitempty"`
		Deleted bool   `json:"deleted,omitempty"`
	}
	wireEdit struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
		Msg  int64  `json:"msg"`
		Room string `json:"room"`
		User string `json:"user"`
		Body string `json:"body"`
		TS   string `json:"ts"`
	}
	wireDelete struct {
		Type string `json:"type"`
		ID   int64  `json:"id"`
		Msg  int64  `json:"msg"`
		Room string `json:"room"`
		By   string `json:"by"`
		TS   string `json:"ts"`
	}
	wireRoomChange struct {
		Type    string          `json:"type"`
		ID      int64           `json:"id"`
		Room    string          `json:"room"`
		By      string          `json:"by"`
		Changes json.RawMessage `json:"changes"`
		TS      string          `json:"ts"`
	}
)

// encodeEvent is the one place durable events become JSON.
func encodeEvent(room string, ev store.Event) []byte {
	var v any
	ts := timestamp(ev.CreatedAt)
	switch ev.Kind {
	case store.EventMessage:
		v = wireMessage{Type: "message", ID: ev.ID, Msg: ev.MessageID, Room: room, User: ev.UserName,
			Guest: ev.UserGuest, Body: ev.Body, TS: ts, Key: ev.ClientKey,
			// A stored message is never empty: an empty body is one deleted since.
			Deleted: ev.Body == ""}
	case store.EventEdit:
		v = wireEdit{Type: "edit", ID: ev.ID, Msg: ev.MessageID, Room: room, User: ev.UserName, Body: ev.Body, TS: ts}
	case store.EventDelete:
		v = wireDelete{Type: "delete", ID: ev.ID, Msg: ev.MessageID, Room: room, By: ev.UserName, TS: ts}
	default: // store.EventRoom
		changes := json.RawMessage(ev.Data)
		if !json.Valid(changes) {
			changes = json.RawMessage("{}")
		}
		v = wireRoomChange{Type: "room", ID: ev.ID, Room: room, By: ev.UserName, Changes: changes, TS: ts}
	}
	b, err := json.Marshal(v)
	if err != nil { // only strings, numbers and validated raw JSON: cannot fail
		panic("rooms: encode event: " + err.Error())
	}
	return b
}

// encodeFrame encodes an ephemeral event, an ack, an error or a hello.
func encodeFrame(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("rooms: encode frame: " + err.Error())
	}
	return b
}

// The ephemeral and control frames.
type (
	wireUser struct {
		Name  string `json:"name"`
		Guest bool   `json:"guest"`
	}
	wirePresenceChange struct {
		Type  string `json:"type"` // "join" or "leave"
		User  string `json:"user"`
		Guest bool   `json:"guest"`
	}
	wirePresence struct {
		Type        string     `json:"type"` // "presence"
		Online      []wireUser `json:"online"`
		OnlineCount int        `json:"online_count"`
	}
	wireTyping struct {
		Type string `json:"type"` // "typing"
		User string `json:"user"`
	}
	wireReset struct {
		Type   string `json:"type"` // "reset"
		LastID int64  `json:"last_id"`
	}
	wireAck struct {
		Type string `json:"type"` // "ack"
		Key  string `json:"key,omitempty"`
		ID   int64  `json:"id"`
		Msg  int64  `json:"msg"`
		TS   string `json:"ts"`
	}
	wireError struct {
		Type       string `json:"type"` // "error"
		Code       string `json:"code"`
		Message    string `json:"message"`
		Key        string `json:"key,omitempty"`
		RetryAfter int    `json:"retry_after,omitempty"`
	}
)
