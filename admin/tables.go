package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"chat/accounts"
	"chat/framework/ioloop"
	"chat/framework/web"
	"chat/pages"
	"chat/rooms"
	"chat/store"
	"chat/views"
)

// The dashboard's tables: GET pages, server-rendered from the store (read
// on the Reads executor) and from the engine (read on the loop). Each page
// takes its filters from the query, pages by an opaque cursor (?after=),
// and answers JSON instead when the client asks for it. An action that is
// refused renders its page again through the same code, with the error and
// the action's status (actions.go).

// PageSize is how many rows one page of a table shows.
const PageSize = 50

// contextAround is how many messages the context view shows on each side
// of the one asked for.
const contextAround = 10

var ctxBackground = context.Background()

// view is one rendering of a table page: whose eyes, which page with which
// query, and the outcome of an action to show above it.
type view struct {
	u      *accounts.User
	path   string
	query  url.Values
	flash  string
	err    string
	status int // the response's status; 0 is 200
}

// back is the page's own URL, where its action forms come back to.
func (v view) back() string {
	if q := v.query.Encode(); q != "" {
		return v.path + "?" + q
	}
	return v.path
}

// tableHandler serves GET of every table page.
type tableHandler struct{ a *Admin }

func (h tableHandler) Get(c *web.Context) {
	a := h.a
	a.withStaff(c, func(u *accounts.User) {
		path := c.Request().Path
		if path == "/admin" || path == "/admin/" {
			c.Redirect("/admin/live", http.StatusFound)
			return
		}
		query, _ := url.ParseQuery(c.Request().RawQuery)
		v := view{u: u, path: path, query: query}
		if done := query.Get("done"); done != "" {
			v.flash = doneMessages[done]
			query.Del("done")
		}
		c.Go(func(co *ioloop.Co) error { return a.render(co, c, v) })
	})
}

// render answers with the page v names, or 404 for no such page.
func (a *Admin) render(co *ioloop.Co, c *web.Context, v view) error {
	switch v.path {
	case "/admin/users":
		return a.usersPage(co, c, v)
	case "/admin/rooms":
		return a.roomsPage(co, c, v)
	case "/admin/messages":
		return a.messagesPage(co, c, v)
	case "/admin/reports":
		return a.reportsPage(co, c, v)
	case "/admin/connections":
		return a.connectionsPage(co, c, v)
	case "/admin/audit":
		return a.auditPage(co, c, v)
	case "/admin/bans":
		return a.bansPage(co, c, v)
	}
	if id, ok := strings.CutPrefix(v.path, "/admin/messages/"); ok {
		if msg, err := strconv.ParseInt(id, 10, 64); err == nil && msg > 0 {
			return a.contextPage(co, c, v, msg)
		}
	}
	return refusal(http.StatusNotFound, "No such page of the dashboard.")
}

// common is what every table page shows besides its table.
func (a *Admin) common(c *web.Context, v view, title string) views.AdminCommon {
	return views.AdminCommon{
		Page:    pages.Layout(c, title+" · Dashboard · Tornado Chat", "admin", v.u),
		Flash:   v.flash,
		Error:   v.err,
		Back:    v.back(),
		IsAdmin: v.u.Role == store.RoleAdmin,
		Now:     time.Now(),
	}
}

// answer renders comp with v's status, or writes data as JSON when the
// client asked for JSON.
func answer(c *web.Context, v view, comp web.Component, data any) error {
	status := v.status
	if status == 0 {
		status = http.StatusOK
	}
	c.SetStatus(status)
	if wantsJSON(c) {
		body := map[string]any{"page": data}
		if v.err != "" {
			body["error"] = v.err
		}
		if v.flash != "" {
			body["done"] = v.flash
		}
		return c.WriteJSON(body)
	}
	c.Render(comp)
	return nil
}

// read runs fn on the Reads executor and waits for it.
func read[T any](a *Admin, co *ioloop.Co, fn func(st *store.Store) (T, error)) (T, error) {
	st := a.cfg.Store
	return ioloop.Await(co, ioloop.RunInExecutor(a.cfg.Reads, func() (T, error) { return fn(st) }))
}

