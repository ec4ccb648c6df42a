package pages

import (
	"encoding/json"
	"fmt"
	"strings"

	"chat/rooms"
	"chat/store"
	"chat/views"
)

// Timeline folds a room's events, oldest first, into what a reader sees:
// each message once, with its latest text (an edit replaces the body and
// marks it edited), deleted messages gone, and room changes told in words.
// An edit or delete of a message older than the events is ignored: that
// message is not shown. me is the reader, for Own and Mention (a
// mention of the reader in someone else's message, as the client marks it).
func Timeline(events []*rooms.Event, me views.PageUser) []views.RoomItem {
	items := make([]views.RoomItem, 0, len(events))
	byMsg := make(map[int64]int, len(events)) // message id → index in items
	removed := 0
	for _, ev := range events {
		switch ev.Kind {
		case store.EventMessage:
			if ev.Body == "" {
				continue // deleted since: the public view has no text for it
			}
			byMsg[ev.MessageID] = len(items)
			items = append(items, views.RoomItem{
				Kind: views.ItemMessage, EventID: ev.ID, Msg: ev.MessageID,
				Author: ev.UserName, Guest: ev.UserGuest, Body: ev.Body, At: ev.CreatedAt,
				Own: ev.UserID == me.ID, Mention: ev.UserID != me.ID && views.Mentions(ev.Body, me.Name),
			})
		case store.EventEdit:
			if i, ok := byMsg[ev.MessageID]; ok && ev.Body != "" {
				items[i].Body, items[i].Edited = ev.Body, true
				items[i].Mention = !items[i].Own && views.Mentions(ev.Body, me.Name)
			}
		case store.EventDelete:
			if i, ok := byMsg[ev.MessageID]; ok {
				items[i].Kind = "" // dropped below, keeping the indexes valid meanwhile
				delete(byMsg, ev.MessageID)
				removed++
			}
		case store.EventRoom:
			items = append(items, views.RoomItem{
				Kind: views.ItemNotice, EventID: ev.ID, Author: ev.UserName, Guest: ev.UserGuest,
				Text: DescribeChanges(ev.Data), At: ev.CreatedAt,
			})
		}
	}
	if removed == 0 {
		return items
	}
	kept := items[:0]
	for _, it := range items {
		if it.Kind != "" {
			kept = append(kept, it)
		}
	}
	return kept
}

// DescribeChanges tells a room event's changes (its JSON data, e.g.
// {"locked":true,"topic":"x"}) in words, as the notice after the actor's
// name: "set the topic to “x” and locked the room". The browser client
// words live notices the same way (noticeText in static/js/timeline.js):
// change one, change the other.
func DescribeChanges(data string) string {
	var changes struct {
		Title    *string `json:"title"`
		Topic    *string `json:"topic"`
		Locked   *bool   `json:"locked"`
		Archived *bool   `json:"archived"`
		SlowMode *int    `json:"slow_mode"`
	}
	if json.Unmarshal([]byte(data), &changes) != nil {
		return "changed the room"
	}
	var parts []string
	if changes.Title != nil {
		parts = append(parts, fmt.Sprintf("renamed the room to “%s”", *changes.Title))
	}
	if changes.Topic != nil {
		if *changes.Topic == "" {
			parts = append(parts, "cleared the topic")
		} else {
			parts = append(parts, fmt.Sprintf("set the topic to “%s”", *changes.Topic))
		}
	}
	if changes.Locked != nil {
		parts = append(parts, map[bool]string{true: "locked the room", false: "unlocked the room"}[*changes.Locked])
	}
	if changes.Archived != nil {
		parts = append(parts, map[bool]string{true: "archived the room", false: "unarchived the room"}[*changes.Archived])
	}
	if changes.SlowMode != nil {
		if *changes.SlowMode > 0 {
			parts = append(parts, fmt.Sprintf("set slow mode to %d s", *changes.SlowMode))
		} else {
			parts = append(parts, "turned slow mode off")
		}
	}
	switch len(parts) {
	case 0:
		return "changed the room"
	case 1:
		return parts[0]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
