package admin

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/rooms"
	"chat/store"
	"chat/views"
)

// The dashboard's actions: POST forms (with _xsrf, which the web layer
// checks before any of this runs) on
//
//	/admin/users/{id}/mute|unmute|ban|unban|kick|role
//	/admin/rooms/{room}/lock|unlock|archive|unarchive|slowmode|topic
//	/admin/messages/{msg}/delete
//	/admin/reports/{id}/resolve
//	/admin/reports/dismiss (fields id, several: the bulk dismissal)
//	/admin/connections/{id}/kick
//	/admin/bans/ban, /admin/bans/{id}/unban (bans.go)
//
// Each one, in this order: the reader must be staff (roles: an
// administrator); the input must make sense (400); the target must exist
// (404); the reader must be allowed to act on it (canActOn, 403); the
// change must apply to the target's state (409: already banned, already
// resolved, the last administrator). Then the store records it with its
// audit entry, carrying the reader's client address, in one transaction,
// and the engine makes it live on every door: UserChanged for a user's
// standing, Kick, ChangeRoom and DeleteMessage for the events. Success is
// a 303 back to the page the form came from (the "next" field) with
// ?done=<action>, which the page shows as its flash; a refusal renders
// that page again with the error and the status. A client asking for JSON
// gets {"done": action, "message": ...} or the framework's {"error": ...}.
//
// Kicks are not written to the audit log: the store has no write for an
// action that changes nothing stored.
//
// Everything runs on the loop (as coroutines); store writes run on the
// Reads executor.

// Limits of what an action takes.
const (
	// MaxReasonChars bounds a reason; it is shown to the user and kept in
	// the audit log.
	MaxReasonChars = 500
	// MaxDuration is the longest mute or ban with an end: beyond ten years
	// a duration is a typing mistake, and "for good" says what was meant.
	MaxDuration = 10 * 365 * 24 * time.Hour
	// MaxSlowMode is the longest wait slow mode imposes between one
	// person's posts, in seconds.
	MaxSlowMode = 3600
)

// doneMessages are the flashes shown after an action, by its ?done= code.
// The words are fixed here, never taken from the URL, so a crafted link
// cannot put words on the dashboard.
var doneMessages = map[string]string{
	"mute":            "Muted. They see why and until when.",
	"unmute":          "Unmuted. They may post again.",
	"ban":             "Banned. Their sessions ended on every door; they see why when they come back.",
	"unban":           "Unbanned. They may sign in again.",
	"kick":            "Kicked. Their connections closed with the reason; they may come back.",
	"kick-connection": "The connection is closed.",
	"role":            "The role is changed.",
	"lock":            "The room is locked: only moderators post.",
	"unlock":          "The room is unlocked.",
	"archive":         "The room is archived.",
	"unarchive":       "The room is back on the room list.",
	"slowmode":        "Slow mode is set.",
	"topic":           "The title and topic are saved.",
	"delete":          "The message is deleted on every screen.",
	"resolve":         "The report is resolved.",
	"dismiss":         "The selected reports are dismissed.",
	"ban-address-too": "Banned, with the addresses of their open connections (not yours). Their sessions ended on every door.",
	"ban-no-address":  "Banned. No address known (no open connection): only the account was banned.",
	"ban-address":     "The address is banned: its connections closed, and it is refused on every door and at sign-in.",
	"unban-address":   "The address ban is lifted.",
}

// outcome is an action that succeeded: its code and words for the reader.
type outcome struct {
	done    string
	message string
}

// actionHandler serves the POSTs of one kind of target.
type actionHandler struct {
	a    *Admin
	kind string // "users", "rooms", "messages", "reports", "connections"
}