// badFilter turns a store refusal of a page's query (a cursor that does
// not parse, say) into a 400 shown on the page; anything else is failed.
func badFilter(v *view, err error) error {
	if errors.Is(err, store.ErrInvalid) {
		v.err = "That page of the table cannot be shown: " + plainError(err)
		v.status = http.StatusBadRequest
		return nil
	}
	return err
}

// plainError is a store error's words without the package's prefixes.
func plainError(err error) string {
	msg := err.Error()
	if i := strings.LastIndex(msg, "store: "); i >= 0 {
		msg = msg[i+len("store: "):]
	}
	return msg
}

// ---- users ------------------------------------------------------------------

func (a *Admin) usersPage(co *ioloop.Co, c *web.Context, v view) error {
	q := v.query
	f := views.UserFilter{
		Search: strings.TrimSpace(q.Get("q")), Role: q.Get("role"), Kind: q.Get("kind"),
		Muted: q.Get("muted") != "", Banned: q.Get("banned") != "", Sort: q.Get("sort"), Desc: q.Get("desc") != "",
	}
	d := views.AdminUsersData{AdminCommon: a.common(c, v, "Users"), Filter: f, AddressBans: true}
	uq := store.UserQuery{Search: f.Search, Muted: f.Muted, Banned: f.Banned, Now: d.Now,
		Sort: f.Sort, Desc: f.Desc, After: q.Get("after"), Limit: PageSize}
	switch f.Role {
	case "", "user", "moderator", "admin":
		uq.Role = store.Role(f.Role)
	default:
		return a.refusePage(co, c, v, http.StatusBadRequest, "Unknown role "+strconv.Quote(f.Role)+".")
	}
	switch f.Kind {
	case "guest", "registered":
		guests := f.Kind == "guest"
		uq.Guests = &guests
	case "":
	default:
		return a.refusePage(co, c, v, http.StatusBadRequest, "Unknown kind of user "+strconv.Quote(f.Kind)+".")
	}
	switch f.Sort {
	case "", "name", "joined", "messages":
	default:
		return a.refusePage(co, c, v, http.StatusBadRequest, "The users table sorts by name, joined or messages.")
	}
	type page struct {
		rows  []store.UserRow
		next  string
		total int
		rooms []store.Room
	}
	p, err := read(a, co, func(st *store.Store) (page, error) {
		rows, next, total, err := st.QueryUsers(ctxBackground, uq)
		if err != nil {
			return page{}, err
		}
		// The rooms the mute form offers (archived ones take no posts).
		rooms, err := st.ListRooms(ctxBackground, 0, store.MaxPageSize, false)
		return page{rows, next, total, rooms}, err
	})
	if err != nil {
		if err := badFilter(&v, err); err != nil {
			return err
		}
		d.AdminCommon = a.common(c, v, "Users")
	}
	doors := a.doorsByUser()
	d.Total, d.Next = p.total, p.next
	for _, r := range p.rooms {
		d.Rooms = append(d.Rooms, r.Name)
	}
	for _, r := range p.rows {
		d.Rows = append(d.Rows, views.AdminUserRow{
			ID: r.ID, Name: r.Name, Role: string(r.Role), Guest: r.Guest, Joined: r.CreatedAt, Messages: r.Messages,
			Doors: doors[r.ID], MutedUntil: r.MutedUntil, MuteReason: r.MuteReason, BannedUntil: r.BannedUntil, BanReason: r.BanReason,
			CanAct: canActOn(v.u, r.User) == nil,
		})
	}
	return answer(c, v, views.AdminUsers(d), d.Rows)
}

// doorsByUser lists the doors of each connected user's connections.
// Loop-only (it reads the engine).
func (a *Admin) doorsByUser() map[int64][]string {
	doors := map[int64][]string{}
	for _, ci := range a.cfg.Engine.Connections() {
		doors[ci.UserID] = append(doors[ci.UserID], string(ci.Door))
	}
	return doors
}

// ---- rooms ------------------------------------------------------------------

