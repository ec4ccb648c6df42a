package e2e

import (
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"
)

// The admin dashboard in the browser (issue 13): each moderation action
// reaches another person's open page.

// A moderator deletes a message from the dashboard; it vanishes from
// another person's open room page at once.
func TestModeratorDeletesAMessage(t *testing.T) {
	srv := startServer(t)
	bob := newBrowser(t, srv, "bob")
	bob.joinAsGuest("bob")
	bob.openRoom("lobby")
	const body = "an unkind remark to delete"
	bob.send(body)
	msg := bob.waitMessage("bob", body)

	mod := newBrowser(t, srv, "admin")
	mod.signIn("admin", srv.AdminPassword)
	mod.open("/admin/messages?text=unkind")
	row := `table#messages tr[data-id="` + msg + `"]`
	mod.submit("delete the message",
		chromedp.WaitVisible(css(row+" form.action-delete")),
		setField(row+" form.action-delete input[name=reason]", "unkind"),
		chromedp.Click(css(row+" form.action-delete button[type=submit]")),
	)
	bob.waitJS("the deleted message to vanish", `!document.getElementById('m-`+msg+`')`)
	bob.openRoom("lobby")
	if n := eval[int](bob, "timeline after reload", `document.querySelectorAll('#timeline li.msg').length`); n != 0 {
		t.Errorf("after a reload bob's timeline shows %d messages; want none", n)
	}
}

// A ban closes the banned person's open page with the reason, and their
// next sign-in is refused with it.
func TestBanEndsTheSessionAndRefusesSignIn(t *testing.T) {
	srv := startServer(t)
	carol := newBrowser(t, srv, "carol")
	carol.signUp("carol")
	id := carol.myID()
	carol.openRoom("lobby")

	mod := newBrowser(t, srv, "admin")
	mod.signIn("admin", srv.AdminPassword)
	mod.open("/admin/users?q=carol")
	row := `table#users tr[data-id="` + strconv.FormatInt(id, 10) + `"]`
	mod.submit("ban carol",
		chromedp.WaitVisible(css(row+" form.action-ban")),
		setField(row+" form.action-ban input[name=reason]", "flooding the lobby"),
		setField(row+" form.action-ban select[name=duration]", "24h"),
		chromedp.Click(css(row+" form.action-ban button[type=submit]")),
	)
	carol.waitJS("the page to say why it ended",
		`(() => { const a = document.getElementById('room-alert'); return !!a && a.textContent.includes('flooding the lobby'); })()`)
	if state := eval[string](carol, "connection state", `document.getElementById('conn-status').dataset.state`); state == "live" {
		t.Errorf("carol's page is still live after the ban")
	}

	carol.open("/signin")
	status := carol.submitAnyStatus("sign in again",
		chromedp.WaitVisible(css("form#signin-form")),
		chromedp.SendKeys(css("#name"), "carol"),
		chromedp.SendKeys(css("#password"), testPassword),
		chromedp.Click(css("#signin-submit")),
	)
	if status != 403 {
		t.Errorf("carol's sign-in after the ban answered %d; want 403", status)
	}
	carol.waitJS("the refusal with the reason",
		`(() => { const e = document.getElementById('signin-error'); return !!e && e.textContent.includes('flooding the lobby'); })()`)
}

// A report made from the room page appears in the queue and is resolved.
func TestReportIsQueuedAndResolved(t *testing.T) {
	srv := startServer(t)
	ada := newBrowser(t, srv, "ada")
	ada.joinAsGuest("ada")
	ada.openRoom("lobby")
	ada.send("buy cheap watches")
	bob := newBrowser(t, srv, "bob")
	bob.joinAsGuest("bob")
	bob.openRoom("lobby")
	msg := bob.waitMessage("ada", "buy cheap watches")
	li := "#m-" + msg
	bob.hover(li)
	bob.do("report the message",
		chromedp.Click(css(li+" .report")),
		chromedp.WaitVisible(css(li+" input.report-reason")),
		chromedp.SendKeys(css(li+" input.report-reason"), "spam about watches"),
		chromedp.Click(css(li+" .report-send")),
	)
	bob.waitJS("the report to be taken", `!!document.querySelector('`+li+` .reported')`)

	mod := newBrowser(t, srv, "admin")
	mod.signIn("admin", srv.AdminPassword)
	mod.open("/admin/reports")
	mod.waitJS("the report in the queue",
		`[...document.querySelectorAll('table#reports tr[data-id]')].some(tr => tr.textContent.includes('spam about watches') && tr.textContent.includes('buy cheap watches'))`)
	form := `table#reports tr[data-id] form.action-resolve`
	mod.submit("dismiss the report",
		setField(form+" select[name=resolution]", "dismissed"),
		chromedp.Click(css(form+" button[type=submit]")),
	)
	mod.open("/admin/reports")
	if n := eval[int](mod, "open reports", `document.querySelectorAll('table#reports tr[data-id]').length`); n != 0 {
		t.Errorf("the queue still shows %d open reports after the dismissal", n)
	}
}
