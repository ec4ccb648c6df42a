package e2e

import (
	"fmt"
	"strings"

	"context"
	"github.com/chromedp/chromedp"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/input"
)

// The steps a person takes, written against the DOM of the contract: form
// and element ids, classes and data attributes.

// testPassword is every signed-up user's password.
const testPassword = "correct horse battery staple"

// signUp creates an account on /signup and waits for the page it lands on
// to show who is signed in.
func (b *browser) signUp(name string) {
	b.t.Helper()
	b.open("/signup")
	b.submit("sign up as "+name,
		chromedp.WaitVisible(css("form#signup-form")),
		chromedp.SendKeys(css("#name"), name),
		chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#signup-submit")),
	)
	b.waitSignedIn(name)
}

// joinAsGuest signs in on /guest with a nickname.
func (b *browser) joinAsGuest(name string) {
	b.t.Helper()
	b.open("/guest")
	b.submit("join as guest "+name,
		chromedp.WaitVisible(css("#guest-name")),
		chromedp.SendKeys(css("#guest-name"), name),
		chromedp.Click(css(`form[action="/guest"] button[type=submit]`)),
	)
	b.waitSignedIn(name)
}

func (b *browser) waitSignedIn(name string) {
	b.t.Helper()
	if got := b.me(); got != name {
		b.fail("sign in", fmt.Errorf("GET /api/me says %q, want %q", got, name))
	}
}

// me asks the server who the page's session is (GET /api/me from the page).
func (b *browser) me() string {
	b.t.Helper()
	return evalAsync[string](b, "GET /api/me",
		`fetch('/api/me', {headers: {Accept: 'application/json'}}).then(r => r.ok ? r.json() : {user: {name: 'HTTP ' + r.status}}).then(j => j.user.name)`)
}

// openRoom opens a room's page and waits until its connection is live.
func (b *browser) openRoom(room string) {
	b.t.Helper()
	b.open("/rooms/" + room)
	b.do("the room page of "+room,
		chromedp.WaitVisible(css(`section#room[data-room=`+js(room)+`]`)),
		chromedp.WaitVisible(css("#composer-input")),
	)
	b.waitLive()
}

// waitLive waits for #conn-status[data-state=live] and window.chatClient.
func (b *browser) waitLive() {
	b.t.Helper()
	b.waitJS("#conn-status data-state=live",
		`(() => { const s = document.querySelector('#conn-status'); return !!s && s.dataset.state === 'live' && !!window.chatClient && window.chatClient.state === 'live'; })()`)
}

// watchConnection records every state #conn-status goes through, from now
// on, in window.__e2eStates (the page must not be reloaded meanwhile).
func (b *browser) watchConnection() {
	b.t.Helper()
	eval[bool](b, "watch #conn-status", `(() => {
		const s = document.querySelector('#conn-status');
		window.__e2eStates = [];
		new MutationObserver(() => window.__e2eStates.push(s.dataset.state)).observe(s, {attributes: true, attributeFilter: ['data-state']});
		return true;
	})()`)
}

// waitReconnected waits until the page left live since watchConnection
// and is live again.
func (b *browser) waitReconnected() {
	b.t.Helper()
	b.waitJS("#conn-status to leave live and come back",
		`(() => { const st = window.__e2eStates || []; return st.some(x => x !== 'live') && document.querySelector('#conn-status').dataset.state === 'live'; })()`)
}

// typeMessage types a message into the composer (no send).
func (b *browser) typeMessage(body string) {
	b.t.Helper()
	b.do("type "+body,
		chromedp.WaitVisible(css("#composer-input")),
		clearField("#composer-input"),
		chromedp.SendKeys(css("#composer-input"), body),
	)
}

// send types a message and clicks Send; the composer empties.
func (b *browser) send(body string) {
	b.t.Helper()
	b.typeMessage(body)
	b.do("send "+body, chromedp.Click(css("#send")))
	b.waitJS("the composer to empty after sending", `document.querySelector('#composer-input').value === ''`)
}

// sendWithEnter types a message and presses Enter.
func (b *browser) sendWithEnter(body string) {
	b.t.Helper()
	b.typeMessage(body)
	b.do("press Enter to send "+body, chromedp.Focus(css("#composer-input")), pressEnter())
	b.waitJS("the composer to empty after Enter", `document.querySelector('#composer-input').value === ''`)
}

