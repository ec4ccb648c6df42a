package pages

import (
	"reflect"
	"testing"
	"time"

	"chat/rooms"
	"chat/store"
	"chat/views"
)

func TestTimelineFoldsEvents(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	me := views.PageUser{ID: 1, Name: "ada"}
	msg := func(id, msgID, user int64, name, body string) *rooms.Event {
		return &rooms.Event{Event: store.Event{ID: id, Kind: store.EventMessage, MessageID: msgID, UserID: user, UserName: name, Body: body, CreatedAt: at}}
	}
	edit := func(id, msgID int64, body string) *rooms.Event {
		return &rooms.Event{Event: store.Event{ID: id, Kind: store.EventEdit, MessageID: msgID, Body: body, CreatedAt: at}}
	}
	del := func(id, msgID int64) *rooms.Event {
		return &rooms.Event{Event: store.Event{ID: id, Kind: store.EventDelete, MessageID: msgID, CreatedAt: at}}
	}
	room := func(id int64, data string) *rooms.Event {
		return &rooms.Event{Event: store.Event{ID: id, Kind: store.EventRoom, UserName: "mod", Data: data, CreatedAt: at}}
	}
	item := func(id, msgID int64, name, body string) views.RoomItem {
		return views.RoomItem{Kind: views.ItemMessage, EventID: id, Msg: msgID, Author: name, Body: body, At: at, Own: name == "ada"}
	}
	cases := []struct {
		name   string
		events []*rooms.Event
		want   []views.RoomItem
	}{
		{"nothing", nil, []views.RoomItem{}},
		{"messages in order, own marked",
			[]*rooms.Event{msg(1, 10, 1, "ada", "hi"), msg(2, 11, 2, "bob", "yo")},
			[]views.RoomItem{item(1, 10, "ada", "hi"), item(2, 11, "bob", "yo")}},
		{"an edit replaces the text and marks it",
			[]*rooms.Event{msg(1, 10, 2, "bob", "helo"), edit(2, 10, "hello")},
			[]views.RoomItem{func() views.RoomItem { i := item(1, 10, "bob", "hello"); i.Edited = true; return i }()}},
		{"a delete removes the message, the others keep their place",
			[]*rooms.Event{msg(1, 10, 2, "bob", "a"), msg(2, 11, 2, "bob", "b"), msg(3, 12, 2, "bob", "c"), del(4, 11)},
			[]views.RoomItem{item(1, 10, "bob", "a"), item(3, 12, "bob", "c")}},
		{"a message deleted since has no text and is skipped",
			[]*rooms.Event{msg(1, 10, 2, "bob", ""), msg(2, 11, 2, "bob", "b")},
			[]views.RoomItem{item(2, 11, "bob", "b")}},
		{"an edit and a delete of a message older than the page are ignored",
			[]*rooms.Event{edit(5, 3, "x"), del(6, 4), msg(7, 10, 2, "bob", "b")},
			[]views.RoomItem{item(7, 10, "bob", "b")}},
		{"an edit after a delete does not bring it back",
			[]*rooms.Event{msg(1, 10, 2, "bob", "a"), del(2, 10), edit(3, 10, "zombie")},
			[]views.RoomItem{}},
		{"a mention of the reader is marked, also after an edit",
			[]*rooms.Event{msg(1, 10, 2, "bob", "hey @ada!"), msg(2, 11, 2, "bob", "no"), edit(3, 11, "@ADA look")},
			[]views.RoomItem{
				func() views.RoomItem { i := item(1, 10, "bob", "hey @ada!"); i.Mention = true; return i }(),
				func() views.RoomItem {
					i := item(2, 11, "bob", "@ADA look")
					i.Mention, i.Edited = true, true
					return i
				}(),
			}},
		{"the reader's own mention of themselves is not marked",
			[]*rooms.Event{msg(1, 10, 1, "ada", "@ada note to self")},
			[]views.RoomItem{item(1, 10, "ada", "@ada note to self")}},
		{"room changes are notices",
			[]*rooms.Event{room(1, `{"locked":true}`)},
			[]views.RoomItem{{Kind: views.ItemNotice, EventID: 1, Author: "mod", Text: "locked the room", At: at}}},
	}
	for _, c := range cases {
		if got := Timeline(c.events, me); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, got, c.want)
		}
	}
}

func TestDescribeChanges(t *testing.T) {
	cases := []struct{ data, want string }{
		{`{"locked":true}`, "locked the room"},
		{`{"locked":false}`, "unlocked the room"},
		{`{"archived":true}`, "archived the room"},
		{`{"archived":false}`, "unarchived the room"},
		{`{"slow_mode":30}`, "set slow mode to 30 s"},
		{`{"slow_mode":0}`, "turned slow mode off"},
		{`{"topic":""}`, "cleared the topic"},
		{`{"title":"Hall","topic":"Be nice"}`, "renamed the room to “Hall” and set the topic to “Be nice”"},
		{`{"title":"Hall","topic":"Be nice","locked":true}`, "renamed the room to “Hall”, set the topic to “Be nice” and locked the room"},
		{`{}`, "changed the room"},
		{`not json`, "changed the room"},
	}
	for _, c := range cases {
		if got := DescribeChanges(c.data); got != c.want {
			t.Errorf("DescribeChanges(%s) = %q; want %q", c.data, got, c.want)
		}
	}
}