func (h actionHandler) Post(c *web.Context) {
	a := h.a
	action := c.Param("action")
	a.withStaff(c, func(u *accounts.User) {
		c.Go(func(co *ioloop.Co) error {
			var (
				out      outcome
				err      error
				fallback string
			)
			switch h.kind {
			case "users":
				fallback = "/admin/users"
				out, err = a.userAction(co, c, u, action)
			case "rooms":
				fallback = "/admin/rooms"
				out, err = a.roomAction(co, c, u, action)
			case "messages":
				fallback = "/admin/messages/" + c.Param("msg")
				out, err = a.messageAction(co, c, u, action)
			case "reports":
				fallback = "/admin/reports"
				out, err = a.reportAction(co, c, u, action)
			case "reports-bulk":
				fallback = "/admin/reports"
				out, err = a.dismissReports(co, c, u)
			case "connections":
				fallback = "/admin/connections"
				out, err = a.connectionAction(co, c, u, action)
			case "bans":
				fallback = "/admin/bans"
				out, err = a.banAction(co, c, u, action)
			}
			back := backView(u, c.GetArgument("next", ""), fallback)
			if err != nil {
				return a.refused(co, c, back, err)
			}
			if wantsJSON(c) {
				return c.WriteJSON(map[string]string{"done": out.done, "message": out.message})
			}
			back.query.Set("done", out.done)
			c.Redirect(back.back(), http.StatusSeeOther)
			return nil
		})
	})
}

// refused answers an action that was refused: the page it came from,
// again, with the error and its status (JSON: the error alone). An error
// without a status to show is the framework's to answer (500).
func (a *Admin) refused(co *ioloop.Co, c *web.Context, back view, err error) error {
	var he *web.HTTPError
	if !errors.As(err, &he) || he.Status >= 500 || wantsJSON(c) {
		return err
	}
	back.err, back.status = he.Message, he.Status
	if renderErr := a.render(co, c, back); renderErr != nil {
		// The page itself cannot be shown (the message asked about is
		// unknown): the refusal alone, on the error page.
		return err
	}
	return nil
}

// backView is the page an action returns to: next when it is a page of
// the dashboard, else fallback.
func backView(u *accounts.User, next, fallback string) view {
	for _, target := range []string{next, fallback} {
		p, err := url.Parse(target)
		if err != nil || p.Scheme != "" || p.Host != "" || p.User != nil || !strings.HasPrefix(p.Path, "/admin/") {
			continue
		}
		query := p.Query()
		query.Del("done")
		return view{u: u, path: p.Path, query: query}
	}
	return view{u: u, path: "/admin/users", query: url.Values{}}
}

// write runs a store write on the Reads executor and waits for it.
func write[T any](a *Admin, co *ioloop.Co, fn func(st *store.Store) (T, error)) (T, error) {
	return read(a, co, fn)
}

// actor is the reader as the audit log records them.
func actor(c *web.Context, u *accounts.User) store.Actor {
	return store.Actor{ID: u.ID, Address: c.Request().RemoteIP}
}

// ---- the inputs -------------------------------------------------------------

// pathID is a path parameter that must be a positive id: anything else
// names nothing (404).
func pathID(c *web.Context, name, what string) (int64, error) {
	s := c.Param(name)
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, refusal(http.StatusNotFound, fmt.Sprintf("There is no %s %q.", what, s))
	}
	return id, nil
}

// reasonArg is the form's reason, trimmed and bounded.
func reasonArg(c *web.Context) (string, error) {
	reason := strings.TrimSpace(c.GetArgument("reason", ""))
	if utf8.RuneCountInString(reason) > MaxReasonChars {
		return "", refusal(http.StatusBadRequest, fmt.Sprintf("A reason is at most %d characters.", MaxReasonChars))
	}
	return reason, nil
}

// untilArg is when a mute or a ban given by the form's duration ends:
// "forever" (store.Forever), or a positive Go duration of at most
// MaxDuration from now. Anything else is refused.
func untilArg(c *web.Context, now time.Time) (time.Time, error) {
	s := strings.TrimSpace(c.GetArgument("duration", ""))
	if s == views.DurationForever {
		return store.Forever(), nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case s == "":
		return time.Time{}, refusal(http.StatusBadRequest, "Choose how long it lasts.")
	case err != nil:
		return time.Time{}, refusal(http.StatusBadRequest, fmt.Sprintf("%q is not a duration: choose one of the list.", s))
	case d <= 0:
		return time.Time{}, refusal(http.StatusBadRequest, "A duration must be more than nothing.")
	case d > MaxDuration:
		return time.Time{}, refusal(http.StatusBadRequest, "A duration is at most ten years; choose \"for good\" for longer.")
	}
	return now.Add(d), nil
}

