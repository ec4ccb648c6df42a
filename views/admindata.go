package views

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The data of the dashboard's tables (package admin fills these from the
// store and the delivery engine; the admin_*.templ components present
// them). Every page is server-rendered: a search box and filters are a GET
// form, a sort is a link, paging is a "Next page" link carrying the
// listing's opaque cursor as ?after=, and every action is a POST form with
// the _xsrf field, which answers with a 303 back to the page (Back) and a
// flash, or with the page again and the error.
//
// Stable hooks for tests and e2e: table#users, #rooms, #messages, #reports,
// #connections, #audit; each row tr[data-id]; an action is
// form.action-<name> (action-mute, action-ban, ...); p#admin-flash,
// p#admin-error; a.next-page.

// Admin sections, in the order of the dashboard's navigation. AdminLayout
// marks the current one.
const (
	SectionLive        = "live"
	SectionUsers       = "users"
	SectionRooms       = "rooms"
	SectionMessages    = "messages"
	SectionReports     = "reports"
	SectionConnections = "connections"
	SectionAudit       = "audit"
	SectionBans        = "bans"
)

// AdminSection is one entry of the dashboard's navigation.
type AdminSection struct {
	Key, Label, Path string
}

// AdminSections is the dashboard's navigation.
var AdminSections = []AdminSection{
	{SectionLive, "Live", "/admin/live"},
	{SectionUsers, "Users", "/admin/users"},
	{SectionRooms, "Rooms", "/admin/rooms"},
	{SectionMessages, "Messages", "/admin/messages"},
	{SectionReports, "Reports", "/admin/reports"},
	{SectionConnections, "Connections", "/admin/connections"},
	{SectionAudit, "Audit log", "/admin/audit"},
	{SectionBans, "Address bans", "/admin/bans"},
}

// AdminCommon is what every table page shows besides its table.
type AdminCommon struct {
	Page
	// Flash is the outcome of the action just done ("Muted ada until ..."),
	// shown in p#admin-flash; Error is why an action or a filter was
	// refused, in p#admin-error. Either may be empty.
	Flash, Error string
	// Back is this page's own URL (path and query): the action forms send
	// it as "next", so the answer comes back to the same view.
	Back string
	// IsAdmin: the reader is an administrator (roles may be changed).
	IsAdmin bool
	// Now is when the page was made: "muted until" is compared to it.
	Now time.Time
}

// Durations a mute or a ban may last: the values of select[name=duration].
// "forever" is for good; anything else must parse as a Go duration.
var AdminDurations = []struct{ Value, Label string }{
	{"10m", "10 minutes"},
	{"1h", "1 hour"},
	{"24h", "1 day"},
	{"168h", "1 week"},
	{"forever", "For good"},
}

// DurationForever is the duration value meaning "for good".
const DurationForever = "forever"

// Roles, as the role form offers them.
var AdminRoles = []string{"user", "moderator", "admin"}

// Resolutions of a report, as the resolve form offers them.
var AdminResolutions = []struct{ Value, Label string }{
	{"deleted", "Delete the message"},
	{"warned", "Warned the author"},
	{"dismissed", "Dismiss"},
}

// ---- users ----------------------------------------------------------------

// UserFilter is the users table's search, filters and sort.
type UserFilter struct {
	Search string // name contains, case-insensitive
	Role   string // "", "user", "moderator", "admin"
	Kind   string // "", "guest", "registered"
	Muted  bool   // only those muted now
	Banned bool   // only those banned now
	Sort   string // "name", "joined", "messages"; "" is by name
	Desc   bool
}

// Values are the filter as URL parameters (empty ones left out).
func (f UserFilter) Values() url.Values {
	v := url.Values{}
	set(v, "q", f.Search)
	set(v, "role", f.Role)
	set(v, "kind", f.Kind)
	setBool(v, "muted", f.Muted)
	setBool(v, "banned", f.Banned)
	set(v, "sort", f.Sort)
	setBool(v, "desc", f.Desc)
	return v
}

// UserSorts are the users table's sortable columns.
var UserSorts = []string{"name", "joined", "messages"}

// SortURL is the link of a column header: sorted by that column,
// ascending, or descending when it is already sorted ascending by it.
func (f UserFilter) SortURL(column string) string {
	g := f
	g.Desc = f.sortColumn() == column && !f.Desc
	g.Sort = column
	return pageURL("/admin/users", g.Values())
}

// AriaSort is the aria-sort of a column header: "ascending",
// "descending", or "none" for a column the table is not sorted by.
func (f UserFilter) AriaSort(column string) string {
	return ariaSort(f.sortColumn() == column, f.Desc)
}

func (f UserFilter) sortColumn() string {
	if f.Sort == "" {
		return "name"
	}
	return f.Sort
}

