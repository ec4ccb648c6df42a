package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// sentMessage is one message a test sent, in order.
type sentMessage struct{ author, body string }

// exactlyOnce checks that the page's timeline holds the sent messages,
// each once, in the order sent, and nothing else: no duplicate, no gap,
// nothing left pending.
func exactlyOnce(t *testing.T, b *browser, sent []sentMessage) {
	t.Helper()
	items := b.timeline()
	seen := map[string]bool{}
	var got []sentMessage
	for _, it := range items {
		for _, c := range it.Classes {
			if c == "pending" || c == "failed" {
				t.Errorf("%s's timeline: %q is still %s", b.name, it.Body, c)
			}
		}
		if it.Msg == "" {
			t.Errorf("%s's timeline: %q has no data-msg", b.name, it.Body)
		} else if seen[it.Msg] {
			t.Errorf("%s's timeline: message %s (%q) shown twice", b.name, it.Msg, it.Body)
		}
		seen[it.Msg] = true
		got = append(got, sentMessage{it.User, it.Body})
	}
	if fmt.Sprint(got) != fmt.Sprint(sent) {
		t.Errorf("%s's timeline:\n got  %v\n want %v", b.name, got, sent)
	}
}

// chatBothWays has a and b each send one message, seen by both.
func chatBothWays(t *testing.T, a, b *browser, tag string) []sentMessage {
	t.Helper()
	m1 := sentMessage{a.name, fmt.Sprintf("%s: hello %s, %s here", tag, b.name, a.name)}
	a.send(m1.body)
	b.waitMessage(m1.author, m1.body)
	a.waitMessage(m1.author, m1.body)
	m2 := sentMessage{b.name, fmt.Sprintf("%s: hi %s!", tag, a.name)}
	b.sendWithEnter(m2.body)
	a.waitMessage(m2.author, m2.body)
	b.waitMessage(m2.author, m2.body)
	return []sentMessage{m1, m2}
}

// Scenario a: two signed-up users chat live in the lobby.
func TestTwoUsersChatLive(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada")
	ada.signUp("ada")
	ada.openRoom("lobby")
	bob := newBrowser(t, srv, "bob")
	bob.signUp("bob")
	bob.openRoom("lobby")

	sent := chatBothWays(t, ada, bob, "live")
	for _, p := range []*browser{ada, bob} {
		p.waitJS("both in #online-list", `(() => { const l = document.querySelector('#online-list'); return !!l && l.textContent.includes('ada') && l.textContent.includes('bob'); })()`)
	}
	own := eval[[]bool](ada, "own classes", `[...document.querySelectorAll('#timeline li.msg')].map(li => li.classList.contains('own'))`)
	if fmt.Sprint(own) != "[true false]" {
		t.Errorf("ada's timeline marks .own as %v; want [true false] (her message, then bob's)", own)
	}
	if os.Getenv("E2E_SCREENSHOT") == "1" {
		more := []sentMessage{
			{"ada", "The lobby is open: every message travels over one event loop."},
			{"bob", "And when the WebSocket is blocked, I fall back to SSE or long polling. @ada"},
			{"ada", "Links work too: https://example.com/docs"},
		}
		for _, m := range more {
			p := map[string]*browser{"ada": ada, "bob": bob}[m.author]
			p.send(m.body)
			ada.waitMessage(m.author, m.body)
			bob.waitMessage(m.author, m.body)
		}
		sent = append(sent, more...)
		screenshot(t, ada, filepath.Join("..", "docs", "screenshot.png"))
	}
	exactlyOnce(t, ada, sent)
	exactlyOnce(t, bob, sent)
}