// storeRefusal turns what the store or the engine refused into a status
// and words for the reader; an error of neither kind stays as it is (500).
func storeRefusal(err error, notFound string) error {
	var r *rooms.Refusal
	switch {
	case err == nil:
		return nil
	case errors.As(err, &r):
		return refusal(r.Status, r.Message)
	case errors.Is(err, store.ErrLastAdmin):
		return refusal(http.StatusConflict, sentence(after(err.Error(), store.ErrLastAdmin.Error()+": ")))
	case errors.Is(err, store.ErrConflict):
		return refusal(http.StatusConflict, sentence(after(err.Error(), store.ErrConflict.Error()+": ")))
	case errors.Is(err, store.ErrNotFound):
		return refusal(http.StatusNotFound, notFound)
	case errors.Is(err, store.ErrInvalid):
		return refusal(http.StatusBadRequest, sentence(after(err.Error(), store.ErrInvalid.Error()+": ")))
	}
	return err
}

// after is what follows the last sep in s, or s without it.
func after(s, sep string) string {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}

// sentence capitalises msg and ends it with a full stop.
func sentence(msg string) string {
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}

// ---- users ------------------------------------------------------------------

var userActions = map[string]bool{"mute": true, "unmute": true, "ban": true, "unban": true, "kick": true, "role": true}

func (a *Admin) userAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	if !userActions[action] {
		return outcome{}, refusal(http.StatusNotFound, "There is no such action on a user.")
	}
	if action == "role" && u.Role != store.RoleAdmin {
		return outcome{}, refusal(http.StatusForbidden, "Only administrators change roles.")
	}
	id, err := pathID(c, "id", "user")
	if err != nil {
		return outcome{}, err
	}
	reason, err := reasonArg(c)
	if err != nil {
		return outcome{}, err
	}
	now := time.Now()
	var until time.Time
	if action == "mute" || action == "ban" {
		if until, err = untilArg(c, now); err != nil {
			return outcome{}, err
		}
	}
	role := store.Role(c.GetArgument("role", ""))
	if action == "role" && role != store.RoleUser && role != store.RoleModerator && role != store.RoleAdmin {
		return outcome{}, refusal(http.StatusBadRequest, "A role is user, moderator or admin.")
	}
	notFound := fmt.Sprintf("There is no user %d.", id)
	target, err := read(a, co, func(st *store.Store) (store.User, error) { return st.UserByID(ctxBackground, id) })
	if err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	if err := canActOn(u, target); err != nil {
		return outcome{}, err
	}
	who := actor(c, u)
	// The addresses to ban with the user are read before the ban, whose
	// UserChanged closes the connections they are read from.
	banAddress := action == "ban" && c.GetArgument("ban_address", "") == "1"
	var addresses []string
	if banAddress {
		addresses = a.userAddresses(id)
	}
	if room := strings.TrimSpace(c.GetArgument("room", "")); room != "" && (action == "mute" || action == "unmute") {
		return a.roomMute(co, who, target, room, action, until, reason)
	}
	var out outcome
	switch action {
	case "mute", "unmute":
		if action == "unmute" {
			until = time.Time{}
		}
		_, err = write(a, co, func(st *store.Store) (struct{}, error) {
			return struct{}{}, st.MuteAs(ctxBackground, who, id, until, reason)
		})
		out = outcome{action, untilMessage("Muted", target.Name, until)}
		if action == "unmute" {
			out.message = "Unmuted " + target.Name + "."
		}
	case "ban", "unban":
		if action == "unban" {
			until = time.Time{}
		}
		_, err = write(a, co, func(st *store.Store) (int64, error) {
			return st.BanAs(ctxBackground, who, id, until, reason)
		})
		out = outcome{action, untilMessage("Banned", target.Name, until)}
		if action == "unban" {
			out.message = "Unbanned " + target.Name + "."
		}
	case "role":
		_, err = write(a, co, func(st *store.Store) (struct{}, error) {
			return struct{}{}, st.SetRoleAs(ctxBackground, who, id, role)
		})
		out = outcome{action, fmt.Sprintf("%s is now %s.", target.Name, article(role))}
	case "kick":
		n := a.cfg.Engine.Kick(id, reason)
		if _, err := write(a, co, func(st *store.Store) (struct{}, error) {
			return struct{}{}, st.LogAs(ctxBackground, who, store.ActionKick, fmt.Sprintf("user:%d", id), reasonDetails(fmt.Sprintf("%d connection%s", n, plural(n)), reason))
		}); err != nil {
			return outcome{}, err
		}
		return outcome{action, fmt.Sprintf("Kicked %s: %d connection%s closed.", target.Name, n, plural(n))}, nil
	}
	if err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	// Stored: now live. The change stands even if this fails; the user's
	// connections then see it when they next reconnect.
	if _, err := ioloop.Await(co, a.cfg.Engine.UserChanged(id, reason)); err != nil {
		out.message += " (Stored, but connected clients could not be told: " + err.Error() + ")"
	}
	if banAddress {
		// The flash a browser sees after the redirect has fixed words
		// (doneMessages); the full account is in the JSON answer.
		out.done = "ban-address-too"
		if len(addresses) == 0 {
			out.done = "ban-no-address"
		}
		out.message += " " + a.banAddresses(co, who, addresses, until, reason)
	}
	return out, nil
}

