package views

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/a-h/templ"
)

// Hostile strings as users might type them into names, titles, topics and
// bodies: none may come out as markup.
var hostile = []string{
	`<script>alert(1)</script>`,
	`" onmouseover="x`,
	`' onfocus='x`,
	`javascript:alert(1)`,
	`<img src=x onerror=alert(1)>`,
}

func render(t *testing.T, c templ.Component) string {
	t.Helper()
	var b bytes.Buffer
	if err := c.Render(context.Background(), &b); err != nil {
		t.Fatalf("render: %v", err)
	}
	return b.String()
}

func hostilePage(kind string) Page {
	return Page{
		Title: hostile[0], Stylesheet: "/static/css/app.css?v=1", Script: "/static/js/app.js?v=1",
		User: &PageUser{ID: 1, Name: hostile[1], Guest: true}, Kind: kind,
		XSRFForm: `<input type="hidden" name="_xsrf" value="tok">`,
	}
}

// tag is a start tag as the browser would read it: its name and attributes.
type tag struct {
	name  string
	attrs map[string]string
	order []string
}

// parseTags reads the start tags of html the way an HTML tokenizer does
// (comments and doctype skipped, quoted and bare attribute values), enough
// to see whether text that users typed turned into tags or attributes.
func parseTags(t *testing.T, html string) []tag {
	t.Helper()
	var tags []tag
	i := 0
	for {
		j := strings.IndexByte(html[i:], '<')
		if j < 0 {
			return tags
		}
		i += j + 1
		if strings.HasPrefix(html[i:], "!--") {
			k := strings.Index(html[i:], "-->")
			if k < 0 {
				t.Fatal("unterminated comment")
			}
			i += k + 3
			continue
		}
		if i < len(html) && (html[i] == '!' || html[i] == '/') {
			continue
		}
		start := i
		for i < len(html) && isTagNameChar(html[i]) {
			i++
		}
		if start == i {
			t.Errorf("a bare '<' in the markup at %d: %q", i, html[max(0, i-20):min(len(html), i+20)])
			continue
		}
		tg := tag{name: strings.ToLower(html[start:i]), attrs: map[string]string{}}
		for {
			for i < len(html) && strings.IndexByte(" \t\n\r\f/", html[i]) >= 0 {
				i++
			}
			if i >= len(html) {
				t.Fatal("unterminated tag")
			}
			if html[i] == '>' {
				i++
				break
			}
			ns := i
			for i < len(html) && strings.IndexByte(" \t\n\r\f/=>", html[i]) < 0 {
				i++
			}
			name := strings.ToLower(html[ns:i])
			value := ""
			if i < len(html) && html[i] == '=' {
				i++
				switch q := html[i]; q {
				case '"', '\'':
					k := strings.IndexByte(html[i+1:], q)
					if k < 0 {
						t.Fatal("unterminated attribute value")
					}
					value = html[i+1 : i+1+k]
					i += k + 2
				default:
					vs := i
					for i < len(html) && strings.IndexByte(" \t\n\r\f>", html[i]) < 0 {
						i++
					}
					value = html[vs:i]
				}
			}
			tg.attrs[name] = value
			tg.order = append(tg.order, name)
		}
		tags = append(tags, tg)
	}
}

func isTagNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// The tags and attributes the templates write; anything else came from
// data that escaped its escaping.
var (
	allowedTags = map[string]bool{
		"html": true, "head": true, "meta": true, "title": true, "link": true, "script": true, "body": true,
		"a": true, "header": true, "nav": true, "span": true, "form": true, "button": true, "main": true,
		"section": true, "h1": true, "h2": true, "p": true, "ul": true, "ol": true, "li": true, "time": true,
		"div": true, "aside": true, "label": true, "input": true, "textarea": true,
	}
	allowedAttrs = map[string]bool{
		"lang": true, "charset": true, "name": true, "content": true, "rel": true, "href": true, "type": true,
		"src": true, "class": true, "id": true, "method": true, "action": true, "value": true, "title": true,
		"target": true, "datetime": true, "for": true, "required": true, "maxlength": true, "pattern": true,
		"autocomplete": true, "rows": true, "placeholder": true, "role": true, "hidden": true, "tabindex": true,
	}
)