// AdminUserRow is one user in the users table.
type AdminUserRow struct {
	ID       int64
	Name     string
	Role     string // "user", "moderator", "admin"
	Guest    bool
	Joined   time.Time
	Messages int64
	// Doors are the doors the user is connected by now ("ws", "sse",
	// "poll"), one per connection; empty: offline.
	Doors       []string
	MutedUntil  time.Time // zero or past: not muted
	MuteReason  string
	BannedUntil time.Time // zero or past: not banned
	BanReason   string
	// CanAct: the reader may moderate this user (not themselves, and a
	// moderator only plain users). The forms are shown only then.
	CanAct bool
}

// AdminUsersData is the users page.
type AdminUsersData struct {
	AdminCommon
	Filter UserFilter
	Rows   []AdminUserRow
	Total  int // users matching the filter, on every page
	// Next is the cursor of the next page ("" on the last).
	Next string
	// AddressBans: the ban form also offers to ban the client's address
	// (shown with the shared-address caveat). Off: account bans only.
	AddressBans bool
	// Rooms are the names the mute form offers to mute in (besides
	// everywhere).
	Rooms []string
}

// NextURL is the link to the next page.
func (d AdminUsersData) NextURL() string {
	return withAfter("/admin/users", d.Filter.Values(), d.Next)
}

// ---- rooms ------------------------------------------------------------------

// RoomFilter is the rooms table's search.
type RoomFilter struct {
	Search          string // name or title contains
	IncludeArchived bool
}

// Values are the filter as URL parameters.
func (f RoomFilter) Values() url.Values {
	v := url.Values{}
	set(v, "q", f.Search)
	setBool(v, "archived", f.IncludeArchived)
	return v
}

// AdminRoomRow is one room in the rooms table.
type AdminRoomRow struct {
	Name          string
	Title         string
	Topic         string
	Online        int // members online now
	MessagesToday int64
	LastActivity  time.Time // zero: nothing yet
	Locked        bool
	Archived      bool
	SlowMode      int // seconds; 0: off
}

// AdminRoomsData is the rooms page.
type AdminRoomsData struct {
	AdminCommon
	Filter RoomFilter
	Rows   []AdminRoomRow
	Total  int
	Next   string
}

// NextURL is the link to the next page.
func (d AdminRoomsData) NextURL() string {
	return withAfter("/admin/rooms", d.Filter.Values(), d.Next)
}

// ---- messages ---------------------------------------------------------------

// MessageFilter is the messages search.
type MessageFilter struct {
	Room           string // a room's name; "": every room
	Author         string // the author's name, exactly (case-insensitive)
	Text           string // the body contains
	IncludeDeleted bool
}

// Values are the filter as URL parameters.
func (f MessageFilter) Values() url.Values {
	v := url.Values{}
	set(v, "room", f.Room)
	set(v, "author", f.Author)
	set(v, "text", f.Text)
	setBool(v, "deleted", f.IncludeDeleted)
	return v
}

// AdminMessageRow is one message as a moderator sees it: deleted ones
// keep their text and are marked.
type AdminMessageRow struct {
	ID        int64
	Room      string // the room's name
	Author    string
	AuthorID  int64
	Body      string // plain text, never HTML
	At        time.Time
	Edited    bool
	DeletedAt time.Time // zero: not deleted
	Reports   int       // reports made about it (open or not)
	// Focus marks the message a context view is about.
	Focus bool
}

// Deleted reports whether the message was deleted.
func (m AdminMessageRow) Deleted() bool { return !m.DeletedAt.IsZero() }

// ContextURL is the link to the message among its neighbours.
func (m AdminMessageRow) ContextURL() string {
	return "/admin/messages/" + strconv.FormatInt(m.ID, 10)
}

// AdminMessagesData is the messages search page.
type AdminMessagesData struct {
	AdminCommon
	Filter MessageFilter
	Rooms  []string // rooms to pick from, by name
	Rows   []AdminMessageRow
	// Next is the cursor of the next (older) page; "" on the last.
	Next string
}

// NextURL is the link to the next page.
func (d AdminMessagesData) NextURL() string {
	return withAfter("/admin/messages", d.Filter.Values(), d.Next)
}

// AdminMessageContextData is one message among the events around it in
// its room, oldest first, deleted ones included and marked.
type AdminMessageContextData struct {
	AdminCommon
	Message AdminMessageRow // the one asked for (also in Rows, with Focus)
	Rows    []AdminMessageRow
}

// ---- reports ----------------------------------------------------------------

// AdminReportRow is one report with the message it is about.
type AdminReportRow struct {
	ID         int64
	Reason     string
	Reporter   string
	At         time.Time
	Message    AdminMessageRow
	ResolvedAt time.Time // zero: open
	Resolution string    // "deleted", "warned", "dismissed"
}

// Open reports whether the report still waits for a moderator.
func (r AdminReportRow) Open() bool { return r.ResolvedAt.IsZero() }