// userAddresses are the distinct client addresses of userID's open
// connections, in the order they connected.
func (a *Admin) userAddresses(userID int64) []string {
	var out []string
	seen := map[string]bool{}
	for _, ci := range a.cfg.Engine.Connections() {
		if ci.UserID == userID && ci.Address != "" && !seen[ci.Address] {
			seen[ci.Address] = true
			out = append(out, ci.Address)
		}
	}
	return out
}

// banAddresses bans each of addresses (the banned user's) until the
// user's ban ends, with its reason, makes the bans live and says what it
// did. The reader's own address is never banned (it would shut the
// dashboard out); one already banned is said so and left as it is.
func (a *Admin) banAddresses(co *ioloop.Co, who store.Actor, addresses []string, until time.Time, reason string) string {
	if len(addresses) == 0 {
		return "No address known: only the account was banned."
	}
	var banned, notes []string
	for _, addr := range addresses {
		if addr == who.Address {
			notes = append(notes, addr+" is your own address and was not banned.")
			continue
		}
		_, err := write(a, co, func(st *store.Store) (store.AddressBan, error) {
			return st.BanAddressAs(ctxBackground, who, addr, until, reason)
		})
		if err != nil {
			notes = append(notes, addr+": "+plainError(storeRefusal(err, "")))
			continue
		}
		banned = append(banned, addr)
	}
	msg := ""
	if len(banned) > 0 {
		msg = "Address banned: " + strings.Join(banned, ", ") + "."
		if _, err := ioloop.Await(co, a.cfg.Engine.AddressBansChanged()); err != nil {
			msg += " (Stored, but open connections could not be told: " + err.Error() + ")"
		}
	}
	return strings.TrimSpace(msg + " " + strings.Join(notes, " "))
}

// roomMute mutes the target in one room (or lifts that mute) and makes it
// live in the room's hub.
func (a *Admin) roomMute(co *ioloop.Co, who store.Actor, target store.User, name, action string, until time.Time, reason string) (outcome, error) {
	notFound := fmt.Sprintf("There is no room %q.", name)
	if !store.ValidRoomName(name) {
		return outcome{}, refusal(http.StatusNotFound, notFound)
	}
	room, err := read(a, co, func(st *store.Store) (store.Room, error) { return st.RoomByName(ctxBackground, name) })
	if err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	if action == "unmute" {
		until = time.Time{}
	}
	_, err = write(a, co, func(st *store.Store) (struct{}, error) {
		return struct{}{}, st.MuteInRoomAs(ctxBackground, who, room.ID, target.ID, until, reason)
	})
	if err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	out := outcome{action, untilMessage("Muted", target.Name+" in "+name, until)}
	if action == "unmute" {
		out.message = "Unmuted " + target.Name + " in " + name + "."
	}
	if _, err := ioloop.Await(co, a.cfg.Engine.RoomMutesChanged(name)); err != nil {
		out.message += " (Stored, but the room could not be told: " + err.Error() + ")"
	}
	return out, nil
}

