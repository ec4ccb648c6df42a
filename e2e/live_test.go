package e2e

import (
	"strconv"
	"testing"
)

// The live panel's figures move when a second person connects and posts.
func TestLivePanelFiguresMove(t *testing.T) {
	srv := startServer(t)
	mod := newBrowser(t, srv, "admin")
	mod.signIn("admin", srv.AdminPassword)
	mod.open("/admin/live")
	mod.waitJS("the panel to go live", `!!window.adminLive && window.adminLive.state === 'live' && !!window.adminLive.last`)
	value := func(key string) string {
		return eval[string](mod, "the "+key+" cell", `document.querySelector('tr.live-figure[data-key="`+key+`"] .live-value').textContent`)
	}
	if ws := value("conns_ws"); ws != "0" {
		t.Logf("WebSockets before anyone joined: %q", ws)
	}

	bob := newBrowser(t, srv, "bob")
	bob.joinAsGuest("bob")
	bob.openRoom("lobby")
	mod.waitJS("a WebSocket counted", `window.adminLive.last.conns_ws >= 1 && window.adminLive.last.users_online >= 1`)
	for i := range 3 {
		bob.send("figure " + strconv.Itoa(i))
	}
	mod.waitJS("messages per second to move", `window.adminLive.last.messages_per_s > 0`)
	if got := value("conns_ws"); got == "0" || got == "–" {
		t.Errorf("the page shows %q WebSockets; want the one bob opened", got)
	}
	if n := eval[int](mod, "sparkline points", `(document.querySelector('tr.live-figure[data-key="messages_per_s"] polyline')?.getAttribute('points') || '').trim().split(/\s+/).length`); n < 2 {
		t.Errorf("the messages sparkline has %d points; want a line", n)
	}
}