func (a *Admin) roomsPage(co *ioloop.Co, c *web.Context, v view) error {
	f := views.RoomFilter{Search: strings.TrimSpace(v.query.Get("q")), IncludeArchived: v.query.Get("archived") != ""}
	d := views.AdminRoomsData{AdminCommon: a.common(c, v, "Rooms"), Filter: f}
	now := d.Now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	after := v.query.Get("after")
	type page struct {
		rows  []store.RoomRow
		next  string
		total int
	}
	p, err := read(a, co, func(st *store.Store) (page, error) {
		rows, next, total, err := st.QueryRooms(ctxBackground, f.Search, f.IncludeArchived, after, PageSize, today)
		return page{rows, next, total}, err
	})
	if err != nil {
		if err := badFilter(&v, err); err != nil {
			return err
		}
		d.AdminCommon = a.common(c, v, "Rooms")
	}
	online := a.onlineByRoom()
	d.Total, d.Next = p.total, p.next
	for _, r := range p.rows {
		d.Rows = append(d.Rows, views.AdminRoomRow{
			Name: r.Name, Title: r.Title, Topic: r.Topic, Online: online[r.Name], MessagesToday: r.MessagesToday,
			LastActivity: r.LastActivity, Locked: r.Locked, Archived: r.Archived, SlowMode: r.SlowMode,
		})
	}
	return answer(c, v, views.AdminRooms(d), d.Rows)
}

// onlineByRoom counts the distinct users connected to each room. Loop-only.
func (a *Admin) onlineByRoom() map[string]int {
	seen := map[string]map[int64]bool{}
	for _, ci := range a.cfg.Engine.Connections() {
		if seen[ci.Room] == nil {
			seen[ci.Room] = map[int64]bool{}
		}
		seen[ci.Room][ci.UserID] = true
	}
	online := make(map[string]int, len(seen))
	for room, users := range seen {
		online[room] = len(users)
	}
	return online
}

// ---- messages ---------------------------------------------------------------

func (a *Admin) messagesPage(co *ioloop.Co, c *web.Context, v view) error {
	q := v.query
	f := views.MessageFilter{Room: q.Get("room"), Author: strings.TrimSpace(q.Get("author")),
		Text: q.Get("text"), IncludeDeleted: q.Get("deleted") != ""}
	var before int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return a.refusePage(co, c, v, http.StatusBadRequest, "That page of the table cannot be shown: a bad cursor.")
		}
		before = n
	}
	d := views.AdminMessagesData{AdminCommon: a.common(c, v, "Messages"), Filter: f}
	type page struct {
		rooms []string
		rows  []store.MessageRow
		bad   string
	}
	p, err := read(a, co, func(st *store.Store) (page, error) {
		var p page
		listed, err := st.ListRooms(ctxBackground, 0, 500, true)
		if err != nil {
			return p, err
		}
		mq := store.MessageQuery{Author: f.Author, Text: f.Text, IncludeDeleted: f.IncludeDeleted, Before: before, Limit: PageSize}
		for _, r := range listed {
			p.rooms = append(p.rooms, r.Name)
			if r.Name == f.Room {
				mq.RoomID = r.ID
			}
		}
		if f.Room != "" && mq.RoomID == 0 {
			p.bad = "There is no room " + strconv.Quote(f.Room) + "."
			return p, nil
		}
		p.rows, err = st.QueryMessages(ctxBackground, mq)
		return p, err
	})
	if err != nil {
		if err := badFilter(&v, err); err != nil {
			return err
		}
	}
	if p.bad != "" {
		v.err, v.status = p.bad, http.StatusNotFound
	}
	d.AdminCommon = a.common(c, v, "Messages")
	sort.Strings(p.rooms)
	d.Rooms = p.rooms
	for _, r := range p.rows {
		d.Rows = append(d.Rows, messageRow(r))
	}
	if len(p.rows) == PageSize {
		d.Next = strconv.FormatInt(p.rows[len(p.rows)-1].ID, 10)
	}
	return answer(c, v, views.AdminMessages(d), d.Rows)
}

