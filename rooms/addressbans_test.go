package rooms

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/framework/websocket"
	"chat/store"
)

// addressTransport makes every request of a test user (and wsFrom its
// WebSockets) claim the client address ip, which the server believes once
// trustProxy has switched its XHeaders on.
type addressTransport struct {
	ip   string
	base http.RoundTripper
}

func (t addressTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Real-Ip", t.ip)
	return t.base.RoundTrip(r)
}

func trustProxy(tc *testChat) { tc.Do(func() { tc.HTTPServer.XHeaders = true }) }

func (tc *testChat) guestFrom(name, ip string) *testUser {
	tc.t.Helper()
	u := tc.newClient(name)
	u.client.HTTPClient.Transport = addressTransport{ip, http.DefaultTransport}
	return tc.guestWith(u)
}

// guestWith signs u in as a guest (as guest does, on u's own client).
func (tc *testChat) guestWith(u *testUser) *testUser {
	tc.t.Helper()
	if r := u.client.Get("/guest"); r.Status != 200 {
		tc.t.Fatalf("GET /guest: %d %s", r.Status, r.Body)
	}
	r := u.client.Fetch("POST", "/guest", "name="+u.name+"&_xsrf="+u.cookie("_xsrf"),
		"Content-Type: application/x-www-form-urlencoded", "Accept: application/json")
	if r.Status != 201 {
		tc.t.Fatalf("POST /guest %q: %d %s", u.name, r.Status, r.Body)
	}
	return u
}

func (u *testUser) wsFrom(room, ip string) *asynctest.WSClient {
	u.t.Helper()
	return u.tc.DialWebSocket(roomPath(room, "ws", -1), "Cookie: "+u.cookieHeader(), "X-Real-Ip: "+ip)
}

func (tc *testChat) addressBansChanged() {
	tc.t.Helper()
	if _, err := asynctest.Await(tc.t, tc.Loop, func() *concurrent.Future[struct{}] {
		return tc.engine.AddressBansChanged()
	}); err != nil {
		tc.t.Fatalf("AddressBansChanged: %v", err)
	}
}

// An address ban (here a CIDR range) ends the open WebSocket from inside
// it with 4001 and the reason, and refuses every door's next request 403
// banned with the reason; an address outside the range is untouched; the
// unban lets the address back.
func TestAddressBanEveryDoor(t *testing.T) {
	tc := startChat(t, nil)
	trustProxy(tc)
	mal := tc.guestFrom("mal", "10.9.1.5")
	ada := tc.guestFrom("ada", "10.10.0.1") // just outside 10.9.0.0/16
	mws := mal.wsFrom("lobby", "10.9.1.5")
	readUntil(t, mws, "hello")
	aws := ada.wsFrom("lobby", "10.10.0.1")
	readUntil(t, aws, "hello")

	ctx := context.Background()
	ban, err := tc.store.BanAddressAs(ctx, store.Actor{ID: tc.owner.ID, Address: "127.0.0.1"}, "10.9.0.0/16", store.Forever(), "spam ring")
	if err != nil {
		t.Fatal(err)
	}
	tc.addressBansChanged()
	if code, reason := mws.WaitClosed(); code != CloseSessionEnded || !strings.Contains(reason, "spam ring") {
		t.Fatalf("mal's WebSocket closed with %d %q", code, reason)
	}
	for _, r := range []asynctest.Response{
		mal.post("lobby", "let me in", "k1"),
		mal.client.Get(roomPath("lobby", "events", -1)),
		mal.client.Get(roomPath("lobby", "stream", -1)),
		mal.client.Get("/api/rooms/lobby/history"),
	} {
		httpError(t, r, http.StatusForbidden, "banned", 0)
		if !strings.Contains(r.Body, "spam ring") {
			t.Fatalf("refusal without the reason: %s", r.Body)
		}
	}
	var b struct {
		ok  bool
		got store.AddressBan
	}
	tc.Do(func() { b.got, b.ok = tc.engine.AddressBanned("10.9.255.255") })
	if !b.ok || b.got.ID != ban.ID {
		t.Fatalf("10.9.255.255 banned: %v %+v", b.ok, b.got)
	}
	for _, ip := range []string{"10.8.255.255", "10.10.0.0", "not an address"} {
		tc.Do(func() { _, b.ok = tc.engine.AddressBanned(ip) })
		if b.ok {
			t.Fatalf("%s is banned", ip)
		}
	}
	// A new WebSocket from the range is refused; ada, outside it, posts.
	mal.wsRefusedFrom(t, "lobby", "10.9.1.5")
	aws.Send(`{"type":"send","body":"still here","key":"a1"}`)
	readUntil(t, aws, "ack")

	if err := tc.store.UnbanAddressAs(ctx, store.Actor{ID: tc.owner.ID}, ban.ID, "lifted"); err != nil {
		t.Fatal(err)
	}
	tc.addressBansChanged()
	if r := mal.post("lobby", "back", "k2"); r.Status != 201 && r.Status != 200 {
		t.Fatalf("after the unban: %d %s", r.Status, r.Body)
	}
	mws = mal.wsFrom("lobby", "10.9.1.5")
	readUntil(t, mws, "hello")
}

func (u *testUser) wsRefusedFrom(t *testing.T, room, ip string) {
	t.Helper()
	_, err := u.tc.DialWebSocketOptions(roomPath(room, "ws", -1),
		websocket.DialOptions{Header: http.Header{"Cookie": {u.cookieHeader()}, "X-Real-Ip": {ip}}})
	var he *websocket.HandshakeError
	if !errors.As(err, &he) || he.Status != http.StatusForbidden {
		t.Fatalf("dial from %s: %v, want a 403 handshake error", ip, err)
	}
}

// An address ban ends the open stream after a banned error and answers the
// parked long poll 403 banned, with the reason (here the ban covers the
// test's own 127.0.0.1, so every client is inside it).
func TestAddressBanEndsStreamAndPoll(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	sse := ada.stream("lobby", -1, "")
	sse.nextOfType(t, "hello")
	polled := ada.parkPoll("lobby")
	if _, err := tc.store.BanAddressAs(context.Background(), store.Actor{ID: tc.owner.ID}, "127.0.0.1", store.Forever(), "loopback abuse"); err != nil {
		t.Fatal(err)
	}
	tc.addressBansChanged()
	_, f := sse.nextOfType(t, "error")
	if f.Code != "banned" || !strings.Contains(f.Message, "loopback abuse") {
		t.Fatalf("the stream's last event %+v", f)
	}
	sse.waitEnd(t)
	r := <-polled
	httpError(t, r, http.StatusForbidden, "banned", 0)
	if !strings.Contains(r.Body, "loopback abuse") {
		t.Fatalf("the poll's refusal %s", r.Body)
	}
	tc.WaitFor(func() bool { return len(tc.engine.Connections()) == 0 }, "every connection is gone")
}