// msgJS is a JavaScript expression: the delivered li.msg (not pending, not
// failed) by author whose text is body, or null.
func msgJS(author, body string) string {
	return fmt.Sprintf(`([...document.querySelectorAll('#timeline li.msg')].find(li =>
		!li.classList.contains('pending') && !li.classList.contains('failed') &&
		li.dataset.user === %s && li.dataset.msg &&
		li.querySelector('.body') && li.querySelector('.body').textContent.trim() === %s &&
		li.querySelector('.author') && li.querySelector('.author').textContent.includes(%s)) || null)`,
		js(author), js(strings.TrimSpace(body)), js(author))
}

// waitMessage waits until the timeline shows the delivered message and
// returns its message id (data-msg).
func (b *browser) waitMessage(author, body string) string {
	b.t.Helper()
	b.waitJS(fmt.Sprintf("message %q by %s in #timeline", body, author), `!!`+msgJS(author, body))
	return eval[string](b, "the message's data-msg", msgJS(author, body)+`.dataset.msg`)
}

// timelineItem is one li.msg as the page shows it.
type timelineItem struct {
	Msg     string   `json:"msg"`
	User    string   `json:"user"`
	Body    string   `json:"body"`
	Classes []string `json:"classes"`
}

// timeline reads every li.msg of #timeline, oldest first.
func (b *browser) timeline() []timelineItem {
	b.t.Helper()
	return eval[[]timelineItem](b, "read #timeline", `[...document.querySelectorAll('#timeline li.msg')].map(li => ({
		msg: li.dataset.msg || '', user: li.dataset.user || '',
		body: li.querySelector('.body') ? li.querySelector('.body').textContent.trim() : '',
		classes: [...li.classList],
	}))`)
}

// hover moves the mouse over an element, for actions shown on hover.
func (b *browser) hover(selector string) {
	b.t.Helper()
	type point struct{ X, Y float64 }
	p := eval[point](b, "find "+selector, `(() => { const e = document.querySelector(`+js(selector)+`); e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect(); return {X: r.left + r.width / 2, Y: r.top + r.height / 2}; })()`)
	b.do("hover "+selector, chromedp.MouseEvent(chromedp.MouseMoved, p.X, p.Y))
}

// clearField empties a text field (chromedp.SetValue does not take a
// textarea) and tells the page, as typing would.
func clearField(selector string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(` + js(selector) + `); e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })()`)
}

// pressEnter presses and releases Enter in the focused element, without
// the char event chromedp.SendKeys adds: a page that handles Enter on
// keydown and cancels it gets no newline, as with a real keyboard.
func pressEnter() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for _, typ := range []input.DispatchKeyEventType{input.DispatchKeyEventTypeRawKeyDown, input.DispatchKeyEventTypeKeyUp} {
			_, err := cdp.Call(ctx, t, input.DispatchKeyEvent, input.DispatchKeyEventParams{
				Type: typ, Key: "Enter", Code: "Enter",
				WindowsVirtualKeyCode: 13, NativeVirtualKeyCode: 13,
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// signIn signs in on /signin with a name and password.
func (b *browser) signIn(name, password string) {
	b.t.Helper()
	b.open("/signin")
	b.submit("sign in as "+name,
		chromedp.WaitVisible(css("form#signin-form")),
		chromedp.SendKeys(css("#name"), name),
		chromedp.SendKeys(css("#password"), password),
		chromedp.Click(css("#signin-submit")),
	)
	b.waitSignedIn(name)
}

// myID asks the server for the page's user id.
func (b *browser) myID() int64 {
	b.t.Helper()
	return int64(evalAsync[float64](b, "GET /api/me",
		`fetch('/api/me', {headers: {Accept: 'application/json'}}).then(r => r.json()).then(j => j.user.id)`))
}

// submitAnyStatus runs actions that end in a navigation and returns the
// new page's status, whatever it is (submit fails on 4xx).
func (b *browser) submitAnyStatus(what string, actions ...chromedp.Action[chromedp.Void]) int64 {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		b.fail(what, err)
	}
	b.checkProblems()
	if resp == nil {
		return 0
	}
	return resp.Status
}

// setField sets an input's or select's value by script, as a person
// choosing it would.
func setField(selector, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(` + js(selector) + `); e.value = ` + js(value) + `; e.dispatchEvent(new Event('change', {bubbles: true})); })()`)
}
