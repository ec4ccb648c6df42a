package pages

import (
	"errors"
	"net/http"
	"strconv"

	"chat/accounts"
	"chat/framework/web"
	"chat/rooms"
	"chat/store"
	"chat/views"
)

// roomListHandler serves the room list (GET /) and its create-a-room form
// (POST /rooms).
type roomListHandler struct{ p *Pages }

func (h roomListHandler) Get(c *web.Context) {
	if c.Request().Path != "/" {
		// GET /rooms: the list lives at "/".
		c.Redirect("/", http.StatusFound)
		return
	}
	h.p.withUser(c, func(u *accounts.User) {
		h.render(c, u, views.NewRoomForm{}, http.StatusOK)
	})
}

func (h roomListHandler) Post(c *web.Context) {
	if c.Request().Path != "/rooms" {
		c.SendError(http.StatusMethodNotAllowed)
		return
	}
	form := views.NewRoomForm{
		Name:  c.GetArgument("name", ""),
		Title: c.GetArgument("title", ""),
		Topic: c.GetArgument("topic", ""),
	}
	h.p.withUser(c, func(u *accounts.User) {
		if u == nil {
			signInFirst(c)
			return
		}
		created := h.p.cfg.Engine.CreateRoom(u, rooms.NewRoom{Name: form.Name, Title: form.Title, Topic: form.Topic})
		web.Guard(c, created).OnResult(func(room store.Room, err error) {
			var r *rooms.Refusal
			switch {
			case err == nil:
				c.Redirect("/rooms/"+room.Name, http.StatusSeeOther)
			case errors.As(err, &r):
				if r.RetryAfter > 0 {
					c.SetHeader("Retry-After", strconv.Itoa(int((r.RetryAfter+999_999_999)/1e9)))
				}
				form.Errors = map[string]string{r.Field: r.Message}
				h.render(c, u, form, r.Status)
			default:
				c.Fail(err)
			}
		})
	})
}

// render lists the rooms with the form as typed.
func (h roomListHandler) render(c *web.Context, u *accounts.User, form views.NewRoomForm, status int) {
	web.Guard(c, h.p.cfg.Engine.Rooms()).OnResult(func(listed []rooms.Listing, err error) {
		if err != nil {
			failPage(c, err)
			return
		}
		d := views.RoomListData{
			Page:      Layout(c, "Rooms · Tornado Chat", "rooms", u),
			Rooms:     make([]views.RoomSummary, 0, len(listed)),
			CanCreate: u != nil,
			Form:      form,
		}
		for _, l := range listed {
			d.Rooms = append(d.Rooms, views.RoomSummary{
				Name: l.Room.Name, Title: l.Room.Title, Topic: l.Room.Topic,
				Online: l.Online, LastActivity: l.LastActivity, Locked: l.Room.Locked,
			})
		}
		c.SetStatus(status)
		c.Render(views.RoomList(d))
	})
}
