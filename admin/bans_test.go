package admin

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/store"
)

// fromAddress is a transport that makes a browser's requests claim the
// client address ip, which the site believes with its XHeaders on.
type fromAddress struct {
	ip   string
	base http.RoundTripper
}

func (f fromAddress) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Real-Ip", f.ip)
	return f.base.RoundTrip(r)
}

// asFrom is a browser signed in as name from the client address ip.
func (s *testSite) asFrom(name, ip string) *browser {
	s.t.Helper()
	b := s.as(name)
	b.client.HTTPClient.Transport = fromAddress{ip, http.DefaultTransport}
	return b
}

// actionJSON posts an action asking for JSON and returns its message.
func actionJSON(t *testing.T, b *browser, path string, form url.Values, status int) string {
	t.Helper()
	r := b.post(path, form, "Accept: application/json")
	if r.Status != status {
		t.Fatalf("POST %s: %d %s, want %d", path, r.Status, r.Body, status)
	}
	var body struct{ Message, Error string }
	if err := json.Unmarshal([]byte(r.Body), &body); err != nil {
		t.Fatalf("POST %s: %s: %v", path, r.Body, err)
	}
	return body.Message + body.Error
}

// refusedBanned checks that b's next room request is refused 403 banned
// with the reason, or (banned false) that it is served.
func refusedBanned(t *testing.T, b *browser, banned bool, reason string) {
	t.Helper()
	r := b.client.Get("/api/rooms/lobby/history")
	if banned && (r.Status != http.StatusForbidden || !strings.Contains(r.Body, `"banned"`) || !strings.Contains(r.Body, reason)) {
		t.Fatalf("from a banned address: %d %s", r.Status, r.Body)
	}
	if !banned && r.Status != http.StatusOK {
		t.Fatalf("from an address not banned: %d %s", r.Status, r.Body)
	}
}

// The ban form's "their address too" bans the addresses of the user's open
// connections (here 10.20.0.7, through X-Real-Ip: not the moderator's own
// 127.0.0.1), so another account from that address is refused too, with
// the reason; a user with no connection is banned alone, and the outcome
// says so. The bans page lists the ban and its unban button lifts it.
func TestBanAddressFromTheBanForm(t *testing.T) {
	s := startSite(t)
	s.Do(func() { s.HTTPServer.XHeaders = true })
	ada := s.asFrom("ada", "10.20.0.7")
	ws := s.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+ada.cookieHeader(), "X-Real-Ip: 10.20.0.7")
	ws.ReadText() // hello
	bobThere := s.asFrom("bob", "10.20.0.7")
	bobElsewhere := s.asFrom("bob", "10.20.0.8")
	refusedBanned(t, bobThere, false, "")

	mod := s.as("mod")
	msg := actionJSON(t, mod, "/admin/users/"+strconv.FormatInt(s.users["ada"].ID, 10)+"/ban",
		url.Values{"duration": {"1h"}, "reason": {"spam ring"}, "ban_address": {"1"}}, http.StatusOK)
	if !strings.Contains(msg, "Address banned: 10.20.0.7.") {
		t.Fatalf("outcome %q", msg)
	}
	if code, _ := ws.WaitClosed(); code != 4001 {
		t.Fatalf("ada's WebSocket closed with %d", code)
	}
	refusedBanned(t, bobThere, true, "spam ring")
	refusedBanned(t, bobElsewhere, false, "")
	if n := s.auditCount("address:10.20.0.7/32"); n != 1 {
		t.Fatalf("%d audit entries of the address ban", n)
	}

	msg = actionJSON(t, mod, "/admin/users/"+strconv.FormatInt(s.users["plain"].ID, 10)+"/ban",
		url.Values{"duration": {"1h"}, "reason": {"alone"}, "ban_address": {"1"}}, http.StatusOK)
	if !strings.Contains(msg, "No address known: only the account was banned.") {
		t.Fatalf("outcome %q", msg)
	}

	// A browser is sent back with the flash that says so.
	r0 := mod.post("/admin/users/"+strconv.FormatInt(s.users["muted1"].ID, 10)+"/ban",
		url.Values{"duration": {"1h"}, "reason": {"alone"}, "ban_address": {"1"}, "next": {"/admin/users"}})
	if r0.Status != http.StatusSeeOther || !strings.Contains(r0.Header.Get("Location"), "done=ban-no-address") {
		t.Fatalf("browser ban: %d %v", r0.Status, r0.Header)
	}
	mustContain(t, "the flash", mod.client.Get(r0.Header.Get("Location")).Body, "only the account was banned")

	page := mod.client.Get("/admin/bans")
	mustContain(t, "the bans page", page.Body, "10.20.0.7/32", "spam ring", "shared by many people", `href="/admin/bans"`)
	bans, err := s.store.AddressBans(ctx, time.Now(), 0, 10)
	if err != nil || len(bans) != 1 {
		t.Fatalf("bans %+v %v", bans, err)
	}
	r := mod.post("/admin/bans/"+strconv.FormatInt(bans[0].ID, 10)+"/unban", url.Values{"reason": {"wrong person"}, "next": {"/admin/bans"}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("unban: %d %s", r.Status, r.Body)
	}
	refusedBanned(t, bobThere, false, "")
	mustNotContain(t, "the bans page after the unban", mod.client.Get("/admin/bans").Body, "10.20.0.7/32")
}