// screenshot writes a full-page PNG of the browser's page.
func screenshot(t *testing.T, b *browser, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1200, 800)); err != nil {
		b.fail("screenshot viewport", err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("e2e: wrote %s", path)
}

// Scenario b: a guest whose browser has no WebSocket chats over SSE or
// long polling.
func TestChatWithoutWebSocket(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada")
	ada.signUp("ada")
	ada.openRoom("lobby")
	gwen := newBrowser(t, srv, "gwen", withoutWebSocket())
	gwen.joinAsGuest("gwen")
	if !eval[bool](gwen, "WebSocket blocked", `(() => { try { new WebSocket('ws://127.0.0.1:1/'); return false; } catch (e) { return true; } })()`) {
		t.Fatal("the blocking script did not take: new WebSocket works")
	}
	gwen.openRoom("lobby")
	door := eval[string](gwen, "chatClient.door", `window.chatClient.door`)
	if door != "sse" && door != "poll" {
		t.Fatalf("with WebSocket blocked chatClient.door = %q, want sse or poll", door)
	}
	if shown := eval[string](gwen, "#conn-status data-door", `document.querySelector('#conn-status').dataset.door`); shown != door {
		t.Errorf("#conn-status data-door = %q, chatClient.door = %q", shown, door)
	}
	sent := chatBothWays(t, ada, gwen, "no-ws")
	exactlyOnce(t, ada, sent)
	exactlyOnce(t, gwen, sent)
	if d := eval[string](ada, "ada's door", `window.chatClient.door`); d != "ws" {
		t.Errorf("ada (WebSocket allowed) uses door %q, want ws", d)
	}
}

// Scenario c: the server restarts mid-conversation; both pages reconnect
// and show every message exactly once.
func TestRestartMidConversation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		bobOpts []browserOption
	}{
		{"websocket", nil},
		{"bob without websocket", []browserOption{withoutWebSocket()}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			ada := newBrowser(t, srv, "ada")
			ada.joinAsGuest("ada")
			ada.openRoom("lobby")
			bob := newBrowser(t, srv, "bob", tc.bobOpts...)
			bob.joinAsGuest("bob")
			bob.openRoom("lobby")

			sent := chatBothWays(t, ada, bob, "before")
			ada.watchConnection()
			bob.watchConnection()
			srv.Restart()
			ada.waitReconnected()
			bob.waitReconnected()
			sent = append(sent, chatBothWays(t, ada, bob, "after")...)
			exactlyOnce(t, ada, sent)
			exactlyOnce(t, bob, sent)

			// A reload shows the same history, from the server.
			ada.openRoom("lobby")
			exactlyOnce(t, ada, sent)
		})
	}
}

// Scenario d: a message sent while the server is down waits in the outbox
// (shown pending) and is delivered once when the server is back, also
// across a reload of the page.
func TestOfflineSend(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada")
	ada.joinAsGuest("ada")
	ada.openRoom("lobby")
	bob := newBrowser(t, srv, "bob")
	bob.joinAsGuest("bob")
	bob.openRoom("lobby")
	sent := chatBothWays(t, ada, bob, "online")

	srv.Stop()
	ada.waitJS("ada's page to notice the server is gone", `document.querySelector('#conn-status').dataset.state !== 'live'`)
	offline := sentMessage{"ada", "written while the server was down"}
	ada.send(offline.body)
	ada.waitPending(offline.body)
	srv.Start()
	ada.waitMessage(offline.author, offline.body)
	bob.waitMessage(offline.author, offline.body)
	ada.waitJS("no .pending left", `!document.querySelector('#timeline li.msg.pending')`)
	sent = append(sent, offline)
	exactlyOnce(t, ada, sent)
	exactlyOnce(t, bob, sent)

	// Pending across a reload: the outbox lives in sessionStorage.
	srv.Stop()
	ada.waitJS("ada's page to notice the server is gone", `document.querySelector('#conn-status').dataset.state !== 'live'`)
	reloaded := sentMessage{"ada", "pending across a reload"}
	ada.send(reloaded.body)
	ada.waitPending(reloaded.body)
	stored := eval[string](ada, "sessionStorage outbox", `sessionStorage.getItem('outbox:lobby') || ''`)
	if !strings.Contains(stored, reloaded.body) {
		t.Fatalf("sessionStorage outbox:lobby = %q; want the pending message in it", stored)
	}
	{ // the reload fails: nobody listens
		ctx, cancel := context.WithTimeout(ada.ctx, stepTimeout)
		err := chromedp.Do(ctx, chromedp.Reload())
		cancel()
		t.Logf("reload with the server down: %v", err)
	}
	srv.Start()
	ada.openRoom("lobby")
	ada.waitMessage(reloaded.author, reloaded.body)
	bob.waitMessage(reloaded.author, reloaded.body)
	ada.waitJS("no .pending left", `!document.querySelector('#timeline li.msg.pending')`)
	sent = append(sent, reloaded)
	exactlyOnce(t, ada, sent)
	exactlyOnce(t, bob, sent)
	if n := eval[int](ada, "outbox", `window.chatClient.outbox().length`); n != 0 {
		t.Errorf("chatClient.outbox() has %d entries after delivery", n)
	}
}

// waitPending waits for the outbox item of body in the timeline.
func (b *browser) waitPending(body string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("%q shown .pending", body), `[...document.querySelectorAll('#timeline li.msg.pending')].some(li =>
		li.dataset.key && li.querySelector('.body') && li.querySelector('.body').textContent.trim() === `+js(body)+`)`)
	if n := eval[int](b, "outbox", `window.chatClient.outbox().filter(m => m.body === `+js(body)+`).length`); n != 1 {
		b.t.Errorf("%s: chatClient.outbox() holds %q %d times, want once", b.name, body, n)
	}
}

