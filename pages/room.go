package pages

import (
	"net/http"
	"time"

	"chat/accounts"
	"chat/framework/web"
	"chat/rooms"
	"chat/views"
)

// roomPageHandler serves a room's page (GET /rooms/{room}) to a signed-in
// reader: the room, its latest events folded into a timeline, who is
// online, and the cursors the browser client resumes from.
type roomPageHandler struct{ p *Pages }

func (h roomPageHandler) Get(c *web.Context) {
	name := c.Param("room")
	h.p.withUser(c, func(u *accounts.User) {
		switch {
		case u == nil:
			signInFirst(c)
			return
		case u.BannedAt(time.Now()):
			c.Fail(&web.HTTPError{Status: http.StatusForbidden, Message: bannedMessage(u)})
			return
		}
		web.Guard(c, h.p.cfg.Engine.View(name, TimelineSize)).OnResult(func(v rooms.RoomView, err error) {
			if err != nil {
				failPage(c, err)
				return
			}
			c.Render(views.RoomPage(roomPageData(c, u, v)))
		})
	})
}

func roomPageData(c *web.Context, u *accounts.User, v rooms.RoomView) views.RoomPageData {
	me := *pageUser(u)
	d := views.RoomPageData{
		Page: Layout(c, v.Room.Title+" · Tornado Chat", "room", u),
		Room: views.RoomHeader{Name: v.Room.Name, Title: v.Room.Title, Topic: v.Room.Topic,
			Locked: v.Room.Locked, Archived: v.Room.Archived, SlowMode: v.Room.SlowMode},
		Items:       Timeline(v.Events, me),
		LastID:      v.LastID,
		More:        v.More,
		OnlineCount: v.OnlineCount,
		Me:          me,
		CanModerate: u.Moderator(),
	}
	if len(v.Events) > 0 {
		d.FirstID = v.Events[0].ID
	}
	for _, p := range v.Online {
		d.Online = append(d.Online, views.OnlineUser{Name: p.Name, Guest: p.Guest})
	}
	return d
}

// bannedMessage tells a banned user why and until when.
func bannedMessage(u *accounts.User) string {
	msg := "You are banned"
	if u.BanReason != "" {
		msg += ": " + u.BanReason
	}
	if u.BannedUntil.Year() < 9000 {
		msg += " (until " + u.BannedUntil.UTC().Format("2 Jan 2006 15:04 MST") + ")"
	}
	return msg + "."
}
