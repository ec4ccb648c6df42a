package views

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The dashboard's tags and attributes, besides the shell's: anything else
// in a rendered admin page came from data that escaped its escaping.
var (
	adminTags = map[string]bool{
		"table": true, "caption": true, "thead": true, "tbody": true, "tr": true, "th": true, "td": true,
		"select": true, "option": true, "strong": true, "q": true, "del": true,
	}
	adminAttrs = map[string]bool{
		"scope": true, "selected": true, "checked": true, "min": true, "max": true, "step": true, "form": true,
	}
)

// checkAdminPage fails when html holds markup the templates do not write,
// a script other than the page's module, an inline style or handler, a
// link that leaves the site's paths, or a hostile string unescaped.
func checkAdminPage(t *testing.T, html string) {
	t.Helper()
	scripts := 0
	for _, tg := range parseTags(t, html) {
		if !allowedTags[tg.name] && !adminTags[tg.name] {
			t.Errorf("unexpected <%s> %v", tg.name, tg.attrs)
		}
		for _, a := range tg.order {
			if !allowedAttrs[a] && !adminAttrs[a] && !strings.HasPrefix(a, "data-") && !strings.HasPrefix(a, "aria-") {
				t.Errorf("unexpected attribute %q on <%s>", a, tg.name)
			}
		}
		if tg.name == "script" {
			scripts++
			if tg.attrs["type"] != "module" || tg.attrs["src"] == "" {
				t.Errorf("script %v is not the page module", tg.attrs)
			}
		}
		for _, a := range []string{"href", "action"} {
			if v, ok := tg.attrs[a]; ok && !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "#") {
				t.Errorf("%s %q on <%s> is not a path of the site", a, v, tg.name)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("page holds %d script elements, want the one module", scripts)
	}
	for _, h := range hostile {
		if strings.Contains(html, h) && strings.ContainsAny(h, `<>"'`) {
			t.Errorf("hostile %q appears unescaped", h)
		}
	}
}

func mustHave(t *testing.T, html string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(html, w) {
			t.Errorf("lacks %s", w)
		}
	}
}

func mustLack(t *testing.T, html string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(html, w) {
			t.Errorf("holds %s", w)
		}
	}
}

var (
	adminNow = time.Date(2026, 12, 3, 19, 0, 0, 0, time.UTC)
	formRE   = regexp.MustCompile(`<form class="(action-[a-z-]+)" method="post" action="([^"]*)">`)
)

func hostileCommon(kind string) AdminCommon {
	return AdminCommon{
		Page: hostilePage(kind), Flash: hostile[0], Error: hostile[4],
		Back: "/admin/users?q=" + hostile[1], IsAdmin: true, Now: adminNow,
	}
}

// actionForms lists the action forms of html: class → the actions posted to.
func actionForms(html string) map[string][]string {
	forms := map[string][]string{}
	for _, m := range formRE.FindAllStringSubmatch(html, -1) {
		forms[m[1]] = append(forms[m[1]], m[2])
	}
	return forms
}