func untilMessage(verb, name string, until time.Time) string {
	if store.IsForever(until) {
		return fmt.Sprintf("%s %s for good.", verb, name)
	}
	return fmt.Sprintf("%s %s until %s.", verb, name, views.AdminTime(until))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ---- rooms ------------------------------------------------------------------

func (a *Admin) roomAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	name := c.Param("room")
	change := store.RoomChange{Address: c.Request().RemoteIP}
	yes, no := true, false
	var (
		wantLocked, wantArchived *bool
		message                  string
	)
	switch action {
	case "lock", "unlock":
		wantLocked = &yes
		if action == "unlock" {
			wantLocked = &no
		}
		change.Locked = wantLocked
	case "archive", "unarchive":
		wantArchived = &yes
		if action == "unarchive" {
			wantArchived = &no
		}
		change.Archived = wantArchived
	case "slowmode":
		s := strings.TrimSpace(c.GetArgument("seconds", ""))
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > MaxSlowMode {
			return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("Slow mode is 0 (off) to %d seconds.", MaxSlowMode))
		}
		change.SlowMode = &n
		message = fmt.Sprintf("Slow mode in %s: %d s between one person's posts.", name, n)
		if n == 0 {
			message = "Slow mode is off in " + name + "."
		}
	case "topic":
		title := strings.TrimSpace(c.GetArgument("title", ""))
		topic := strings.TrimSpace(c.GetArgument("topic", ""))
		if title == "" || utf8.RuneCountInString(title) > rooms.MaxTitleChars {
			return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("A room's title is 1 to %d characters.", rooms.MaxTitleChars))
		}
		if utf8.RuneCountInString(topic) > rooms.MaxTopicChars {
			return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("A room's topic is at most %d characters.", rooms.MaxTopicChars))
		}
		change.Title, change.Topic = &title, &topic
		message = "Saved the title and topic of " + name + "."
	default:
		return outcome{}, refusal(http.StatusNotFound, "There is no such action on a room.")
	}
	notFound := fmt.Sprintf("There is no room %q.", name)
	if !store.ValidRoomName(name) {
		return outcome{}, refusal(http.StatusNotFound, notFound)
	}
	room, err := read(a, co, func(st *store.Store) (store.Room, error) { return st.RoomByName(ctxBackground, name) })
	if err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	switch {
	case wantLocked != nil && room.Locked == *wantLocked:
		return outcome{}, refusal(http.StatusConflict, fmt.Sprintf("%s is already %sed.", name, action))
	case wantArchived != nil && room.Archived == *wantArchived:
		return outcome{}, refusal(http.StatusConflict, fmt.Sprintf("%s is already %sd.", name, action))
	}
	if _, err := ioloop.Await(co, a.cfg.Engine.ChangeRoom(name, u, change)); err != nil {
		return outcome{}, storeRefusal(err, notFound)
	}
	if message == "" {
		message = map[string]string{
			"lock":      "Locked " + name + ": only moderators post.",
			"unlock":    "Unlocked " + name + ".",
			"archive":   "Archived " + name + ": it is read-only and off the room list.",
			"unarchive": "Unarchived " + name + ".",
		}[action]
	}
	return outcome{action, message}, nil
}

// ---- messages ---------------------------------------------------------------

func (a *Admin) messageAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	if action != "delete" {
		return outcome{}, refusal(http.StatusNotFound, "There is no such action on a message.")
	}
	id, err := pathID(c, "msg", "message")
	if err != nil {
		return outcome{}, err
	}
	reason, err := reasonArg(c)
	if err != nil {
		return outcome{}, err
	}
	msg, err := a.messageToDelete(co, u, id)
	if err != nil {
		return outcome{}, err
	}
	if err := a.deleteMessage(co, c, u, msg, reason); err != nil {
		return outcome{}, err
	}
	return outcome{"delete", fmt.Sprintf("Deleted message %d of %s in %s.", id, msg.AuthorName, msg.RoomName)}, nil
}

// messageToDelete reads message id and checks that u may delete it: it
// exists (404), is not deleted yet (409), and its author is one u may act
// on, unless u wrote it.
func (a *Admin) messageToDelete(co *ioloop.Co, u *accounts.User, id int64) (store.MessageRow, error) {
	notFound := fmt.Sprintf("There is no message %d.", id)
	type found struct {
		msg    store.MessageRow
		author store.User
	}
	f, err := read(a, co, func(st *store.Store) (found, error) {
		rows, err := st.MessageContext(ctxBackground, id, 0)
		if err != nil {
			return found{}, err
		}
		for _, r := range rows {
			if r.ID == id {
				author, err := st.UserByID(ctxBackground, r.AuthorID)
				return found{r, author}, err
			}
		}
		return found{}, store.ErrNotFound
	})
	if err != nil {
		return store.MessageRow{}, storeRefusal(err, notFound)
	}
	if f.msg.Deleted() {
		return store.MessageRow{}, refusal(http.StatusConflict, fmt.Sprintf("Message %d is already deleted.", id))
	}
	if f.author.ID != u.ID {
		if err := canActOn(u, f.author); err != nil {
			return store.MessageRow{}, err
		}
	}
	return f.msg, nil
}