// checkNoInjection fails when html holds a tag or attribute the templates
// do not write (so user text became markup), a script other than the
// page's module, an inline style or handler, or a javascript: link.
func checkNoInjection(t *testing.T, html string) {
	t.Helper()
	scripts := 0
	for _, tg := range parseTags(t, html) {
		if !allowedTags[tg.name] {
			t.Errorf("unexpected <%s> %v", tg.name, tg.attrs)
		}
		for _, a := range tg.order {
			if !allowedAttrs[a] && !strings.HasPrefix(a, "data-") && !strings.HasPrefix(a, "aria-") {
				t.Errorf("unexpected attribute %q on <%s>", a, tg.name)
			}
		}
		if tg.name == "script" {
			scripts++
			if tg.attrs["type"] != "module" || tg.attrs["src"] == "" {
				t.Errorf("script %v is not the page module", tg.attrs)
			}
		}
		if href, ok := tg.attrs["href"]; ok {
			h := strings.ToLower(strings.TrimSpace(href))
			if !strings.HasPrefix(h, "/") && !strings.HasPrefix(h, "http://") && !strings.HasPrefix(h, "https://") && !strings.HasPrefix(h, "#") {
				t.Errorf("href %q", href)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("page holds %d script elements, want the one module", scripts)
	}
}

func checkIDs(t *testing.T, html string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if !strings.Contains(html, `id="`+id+`"`) {
			t.Errorf("no element with id %q", id)
		}
	}
}

func TestRoomListEscapesAndHasIDs(t *testing.T) {
	var rooms []RoomSummary
	for i, h := range hostile {
		rooms = append(rooms, RoomSummary{Name: "r" + string(rune('a'+i)), Title: h, Topic: h, Online: i, LastActivity: time.Unix(1700000000, 0), Locked: i%2 == 0})
	}
	d := RoomListData{
		Page: hostilePage("rooms"), Rooms: rooms, CanCreate: true,
		Form: NewRoomForm{Name: hostile[1], Title: hostile[0], Topic: hostile[2], Errors: map[string]string{
			"": hostile[0], "name": hostile[1], "title": hostile[3], "topic": hostile[4],
		}},
	}
	html := render(t, RoomList(d))
	checkNoInjection(t, html)
	checkIDs(t, html, "room-list", "new-room", "room-name", "room-title", "room-topic",
		"room-name-error", "room-title-error", "room-topic-error", "new-room-error", "create-room", "whoami", "signout")
	for _, want := range []string{`data-room="ra"`, `class="room-link" href="/rooms/ra"`, `class="room-title"`,
		`class="room-topic"`, `class="room-online">0 online`, `class="room-activity" datetime="2023-11-14T22:13:20.000Z"`,
		`class="badge badge-locked"`, `data-page="rooms"`} {
		if !strings.Contains(html, want) {
			t.Errorf("room list lacks %s", want)
		}
	}
}

func TestRoomListStates(t *testing.T) {
	tests := []struct {
		name     string
		d        RoomListData
		has, not []string
	}{
		{"empty, signed in", RoomListData{Page: hostilePage("rooms"), CanCreate: true},
			[]string{"No rooms yet.", `id="new-room"`}, []string{`id="room-list"`, `id="room-name-error"`, `id="new-room-error"`}},
		{"empty, signed out", RoomListData{Page: Page{Kind: "rooms"}},
			[]string{"No rooms yet.", `href="/signin?next=/"`}, []string{`id="new-room"`}},
		{"no errors", RoomListData{Page: hostilePage("rooms"), CanCreate: true, Rooms: []RoomSummary{{Name: "lobby", Title: "Lobby"}}},
			[]string{`id="room-list"`}, []string{"No rooms yet.", "field-error", `class="room-activity"`, `class="room-topic"`, "badge-locked"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			html := render(t, RoomList(tt.d))
			for _, s := range tt.has {
				if !strings.Contains(html, s) {
					t.Errorf("lacks %s", s)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(html, s) {
					t.Errorf("has %s", s)
				}
			}
		})
	}
}

func TestRoomPageEscapesAndHasIDs(t *testing.T) {
	at := time.Date(2026, 12, 3, 9, 5, 0, 123e6, time.UTC)
	var items []RoomItem
	for i, h := range hostile {
		items = append(items, RoomItem{Kind: ItemMessage, EventID: int64(100 + i), Msg: int64(10 + i), Author: h, Guest: i == 0,
			Body: h + " see javascript:alert(1) and https://example.com/x?q=\"><script>", At: at, Edited: i == 1, Own: i == 2, Mention: i == 3})
		items = append(items, RoomItem{Kind: ItemNotice, EventID: int64(200 + i), Author: h, Text: "renamed the room to " + h, At: at})
	}
	d := RoomPageData{
		Page:  hostilePage("room"),
		Room:  RoomHeader{Name: "lobby", Title: hostile[0], Topic: hostile[1], Locked: true, SlowMode: 5},
		Items: items, LastID: 204, FirstID: 100, More: true,
		Online:      []OnlineUser{{Name: hostile[0], Guest: true}, {Name: "ada"}},
		OnlineCount: 2, Me: PageUser{Name: hostile[1]}, CanModerate: false,
	}
	html := render(t, RoomPage(d))
	checkNoInjection(t, html)
	checkIDs(t, html, "room", "room-title", "room-topic", "room-flags", "conn-status", "online", "online-count",
		"online-list", "history", "load-older", "history-status", "timeline", "typing", "composer", "composer-input",
		"send", "composer-error", "m-10", "e-200", "whoami", "signout")
	for _, want := range []string{
		`data-room="lobby"`, `data-last-id="204"`, `data-first-id="100"`, `data-more="true"`, `data-can-moderate="false"`,
		`data-me="&#34; onmouseover=&#34;x"`, `data-state="connecting"`, `>Connecting…<`, `role="log"`, `aria-live="polite"`,
		`class="msg" id="m-10" data-msg="10" data-id="100"`, `class="msg own" id="m-12"`, `class="msg mention" id="m-13"`,
		`datetime="2026-12-03T09:05:00.123Z">09:05<`, `class="edited"`, `class="online-user"`, `class="badge badge-guest"`,
		`<a href="https://example.com/x?q=" rel="noopener noreferrer nofollow" target="_blank">`,
		`Locked · Slow mode: 5 s`, `maxlength="4000"`, `name="body"`, `data-page="room"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("room page lacks %s", want)
		}
	}
	// Own messages offer edit and delete, others' report only.
	own := html[strings.Index(html, `id="m-12"`):strings.Index(html, `id="e-202"`)]
	other := html[strings.Index(html, `id="m-13"`):strings.Index(html, `id="e-203"`)]
	for _, c := range []struct {
		part, button string
		want         bool
	}{{own, `class="edit"`, true}, {own, `class="delete"`, true}, {own, `class="report"`, false},
		{other, `class="edit"`, false}, {other, `class="delete"`, false}, {other, `class="report"`, true}} {
		if strings.Contains(c.part, c.button) != c.want {
			t.Errorf("button %s shown: %v, want %v", c.button, !c.want, c.want)
		}
	}
}

func TestRoomPageModeratorAndEmpty(t *testing.T) {
	d := RoomPageData{Page: hostilePage("room"), Room: RoomHeader{Name: "x", Title: "X"}, CanModerate: true,
		Items: []RoomItem{{Kind: ItemMessage, EventID: 1, Msg: 1, Author: "bob", Body: "hi"}}}
	html := render(t, RoomPage(d))
	if !strings.Contains(html, `class="delete"`) || strings.Contains(html, `class="edit"`) {
		t.Error("a moderator should be offered delete, not edit, on another's message")
	}
	if !strings.Contains(html, `id="load-older" class="load-older" hidden`) {
		t.Error("load-older should be hidden when there is nothing older")
	}
	html = render(t, RoomPage(RoomPageData{Page: hostilePage("room"), Room: RoomHeader{Name: "x", Title: "X"}}))
	if !strings.Contains(html, "No messages yet.") {
		t.Error("an empty room should say so")
	}
}

func TestMessageBodyLinks(t *testing.T) {
	tests := []struct{ body, want string }{
		{"hi", "hi"},
		{"<b>x</b>", "&lt;b&gt;x&lt;/b&gt;"},
		{"a https://e.com/?a=1&b=2. b", `a <a href="https://e.com/?a=1&amp;b=2" rel="noopener noreferrer nofollow" target="_blank">https://e.com/?a=1&amp;b=2</a>. b`},
		{"javascript:alert(1)", "javascript:alert(1)"},
		{"line\nbreak", "line\nbreak"},
	}
	for _, tt := range tests {
		if got := render(t, MessageBody(tt.body)); got != tt.want {
			t.Errorf("MessageBody(%q) = %q, want %q", tt.body, got, tt.want)
		}
	}
}