func TestAdminUsersEscapesAndHasHooks(t *testing.T) {
	var rows []AdminUserRow
	for i, h := range hostile {
		rows = append(rows, AdminUserRow{
			ID: int64(10 + i), Name: h, Role: "user", Guest: i%2 == 0, Joined: adminNow.Add(-time.Hour), Messages: int64(i),
			Doors: []string{"ws", "ws", "poll"}[:i%4], MutedUntil: adminNow.Add(time.Hour), MuteReason: h,
			BannedUntil: Forever, BanReason: h, CanAct: i != 2,
		})
	}
	rows[1].BannedUntil = time.Time{} // not banned: the ban form, not unban
	rows[3].MutedUntil = adminNow.Add(-time.Minute)
	d := AdminUsersData{
		AdminCommon: hostileCommon("admin"),
		Filter:      UserFilter{Search: hostile[0], Role: "moderator", Muted: true, Sort: "joined"},
		Rows:        rows, Total: 42, Next: hostile[2],
	}
	html := render(t, AdminUsers(d))
	checkAdminPage(t, html)
	checkIDs(t, html, "users", "admin-flash", "admin-error", "admin-nav", "filters", "admin-count", "users-heading")
	mustHave(t, html,
		`<table id="users" class="admin-table">`, `<tr data-id="10"`, `<tr data-id="14"`,
		`<p id="admin-flash" class="admin-flash" role="status">&lt;script&gt;`, `<p id="admin-error" class="admin-error" role="alert">&lt;img`,
		`<a class="next-page" rel="next" href="/admin/users?after=%27+onfocus%3D%27x&amp;muted=1&amp;q=%3Cscript%3E`,
		`href="/admin/users?desc=1&amp;muted=1&amp;q=`, // joined is ascending: its link turns it around
		`aria-sort="ascending"`, `aria-current="page"`, `data-section="users"`,
		`name="reason"`, `<select name="duration"`, `<button type="submit">Ban</button>`,
		`<input type="hidden" name="_xsrf" value="tok">`, `<input type="hidden" name="next" value="/admin/users?q=&#34; onmouseover=&#34;x">`,
		"Banned for good", "Muted until 2026-12-03 20:00 UTC", "WebSocket ×2, Long poll", "an address can be shared by many people",
		`<span class="admin-count" id="admin-count">42</span>`,
	)
	for _, v := range []string{"10m", "1h", "24h", "168h", "forever"} {
		mustHave(t, html, `<option value="`+v+`"`)
	}
	forms := actionForms(html)
	for class, n := range map[string]int{"action-mute": 1, "action-kick": 4, "action-ban": 1, "action-unban": 3,
		"action-unmute": 3, "action-role": 2} {
		if len(forms[class]) != n {
			t.Errorf("%d %s forms, want %d: %v", len(forms[class]), class, n, forms[class])
		}
	}
	if got := forms["action-ban"]; len(got) == 1 && got[0] != "/admin/users/11/ban" {
		t.Errorf("ban posts to %q", got[0])
	}
	if strings.Contains(html, `action="/admin/users/12/`) {
		t.Error("a user the reader may not act on was offered actions")
	}

	// A moderator is not offered roles.
	d.IsAdmin = false
	if html := render(t, AdminUsers(d)); strings.Contains(html, "action-role") {
		t.Error("a moderator was offered the role form")
	}
	// An empty last page: no next link, says so.
	html = render(t, AdminUsers(AdminUsersData{AdminCommon: AdminCommon{Page: hostilePage("admin")}}))
	mustHave(t, html, `id="admin-empty"`)
	mustLack(t, html, "next-page", `id="admin-flash"`, `id="admin-error"`)
}

func TestAdminRoomsEscapesAndHasHooks(t *testing.T) {
	d := AdminRoomsData{
		AdminCommon: hostileCommon("admin"), Filter: RoomFilter{Search: hostile[3], IncludeArchived: true},
		Rows: []AdminRoomRow{
			{Name: "lobby", Title: hostile[0], Topic: hostile[1], Online: 3, MessagesToday: 7, LastActivity: adminNow, Locked: true, SlowMode: 30},
			{Name: "garden", Title: hostile[4], Topic: hostile[2], Archived: true},
		},
		Total: 2, Next: "c2",
	}
	html := render(t, AdminRooms(d))
	checkAdminPage(t, html)
	checkIDs(t, html, "rooms", "admin-flash", "admin-error", "filters")
	mustHave(t, html, `<tr data-id="lobby">`, `<tr data-id="garden">`, `href="/rooms/lobby"`,
		`class="badge badge-locked"`, "slow mode 30 s", `class="badge badge-archived"`, `a class="next-page"`,
		`name="seconds"`, `value="30"`, `name="title"`, `name="topic"`, `checked`)
	forms := actionForms(html)
	want := map[string][]string{
		"action-unlock": {"/admin/rooms/lobby/unlock"}, "action-lock": {"/admin/rooms/garden/lock"},
		"action-archive": {"/admin/rooms/lobby/archive"}, "action-unarchive": {"/admin/rooms/garden/unarchive"},
		"action-slowmode": {"/admin/rooms/lobby/slowmode", "/admin/rooms/garden/slowmode"},
		"action-topic":    {"/admin/rooms/lobby/topic", "/admin/rooms/garden/topic"},
	}
	for class, paths := range want {
		if strings.Join(forms[class], " ") != strings.Join(paths, " ") {
			t.Errorf("%s posts to %v, want %v", class, forms[class], paths)
		}
	}
}