// deleteMessage deletes msg through the engine: the tombstone reaches
// every door and replay, and the store writes the audit entry (with the
// reader's address and the reason) in the delete's transaction.
func (a *Admin) deleteMessage(co *ioloop.Co, c *web.Context, u *accounts.User, msg store.MessageRow, reason string) error {
	_, err := ioloop.Await(co, a.cfg.Engine.DeleteMessageAs(msg.RoomName, u, c.Request().RemoteIP, msg.ID, reason))
	return storeRefusal(err, fmt.Sprintf("There is no message %d.", msg.ID))
}

// ---- reports ----------------------------------------------------------------

func (a *Admin) reportAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	if action != "resolve" {
		return outcome{}, refusal(http.StatusNotFound, "There is no such action on a report.")
	}
	id, err := pathID(c, "id", "report")
	if err != nil {
		return outcome{}, err
	}
	resolution := c.GetArgument("resolution", "")
	switch resolution {
	case store.ResolutionDeleted, store.ResolutionWarned, store.ResolutionDismissed:
	default:
		return outcome{}, refusal(http.StatusBadRequest, "Resolve a report by deleting the message, warning its author or dismissing it.")
	}
	type found struct {
		report   store.ReportRow
		open, ok bool
	}
	f, err := read(a, co, func(st *store.Store) (found, error) {
		for _, open := range []bool{true, false} {
			rows, _, err := st.QueryReports(ctxBackground, open, id-1, 1)
			if err != nil {
				return found{}, err
			}
			if len(rows) == 1 && rows[0].ID == id {
				return found{rows[0], open, true}, nil
			}
		}
		return found{}, nil
	})
	switch {
	case err != nil:
		return outcome{}, err
	case !f.ok:
		return outcome{}, refusal(http.StatusNotFound, fmt.Sprintf("There is no report %d.", id))
	case !f.open:
		return outcome{}, refusal(http.StatusConflict, fmt.Sprintf("Report %d is already resolved (%s).", id, f.report.Resolution))
	}
	if resolution == store.ResolutionDeleted && !f.report.Message.Deleted() {
		msg, err := a.messageToDelete(co, u, f.report.MessageID)
		if err != nil {
			return outcome{}, err
		}
		if err := a.deleteMessage(co, c, u, msg, fmt.Sprintf("report %d: %s", id, f.report.Reason)); err != nil {
			return outcome{}, err
		}
	}
	who := actor(c, u)
	_, err = write(a, co, func(st *store.Store) (struct{}, error) {
		return struct{}{}, st.ResolveReportAs(ctxBackground, who, id, resolution)
	})
	if err != nil {
		return outcome{}, storeRefusal(err, fmt.Sprintf("There is no report %d.", id))
	}
	return outcome{"resolve", fmt.Sprintf("Report %d resolved: %s.", id, resolution)}, nil
}