// Scenario e: markup in messages and in a room's title and topic shows as
// text; nothing runs.
func TestMarkupShowsAsText(t *testing.T) {
	srv := startServer(t)
	const (
		title = `<img src=x onerror="window.__xss=1"> Title`
		topic = `<script>window.__xss=1</script> topic <b>bold</b>`
	)
	bodies := []string{
		`<script>window.__xss=1</script>`,
		`<img src=x onerror="window.__xss=1">`,
		`javascript:window.__xss=1`,
		`see https://example.com/x`,
	}
	ada := newBrowser(t, srv, "ada")
	ada.signUp("ada")
	ada.open("/")
	ada.submit("create a room with markup in its title and topic",
		chromedp.WaitVisible(css("form#new-room")),
		chromedp.SendKeys(css("#room-name"), "markup"),
		chromedp.SendKeys(css("#room-title"), title),
		chromedp.SendKeys(css("#room-topic"), topic),
		chromedp.Click(css("#create-room")),
	)
	if got := eval[string](ada, "location", `location.pathname`); got != "/rooms/markup" {
		t.Fatalf("after creating the room ada is at %q, want /rooms/markup", got)
	}
	ada.openRoom("markup")
	bob := newBrowser(t, srv, "bob")
	bob.signUp("bob")
	bob.openRoom("markup")
	var sent []sentMessage
	for _, body := range bodies {
		ada.send(body)
		ada.waitMessage("ada", body)
		bob.waitMessage("ada", body)
		sent = append(sent, sentMessage{"ada", body})
	}
	check := func(b *browser, how string) {
		t.Helper()
		exactlyOnce(t, b, sent)
		checkInert(t, b, how, title, topic)
	}
	check(ada, "live")
	check(bob, "live")
	bob.openRoom("markup")
	check(bob, "server-rendered")

	bob.open("/")
	got := eval[map[string]any](bob, "room list", `(() => {
		const li = document.querySelector('#room-list li.room[data-room="markup"]');
		return {title: li ? li.querySelector('.room-title').textContent : null, tags: li ? li.querySelectorAll('img, script').length : -1, xss: typeof window.__xss};
	})()`)
	if got["title"] != title || got["tags"] != float64(0) || got["xss"] != "undefined" {
		t.Errorf("room list entry of the markup room: %v; want the title as text, no tags, no __xss", got)
	}
}

// checkInert asserts that nothing a user wrote became markup on the page.
func checkInert(t *testing.T, b *browser, how, title, topic string) {
	t.Helper()
	type report struct {
		XSS      string `json:"xss"`
		Tags     int    `json:"tags"`
		JSLinks  int    `json:"jsLinks"`
		Title    string `json:"title"`
		Topic    string `json:"topic"`
		LinkRel  string `json:"linkRel"`
		LinkText string `json:"linkText"`
		Links    int    `json:"links"`
	}
	r := eval[report](b, "inspect the page", `(() => {
		const tl = document.querySelector('#timeline');
		const link = tl.querySelector('a[href="https://example.com/x"]');
		return {
			xss: typeof window.__xss,
			tags: document.querySelectorAll('#timeline script, #timeline img, #timeline iframe, #timeline svg, #room-title *, #room-topic *').length,
			jsLinks: document.querySelectorAll('a[href^="javascript" i]').length,
			title: document.querySelector('#room-title').textContent.trim(),
			topic: document.querySelector('#room-topic').textContent.trim(),
			linkRel: link ? link.rel : '(no link)',
			linkText: link ? link.textContent : '',
			links: tl.querySelectorAll('a').length,
		};
	})()`)
	if r.XSS != "undefined" {
		t.Errorf("%s (%s): window.__xss is %s: user text ran as script", b.name, how, r.XSS)
	}
	if r.Tags != 0 || r.JSLinks != 0 {
		t.Errorf("%s (%s): %d elements from user text in the timeline or room header, %d javascript: links", b.name, how, r.Tags, r.JSLinks)
	}
	if r.Title != title || r.Topic != topic {
		t.Errorf("%s (%s): room header shows title %q, topic %q; want them as typed: %q, %q", b.name, how, r.Title, r.Topic, title, topic)
	}
	for _, want := range []string{"noopener", "noreferrer", "nofollow"} {
		if !strings.Contains(" "+r.LinkRel+" ", " "+want+" ") {
			t.Errorf("%s (%s): the link to https://example.com/x has rel %q, want %s in it", b.name, how, r.LinkRel, want)
		}
	}
	if r.Links != 1 || r.LinkText != "https://example.com/x" {
		t.Errorf("%s (%s): %d links in the timeline (text %q); want one, https://example.com/x", b.name, how, r.Links, r.LinkText)
	}
}