func TestAdminMessagesMarksDeleted(t *testing.T) {
	rows := []AdminMessageRow{
		{ID: 7, Room: "lobby", Author: hostile[1], AuthorID: 3, Body: hostile[0] + " https://example.com", At: adminNow, Reports: 2},
		{ID: 6, Room: "lobby", Author: hostile[2], Body: hostile[4], At: adminNow, DeletedAt: adminNow, Edited: true},
	}
	d := AdminMessagesData{AdminCommon: hostileCommon("admin"), Filter: MessageFilter{Room: "lobby", Author: hostile[1], Text: hostile[0], IncludeDeleted: true},
		Rooms: []string{"lobby", "garden"}, Rows: rows, Next: "6"}
	html := render(t, AdminMessages(d))
	checkAdminPage(t, html)
	checkIDs(t, html, "messages", "admin-flash", "admin-error", "filters")
	mustHave(t, html, `<tr data-id="7">`, `<tr data-id="6" class="deleted">`, `class="badge badge-deleted">deleted 2026-12-03 19:00 UTC`,
		`<del class="msg-text">&lt;img`, `href="/admin/messages/7"`, `<option value="lobby" selected>`,
		`a class="next-page" rel="next" href="/admin/messages?after=6&amp;author=`)
	// Links in bodies stay text for moderators.
	mustLack(t, html, `href="https://example.com"`)
	if forms := actionForms(html); strings.Join(forms["action-delete"], " ") != "/admin/messages/7/delete" {
		t.Errorf("delete forms %v; want only the live message's", forms["action-delete"])
	}

	ctx := AdminMessageContextData{AdminCommon: hostileCommon("admin"), Message: rows[0]}
	ctx.Rows = []AdminMessageRow{rows[1], rows[0]}
	ctx.Rows[1].Focus = true
	html = render(t, AdminMessageContext(ctx))
	checkAdminPage(t, html)
	checkIDs(t, html, "messages", "context-heading")
	mustHave(t, html, `<tr data-id="7" class="focus" aria-current="true">`, `<tr data-id="6" class="deleted">`, `href="/admin/messages?room=lobby"`)
	mustLack(t, html, `class="context"`)
}