func messageRow(r store.MessageRow) views.AdminMessageRow {
	return views.AdminMessageRow{
		ID: r.ID, Room: r.RoomName, Author: r.AuthorName, AuthorID: r.AuthorID, Body: r.Body, At: r.CreatedAt,
		Edited: !r.EditedAt.IsZero(), DeletedAt: r.DeletedAt, Reports: r.Reports,
	}
}

func (a *Admin) contextPage(co *ioloop.Co, c *web.Context, v view, msg int64) error {
	rows, err := read(a, co, func(st *store.Store) ([]store.MessageRow, error) {
		return st.MessageContext(ctxBackground, msg, contextAround)
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return refusal(http.StatusNotFound, "There is no message "+strconv.FormatInt(msg, 10)+".")
	case err != nil:
		return err
	}
	d := views.AdminMessageContextData{AdminCommon: a.common(c, v, "Message "+strconv.FormatInt(msg, 10))}
	for _, r := range rows {
		row := messageRow(r)
		if r.ID == msg {
			row.Focus = true
			d.Message = row
		}
		d.Rows = append(d.Rows, row)
	}
	if d.Message.ID == 0 {
		return refusal(http.StatusNotFound, "There is no message "+strconv.FormatInt(msg, 10)+".")
	}
	return answer(c, v, views.AdminMessageContext(d), d.Rows)
}

// ---- reports ----------------------------------------------------------------

func (a *Admin) reportsPage(co *ioloop.Co, c *web.Context, v view) error {
	var after int64
	if s := v.query.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return a.refusePage(co, c, v, http.StatusBadRequest, "That page of the table cannot be shown: a bad cursor.")
		}
		after = n
	}
	type page struct {
		rows  []store.ReportRow
		total int
	}
	p, err := read(a, co, func(st *store.Store) (page, error) {
		rows, total, err := st.QueryReports(ctxBackground, true, after, PageSize)
		return page{rows, total}, err
	})
	if err != nil {
		return err
	}
	d := views.AdminReportsData{AdminCommon: a.common(c, v, "Reports"), TotalOpen: p.total}
	for _, r := range p.rows {
		d.Rows = append(d.Rows, views.AdminReportRow{ID: r.ID, Reason: r.Reason, Reporter: r.ReporterName, At: r.CreatedAt,
			Message: messageRow(r.Message), ResolvedAt: r.ResolvedAt, Resolution: r.Resolution})
	}
	if len(p.rows) == PageSize {
		d.Next = strconv.FormatInt(p.rows[len(p.rows)-1].ID, 10)
	}
	return answer(c, v, views.AdminReports(d), d.Rows)
}

// ---- connections ------------------------------------------------------------

// connectionsPage lists every open connection, from the engine on the
// loop. Whom the reader may kick is judged by each user's role, read from
// the store (one read of at most maxJudged distinct users; beyond that the
// rows offer the kick and the action itself judges).
func (a *Admin) connectionsPage(co *ioloop.Co, c *web.Context, v view) error {
	conns := a.cfg.Engine.Connections()
	var ids []int64
	seen := map[int64]bool{}
	for _, ci := range conns {
		if !seen[ci.UserID] && len(ids) < maxJudged {
			seen[ci.UserID] = true
			ids = append(ids, ci.UserID)
		}
	}
	users, err := read(a, co, func(st *store.Store) (map[int64]store.User, error) {
		users := make(map[int64]store.User, len(ids))
		for _, id := range ids {
			u, err := st.UserByID(ctxBackground, id)
			if err == nil {
				users[id] = u
			} else if !errors.Is(err, store.ErrNotFound) {
				return nil, err
			}
		}
		return users, nil
	})
	if err != nil {
		return err
	}
	d := views.AdminConnectionsData{AdminCommon: a.common(c, v, "Connections")}
	now := time.Now()
	count := map[string]int{}
	for _, ci := range conns {
		count[string(ci.Door)]++
		canKick := ci.UserID != v.u.ID
		if u, ok := users[ci.UserID]; ok {
			canKick = canActOn(v.u, u) == nil
		}
		d.Rows = append(d.Rows, views.AdminConnRow{
			ID: ci.ID, Door: string(ci.Door), UserID: ci.UserID, UserName: ci.UserName, Guest: ci.Guest, Room: ci.Room,
			Address: ci.Address, Since: ci.Since, QueuedBytes: ci.QueuedBytes, SinceRead: now.Sub(ci.LastRead),
			CanKick: canKick,
		})
	}
	for _, door := range []rooms.Door{rooms.DoorWebSocket, rooms.DoorSSE, rooms.DoorPoll} {
		d.ByDoor = append(d.ByDoor, views.DoorCount{Door: string(door), Count: count[string(door)]})
	}
	return answer(c, v, views.AdminConnections(d), d.Rows)
}