// Scenario f: the author edits and deletes a message; the other page
// follows.
func TestEditAndDelete(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada")
	ada.joinAsGuest("ada")
	ada.openRoom("lobby")
	bob := newBrowser(t, srv, "bob")
	bob.joinAsGuest("bob")
	bob.openRoom("lobby")

	const before, after = "this has a typo: teh", "this has no typo: the"
	ada.send(before)
	msg := bob.waitMessage("ada", before)
	if ada.waitMessage("ada", before) != msg {
		t.Fatal("ada and bob show different message ids")
	}
	li := "#m-" + msg
	if n := eval[int](bob, "bob's actions", `document.querySelectorAll('`+li+` .edit, `+li+` .delete').length`); n != 0 {
		t.Errorf("bob is offered edit or delete on ada's message (%d buttons)", n)
	}
	if n := eval[int](bob, "bob's actions", `document.querySelectorAll('`+li+` .report').length`); n != 1 {
		t.Errorf("bob is offered %d report buttons on ada's message, want 1", n)
	}

	ada.hover(li)
	ada.do("edit the message",
		chromedp.Click(css(li+" .edit")),
		chromedp.WaitVisible(css(li+" textarea.edit-input")),
		clearField(li+" textarea.edit-input"),
		chromedp.SendKeys(css(li+" textarea.edit-input"), after),
		pressEnter(),
	)
	for _, p := range []*browser{bob, ada} {
		p.waitJS("the edit", `(() => { const li = document.querySelector('`+li+`'); return !!li && li.querySelector('.body').textContent.trim() === `+js(after)+` && !!li.querySelector('.edited') && !li.querySelector('.edit-input'); })()`)
	}

	ada.hover(li)
	ada.do("delete the message",
		chromedp.Click(css(li+" .delete")),
		chromedp.WaitVisible(css(li+" .delete-confirm")),
		chromedp.Click(css(li+" .delete-confirm")),
	)
	for _, p := range []*browser{bob, ada} {
		p.waitJS("the message to disappear", `!document.querySelector('`+li+`')`)
	}
	bob.openRoom("lobby")
	if n := eval[int](bob, "timeline after reload", `document.querySelectorAll('#timeline li.msg').length`); n != 0 {
		t.Errorf("after a reload bob's timeline shows %d messages; want none (the only one was deleted)", n)
	}
}

// Scenario g: on a 360 px wide phone screen the room page fits and works.
func TestNarrowScreen(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada", withViewport(360, 740))
	ada.joinAsGuest("ada")
	fits := func(where string) {
		t.Helper()
		if w := eval[int](ada, "scrollWidth", `document.documentElement.scrollWidth`); w > 360 {
			wide := eval[[]string](ada, "what is too wide", `[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > innerWidth + 1 || (e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).overflowX === 'visible')).slice(-8).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : '') + ' right=' + Math.round(e.getBoundingClientRect().right))`)
			t.Errorf("%s: document.documentElement.scrollWidth = %d at a 360 px viewport; too wide: %v", where, w, wide)
		}
	}
	fits("room list")
	ada.openRoom("lobby")
	fits("room page")
	inView := `(() => { const r = document.querySelector(%s).getBoundingClientRect(); return r.width > 0 && r.left >= 0 && r.right <= innerWidth && r.top >= 0 && r.bottom <= innerHeight; })()`
	for _, sel := range []string{"#composer-input", "#send"} {
		if !eval[bool](ada, sel+" in view", fmt.Sprintf(inView, js(sel))) {
			t.Errorf("%s is not inside the 360x740 viewport", sel)
		}
	}
	bodies := []string{
		"hello from a phone",
		"a long word: " + strings.Repeat("w", 120),
		"a long link: https://example.com/" + strings.Repeat("segment/", 15),
	}
	for _, body := range bodies {
		ada.send(body)
		ada.waitMessage("ada", body)
	}
	fits("room page with long messages")
	for _, sel := range []string{"#composer-input", "#send"} {
		if !eval[bool](ada, sel+" in view", fmt.Sprintf(inView, js(sel))) {
			t.Errorf("after three messages %s is not inside the 360x740 viewport", sel)
		}
	}
}

// The security headers of the contract, on a page and on the guest form.
func TestSecurityHeaders(t *testing.T) {
	srv := startServer(t)
	for _, path := range []string{"/", "/guest", "/api/rooms"} {
		resp, _ := srv.get(path)
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "frame-ancestors 'none'", "default-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", path, csp, want)
			}
		}
		for name, want := range map[string]string{
			"X-Content-Type-Options": "nosniff",
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "same-origin",
		} {
			if got := h.Get(name); got != want {
				t.Errorf("GET %s: %s = %q, want %q", path, name, got, want)
			}
		}
	}
}