func TestAdminReportsConnectionsAudit(t *testing.T) {
	msg := AdminMessageRow{ID: 9, Room: "lobby", Author: hostile[0], Body: hostile[1], At: adminNow}
	reports := AdminReportsData{AdminCommon: hostileCommon("admin"), TotalOpen: 1, Rows: []AdminReportRow{
		{ID: 4, Reason: hostile[4], Reporter: hostile[3], At: adminNow, Message: msg},
		{ID: 5, Reason: "spam", Reporter: "bob", At: adminNow, Message: msg, ResolvedAt: adminNow, Resolution: "dismissed"},
	}}
	html := render(t, AdminReports(reports))
	checkAdminPage(t, html)
	checkIDs(t, html, "reports", "admin-flash", "admin-error")
	mustHave(t, html, `<tr data-id="4" data-msg="9">`, `name="resolution"`, `<option value="deleted"`, `<option value="warned"`,
		`<option value="dismissed"`, `href="/admin/messages/9"`, "dismissed 2026-12-03 19:00 UTC",
		`<form id="bulk-dismiss" class="action-dismiss-selected bulk-actions" method="post" action="/admin/reports/dismiss">`,
		`<input type="checkbox" name="id" value="4" form="bulk-dismiss"`)
	mustLack(t, html, `value="5" form="bulk-dismiss"`)
	if forms := actionForms(html); strings.Join(forms["action-resolve"], " ") != "/admin/reports/4/resolve" {
		t.Errorf("resolve forms %v", forms["action-resolve"])
	}

	conns := AdminConnectionsData{AdminCommon: hostileCommon("admin"),
		ByDoor: []DoorCount{{"ws", 1}, {"sse", 1}},
		Rows: []AdminConnRow{
			{ID: 31, Door: "ws", UserID: 3, UserName: hostile[0], Guest: true, Room: "lobby", Address: hostile[1], Since: adminNow, QueuedBytes: 2048, SinceRead: 3 * time.Second, CanKick: true},
			{ID: 32, Door: "sse", UserID: 1, UserName: "owner", Room: "lobby", Address: "127.0.0.1", Since: adminNow, SinceRead: 5 * time.Minute},
		}}
	html = render(t, AdminConnections(conns))
	checkAdminPage(t, html)
	checkIDs(t, html, "connections", "door-counts", "admin-flash")
	mustHave(t, html, `<tr data-id="31" data-user="3" data-door="ws">`, `<tr data-id="32"`, "2.0 KiB", "3 s ago", "5 min ago",
		"WebSocket", "Server-sent events", `<li data-door="sse">`)
	forms := actionForms(html)
	if strings.Join(forms["action-kick"], " ") != "/admin/connections/31/kick" || strings.Join(forms["action-kick-user"], " ") != "/admin/users/3/kick" {
		t.Errorf("kick forms %v", forms)
	}

	audit := AdminAuditData{AdminCommon: hostileCommon("admin"), Filter: AuditFilter{Actor: hostile[0], Target: "user:3", Action: "ban"},
		Rows: []AdminAuditRow{
			{ID: 100, Actor: hostile[2], Action: "ban", Target: "user:3", Details: hostile[0], Address: hostile[4], At: adminNow},
			{ID: 99, Actor: "owner", Action: "delete_message", Target: "message:9", At: adminNow},
			{ID: 98, Actor: "owner", Action: "mute", Target: hostile[3], At: adminNow},
		}, Next: "98"}
	html = render(t, AdminAudit(audit))
	checkAdminPage(t, html)
	checkIDs(t, html, "audit", "filters")
	mustHave(t, html, `<tr data-id="100" data-action="ban">`, `href="/admin/messages/9"`, `href="/admin/audit?target=user%3A3"`,
		`<option value="ban" selected>`, `a class="next-page" rel="next" href="/admin/audit?action=ban&amp;actor=`)
	mustLack(t, html, `href="javascript`)
}

func TestAdminHelpers(t *testing.T) {
	f := UserFilter{}
	if got := f.SortURL("name"); got != "/admin/users?desc=1&sort=name" {
		t.Errorf("unsorted table's name link %q; want descending (it is sorted by name already)", got)
	}
	if got := f.SortURL("messages"); got != "/admin/users?sort=messages" {
		t.Errorf("messages link %q", got)
	}
	f = UserFilter{Sort: "messages", Desc: true}
	if got, want := f.SortURL("messages"), "/admin/users?sort=messages"; got != want {
		t.Errorf("descending column's link %q, want %q", got, want)
	}
	if f.AriaSort("messages") != "descending" || f.AriaSort("name") != "none" {
		t.Error("aria-sort")
	}
	for d, want := range map[time.Duration]string{-time.Second: "0 s", 59 * time.Second: "59 s", 61 * time.Minute: "1 h", 72 * time.Hour: "3 d"} {
		if got := AdminAgo(d); got != want {
			t.Errorf("AdminAgo(%v) = %q, want %q", d, got, want)
		}
	}
	if AdminUntil(time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)) != "for good" {
		t.Error("year 9999 should read for good")
	}
	if (AdminAuditRow{Target: "message:x"}).TargetURL() != "" || (AdminAuditRow{Target: "nothing"}).TargetURL() != "" {
		t.Error("a malformed target got a link")
	}
	if AdminBytes(5) != "5 B" || AdminBytes(3<<20) != "3.0 MiB" {
		t.Error("AdminBytes")
	}
}

func TestAdminLayoutNav(t *testing.T) {
	html := render(t, AdminLayout(hostilePage("admin-live"), SectionLive))
	checkAdminPage(t, html)
	for _, s := range AdminSections {
		mustHave(t, html, `href="`+s.Path+`" data-section="`+s.Key+`"`)
	}
	if strings.Count(html, `aria-current="page"`) != 1 || !strings.Contains(html, `href="/admin/live" data-section="live" aria-current="page"`) {
		t.Error("the live section should be the one current")
	}
}