// AdminReportsData is the reports queue: open reports, oldest first.
type AdminReportsData struct {
	AdminCommon
	Rows      []AdminReportRow
	TotalOpen int
	Next      string
}

// NextURL is the link to the next page.
func (d AdminReportsData) NextURL() string {
	return withAfter("/admin/reports", url.Values{}, d.Next)
}

// ---- connections ------------------------------------------------------------

// AdminConnRow is one open connection.
type AdminConnRow struct {
	ID          uint64
	Door        string // "ws", "sse", "poll"
	UserID      int64
	UserName    string
	Guest       bool
	Room        string
	Address     string
	Since       time.Time
	QueuedBytes int
	// SinceRead is how long ago the client last sent a frame or a request.
	SinceRead time.Duration
	// CanKick: the reader may moderate the connection's user.
	CanKick bool
}

// DoorCount is how many connections one door holds.
type DoorCount struct {
	Door  string
	Count int
}

// AdminConnectionsData is the connections inspector: every open
// connection now.
type AdminConnectionsData struct {
	AdminCommon
	Rows   []AdminConnRow
	ByDoor []DoorCount
}

// DoorLabel names a door for people.
func DoorLabel(door string) string {
	switch door {
	case "ws":
		return "WebSocket"
	case "sse":
		return "Server-sent events"
	case "poll":
		return "Long poll"
	}
	return door
}

// ---- audit ------------------------------------------------------------------

// AuditFilter is the audit log's filters.
type AuditFilter struct {
	Actor  string // the actor's name
	Target string // "user:12", "room:3", "message:99", "report:5"
	Action string // one of AuditActions' values
}

// Values are the filter as URL parameters.
func (f AuditFilter) Values() url.Values {
	v := url.Values{}
	set(v, "actor", f.Actor)
	set(v, "target", f.Target)
	set(v, "action", f.Action)
	return v
}

// AuditActions are the audit log's actions, for the filter.
var AuditActions = []string{
	"set_role", "mute", "unmute", "ban", "unban", "kick", "delete_message", "set_room_topic", "set_room_locked",
	"set_room_archived", "set_room_slow_mode", "change_room", "resolve_report",
}

// AdminAuditRow is one entry of the audit log.
type AdminAuditRow struct {
	ID      int64
	Actor   string
	ActorID int64
	Action  string
	Target  string
	Details string
	Address string // the actor's client address
	At      time.Time
}

// TargetURL is a link to what an entry's target names, or "" when there
// is no page for it.
func (r AdminAuditRow) TargetURL() string {
	kind, id, ok := strings.Cut(r.Target, ":")
	if !ok {
		return ""
	}
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		return ""
	}
	switch kind {
	case "message":
		return "/admin/messages/" + id
	case "user", "room", "report":
		return pageURL("/admin/audit", url.Values{"target": {r.Target}})
	}
	return ""
}

// AdminAuditData is the audit log, newest first.
type AdminAuditData struct {
	AdminCommon
	Filter AuditFilter
	Rows   []AdminAuditRow
	Next   string
}

// NextURL is the link to the next page.
func (d AdminAuditData) NextURL() string {
	return withAfter("/admin/audit", d.Filter.Values(), d.Next)
}

// ---- helpers ----------------------------------------------------------------

func set(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}

func setBool(v url.Values, key string, b bool) {
	if b {
		v.Set(key, "1")
	}
}

// pageURL is path with the query v (none when empty). Values are encoded,
// so what users typed cannot leave the query.
func pageURL(path string, v url.Values) string {
	if q := v.Encode(); q != "" {
		return path + "?" + q
	}
	return path
}

func withAfter(path string, v url.Values, after string) string {
	v.Set("after", after)
	return pageURL(path, v)
}

func ariaSort(sorted, desc bool) string {
	switch {
	case !sorted:
		return "none"
	case desc:
		return "descending"
	}
	return "ascending"
}

// AdminTime is how the dashboard shows a time: UTC to the minute.
func AdminTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}

// Forever is the first instant counted as "for good": a mute or ban that
// lasts until then or later never ends.
var Forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// AdminUntil is how the dashboard shows the end of a mute or a ban.
func AdminUntil(t time.Time) string {
	if !t.Before(Forever) {
		return "for good"
	}
	return "until " + AdminTime(t)
}

// AdminAgo is a short duration for people: "3 s", "4 min", "2 h".
func AdminAgo(d time.Duration) string {
	switch {
	case d < 0:
		d = 0
		fallthrough
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + " s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + " min"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + " h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + " d"
}

// AdminBytes is a byte count for people.
func AdminBytes(n int) string {
	switch {
	case n < 1024:
		return strconv.Itoa(n) + " B"
	case n < 1024*1024:
		return strconv.FormatFloat(float64(n)/1024, 'f', 1, 64) + " KiB"
	}
	return strconv.FormatFloat(float64(n)/(1024*1024), 'f', 1, 64) + " MiB"
}