// The hand-typed form bans an address or a CIDR range, which covers the
// addresses inside it only; a prefix that does not parse, one too wide,
// and one covering the moderator's own address are refused with the
// reason and change nothing.
func TestBanAddressByHand(t *testing.T) {
	s := startSite(t)
	s.Do(func() { s.HTTPServer.XHeaders = true })
	inside, outside := s.asFrom("bob", "10.30.5.5"), s.asFrom("bob", "10.31.0.1")
	mod := s.as("mod")
	form := func(prefix string) url.Values {
		return url.Values{"prefix": {prefix}, "duration": {"forever"}, "reason": {"botnet"}}
	}
	for _, bad := range []struct{ prefix, says string }{
		{"nonsense", ""},
		{"10.0.0.0/8", "/16"},
		{"127.0.0.0/16", "your own address"},
	} {
		msg := actionJSON(t, mod, "/admin/bans/ban", form(bad.prefix), http.StatusBadRequest)
		if !strings.Contains(msg, bad.says) {
			t.Fatalf("%s refused with %q, want %q", bad.prefix, msg, bad.says)
		}
	}
	if bans, _ := s.store.AddressBans(ctx, time.Now(), 0, 10); len(bans) != 0 {
		t.Fatalf("refused forms banned %+v", bans)
	}
	refusedBanned(t, inside, false, "")
	msg := actionJSON(t, mod, "/admin/bans/ban", form("10.30.0.0/16"), http.StatusOK)
	if !strings.Contains(msg, "10.30.0.0/16 for good") {
		t.Fatalf("outcome %q", msg)
	}
	refusedBanned(t, inside, true, "botnet")
	refusedBanned(t, outside, false, "")
	actionJSON(t, mod, "/admin/bans/ban", form("10.30.1.0/24"), http.StatusOK) // narrower, inside: allowed
	msg = actionJSON(t, mod, "/admin/bans/ban", form("10.30.0.0/16"), http.StatusConflict)
	if !strings.Contains(msg, "already banned") {
		t.Fatalf("a second ban of the range: %q", msg)
	}
	// A plain user may not ban.
	if r := s.as("ada").post("/admin/bans/ban", form("10.40.0.0/16")); r.Status != http.StatusForbidden {
		t.Fatalf("a plain user's ban: %d", r.Status)
	}
}

// The mute form's room select mutes in that room only: the user's posts
// there are refused with the reason, elsewhere they go through; the users
// page offers the rooms.
func TestMuteInRoomFromTheMuteForm(t *testing.T) {
	s := startSite(t)
	mod, ada := s.as("mod"), s.as("ada")
	mustContain(t, "the users page", mod.client.Get("/admin/users").Body, `name="room"`, `<option value="garden">`)
	post := func(room string) asynctest.Response {
		return ada.client.Fetch("POST", "/api/rooms/"+room+"/messages", `{"body":"hi","key":"k-`+room+`"}`,
			"Content-Type: application/json", "X-XSRFToken: "+ada.cookie("_xsrf"))
	}
	msg := actionJSON(t, mod, "/admin/users/"+strconv.FormatInt(s.users["ada"].ID, 10)+"/mute",
		url.Values{"duration": {"1h"}, "reason": {"off topic"}, "room": {"garden"}}, http.StatusOK)
	if !strings.Contains(msg, "Muted ada in garden until") {
		t.Fatalf("outcome %q", msg)
	}
	if r := post("garden"); r.Status != http.StatusForbidden || !strings.Contains(r.Body, "You are muted in this room: off topic") {
		t.Fatalf("a post in garden: %d %s", r.Status, r.Body)
	}
	if r := post("lobby"); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("a post in lobby: %d %s", r.Status, r.Body)
	}
	actionJSON(t, mod, "/admin/users/"+strconv.FormatInt(s.users["ada"].ID, 10)+"/mute",
		url.Values{"duration": {"1h"}, "reason": {"x"}, "room": {"nowhere"}}, http.StatusNotFound)
	if e := s.lastAudit(); e.Action != store.ActionRoomMute || e.ActorID != s.users["mod"].ID {
		t.Fatalf("the last audit entry %+v, want mod's room mute", e)
	}
}