// dismissReports dismisses several open reports at once (the fields id):
// each is its own audited resolution, so one already resolved meanwhile
// does not undo the others. It is refused when none was given (400), there
// are more than a page of them (400), or none could be dismissed (the
// first refusal: 404, 409).
func (a *Admin) dismissReports(co *ioloop.Co, c *web.Context, u *accounts.User) (outcome, error) {
	raw := c.GetArguments("id")
	switch {
	case len(raw) == 0:
		return outcome{}, refusal(http.StatusBadRequest, "Tick the reports to dismiss first.")
	case len(raw) > PageSize:
		return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("At most %d reports at once.", PageSize))
	}
	ids := make([]int64, 0, len(raw))
	for _, s := range raw {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return outcome{}, refusal(http.StatusBadRequest, fmt.Sprintf("%q is not a report.", s))
		}
		ids = append(ids, id)
	}
	who := actor(c, u)
	type result struct {
		done    int
		refused []error
	}
	res, err := write(a, co, func(st *store.Store) (result, error) {
		var r result
		for _, id := range ids {
			err := st.ResolveReportAs(ctxBackground, who, id, store.ResolutionDismissed)
			switch {
			case err == nil:
				r.done++
			case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrInvalid):
				r.refused = append(r.refused, storeRefusal(err, fmt.Sprintf("There is no report %d.", id)))
			default:
				return r, err
			}
		}
		return r, nil
	})
	switch {
	case err != nil:
		return outcome{}, err
	case res.done == 0:
		return outcome{}, res.refused[0]
	}
	msg := fmt.Sprintf("Dismissed %d report%s.", res.done, plural(res.done))
	for _, r := range res.refused {
		var he *web.HTTPError
		if errors.As(r, &he) {
			msg += " " + he.Message
		}
	}
	return outcome{"dismiss", msg}, nil
}

// ---- connections ------------------------------------------------------------

func (a *Admin) connectionAction(co *ioloop.Co, c *web.Context, u *accounts.User, action string) (outcome, error) {
	if action != "kick" {
		return outcome{}, refusal(http.StatusNotFound, "There is no such action on a connection.")
	}
	s := c.Param("id")
	id, err := strconv.ParseUint(s, 10, 64)
	gone := refusal(http.StatusNotFound, fmt.Sprintf("There is no open connection %q; it may have closed.", s))
	if err != nil {
		return outcome{}, gone
	}
	reason, err := reasonArg(c)
	if err != nil {
		return outcome{}, err
	}
	var info *rooms.ConnInfo
	for _, ci := range a.cfg.Engine.Connections() {
		if ci.ID == id {
			info = &ci
			break
		}
	}
	if info == nil {
		return outcome{}, gone
	}
	target, err := read(a, co, func(st *store.Store) (store.User, error) { return st.UserByID(ctxBackground, info.UserID) })
	if err != nil {
		return outcome{}, storeRefusal(err, fmt.Sprintf("There is no user %d.", info.UserID))
	}
	if err := canActOn(u, target); err != nil {
		return outcome{}, err
	}
	// The read let the loop run: the connection may have closed meanwhile.
	if !a.cfg.Engine.KickConnection(id, reason) {
		return outcome{}, gone
	}
	who := actor(c, u)
	if _, err := write(a, co, func(st *store.Store) (struct{}, error) {
		details := reasonDetails(fmt.Sprintf("%s connection %d from %s", info.Door, id, info.Address), reason)
		return struct{}{}, st.LogAs(ctxBackground, who, store.ActionKick, fmt.Sprintf("user:%d", info.UserID), details)
	}); err != nil {
		return outcome{}, err
	}
	return outcome{"kick-connection", fmt.Sprintf("Closed %s's %s connection.", target.Name, views.DoorLabel(string(info.Door)))}, nil
}

// reasonDetails is an audit entry's details: what was done, and why.
func reasonDetails(what, reason string) string {
	if reason == "" {
		return what
	}
	return what + ": " + reason
}

// actionRoutes are the POST actions.
func (a *Admin) actionRoutes() []web.Spec {
	on := func(kind string) func() web.Handler {
		return func() web.Handler { return actionHandler{a, kind} }
	}
	return []web.Spec{
		{Name: "admin-user-action", Pattern: "/admin/users/{id}/{action}", New: on("users")},
		{Name: "admin-room-action", Pattern: "/admin/rooms/{room}/{action}", New: on("rooms")},
		{Name: "admin-message-action", Pattern: "/admin/messages/{msg}/{action}", New: on("messages")},
		{Name: "admin-report-action", Pattern: "/admin/reports/{id}/{action}", New: on("reports")},
		{Name: "admin-reports-dismiss", Pattern: "/admin/reports/dismiss", New: on("reports-bulk")},
		{Name: "admin-connection-action", Pattern: "/admin/connections/{id}/{action}", New: on("connections")},
		{Name: "admin-ban-action", Pattern: "/admin/bans/{id}/{action}", New: on("bans")},
		{Name: "admin-ban-new", Pattern: "/admin/bans/{action}", New: on("bans")},
	}
}