// maxJudged bounds the users the connections page reads to judge whom the
// reader may kick.
const maxJudged = 500

// ---- audit ------------------------------------------------------------------

func (a *Admin) auditPage(co *ioloop.Co, c *web.Context, v view) error {
	q := v.query
	f := views.AuditFilter{Actor: strings.TrimSpace(q.Get("actor")), Target: strings.TrimSpace(q.Get("target")), Action: q.Get("action")}
	var before int64
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return a.refusePage(co, c, v, http.StatusBadRequest, "That page of the table cannot be shown: a bad cursor.")
		}
		before = n
	}
	type page struct {
		rows []store.AuditEntry
		bad  string
	}
	p, err := read(a, co, func(st *store.Store) (page, error) {
		aq := store.AuditQuery{Target: f.Target, Action: f.Action, Before: before, Limit: PageSize}
		if f.Actor != "" {
			actor, err := st.UserByName(ctxBackground, f.Actor)
			if errors.Is(err, store.ErrNotFound) {
				return page{bad: "There is no user named " + strconv.Quote(f.Actor) + "."}, nil
			}
			if err != nil {
				return page{}, err
			}
			aq.ActorID = actor.ID
		}
		rows, err := st.QueryAudit(ctxBackground, aq)
		return page{rows: rows}, err
	})
	if err != nil {
		return err
	}
	if p.bad != "" {
		v.err, v.status = p.bad, http.StatusNotFound
	}
	d := views.AdminAuditData{AdminCommon: a.common(c, v, "Audit log"), Filter: f}
	for _, e := range p.rows {
		d.Rows = append(d.Rows, views.AdminAuditRow{ID: e.ID, Actor: e.ActorName, ActorID: e.ActorID, Action: e.Action,
			Target: e.Target, Details: e.Details, Address: e.Address, At: e.CreatedAt})
	}
	if len(p.rows) == PageSize {
		d.Next = strconv.FormatInt(p.rows[len(p.rows)-1].ID, 10)
	}
	return answer(c, v, views.AdminAudit(d), d.Rows)
}

// refusePage renders v's page without its filters, with the error and the
// status: a filter that makes no sense is shown, not obeyed.
func (a *Admin) refusePage(co *ioloop.Co, c *web.Context, v view, status int, msg string) error {
	v.query = url.Values{}
	v.err, v.status = msg, status
	return a.render(co, c, v)
}

// tableRoutes are the GET pages: /admin (to the live panel) and the tables.
func (a *Admin) tableRoutes() []web.Spec {
	page := func() web.Handler { return tableHandler{a} }
	return []web.Spec{
		{Name: "admin", Pattern: "/admin", New: page},
		{Name: "admin-slash", Pattern: "/admin/", New: page},
		{Name: "admin-users", Pattern: "/admin/users", New: page},
		{Name: "admin-rooms", Pattern: "/admin/rooms", New: page},
		{Name: "admin-messages", Pattern: "/admin/messages", New: page},
		{Name: "admin-message", Pattern: "/admin/messages/{msg}", New: page},
		{Name: "admin-reports", Pattern: "/admin/reports", New: page},
		{Name: "admin-connections", Pattern: "/admin/connections", New: page},
		{Name: "admin-audit", Pattern: "/admin/audit", New: page},
		{Name: "admin-bans", Pattern: "/admin/bans", New: page},
	}
}
