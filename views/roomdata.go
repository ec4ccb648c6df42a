package views

import "time"

// The data of the room list and the room page. The page handlers (package
// pages) fill these from the store and the delivery engine; the templ
// components (rooms.templ, room.templ) present them; the browser client
// (static/js) renders the same markup for live events.

// RoomSummary is one room on the room list.
type RoomSummary struct {
	Name         string
	Title        string
	Topic        string
	Online       int       // users present now
	LastActivity time.Time // the newest event's time; zero: nothing yet
	Locked       bool
}

// RoomListData is the room list, with the form that creates a room.
type RoomListData struct {
	Page
	Rooms []RoomSummary
	// CanCreate: a signed-in user (guest or not) sees the form.
	CanCreate bool
	Form      NewRoomForm
}

// NewRoomForm is the create-a-room form as typed, with its errors.
type NewRoomForm struct {
	Name, Title, Topic string
	// Errors maps a field ("name", "title", "topic") to the message shown
	// beside it; "" is an error about the whole form (rate limited).
	Errors map[string]string
}

// RoomHeader is what the room page shows about the room itself.
type RoomHeader struct {
	Name     string
	Title    string
	Topic    string
	Locked   bool
	Archived bool
	SlowMode int // seconds between one user's posts; 0: off
}

// Item kinds of a room's timeline.
const (
	ItemMessage = "message" // a message (its latest text)
	ItemNotice  = "notice"  // a room change, told in words
)

// RoomItem is one entry of the timeline: a message or a notice.
type RoomItem struct {
	Kind    string // ItemMessage or ItemNotice
	EventID int64  // the event's cursor id (a message: its message event)
	Msg     int64  // the message id (messages only)
	Author  string // the author (messages) or the actor (notices)
	Guest   bool   // the author is a guest
	Body    string // the message's text, plain (never HTML)
	Text    string // a notice's words, e.g. "locked the room"
	At      time.Time
	Edited  bool // the message was edited since it was posted
	Own     bool // the reader wrote it: edit and delete are offered
	Mention bool // the text mentions the reader
}

// OnlineUser is one person present in the room.
type OnlineUser struct {
	Name  string
	Guest bool
}

// RoomPageData is the room page: the room, the latest events folded into a
// timeline, who is online, and the cursors the client resumes from.
type RoomPageData struct {
	Page
	Room  RoomHeader
	Items []RoomItem // oldest first
	// LastID is the newest event id the timeline includes (the room's last
	// id when rendered): the client connects with after=LastID.
	LastID int64
	// FirstID is the oldest event id read for the timeline: scroll-back asks
	// for history before it. More says whether older events exist.
	FirstID     int64
	More        bool
	Online      []OnlineUser
	OnlineCount int
	Me          PageUser
	CanModerate bool // moderators may delete anyone's message
}
