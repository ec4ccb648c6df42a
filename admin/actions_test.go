package admin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"chat/framework/asynctest"
	"chat/rooms"
)

// The dashboard's actions seen from connected clients, over real sockets:
// each takes effect at once (a mute refuses the next post, a delete's
// tombstone and a lock reach an open WebSocket, a ban closes it and refuses
// the next request) and comes back in replay for a client that resumes.

// frame is a server frame, decoded loosely.
type frame struct {
	Type       string         `json:"type"`
	Code       string         `json:"code"`
	Message    string         `json:"message"`
	Msg        int64          `json:"msg"`
	ID         int64          `json:"id"`
	RetryAfter int            `json:"retry_after"`
	Changes    map[string]any `json:"changes"`
	Events     []frame        `json:"events"`
}

// readUntil reads ws's frames until one of type typ.
func readUntil(t *testing.T, ws *asynctest.WSClient, typ string) frame {
	t.Helper()
	for i := 0; i < 100; i++ {
		var f frame
		text := ws.ReadText()
		if err := json.Unmarshal([]byte(text), &f); err != nil {
			t.Fatalf("frame %q: %v", text, err)
		}
		if f.Type == typ {
			return f
		}
	}
	t.Fatalf("no %s frame in 100", typ)
	return frame{}
}

// apiPost sends a message over the HTTP API.
func (b *browser) apiPost(room, body string) (int, frame) {
	b.t.Helper()
	data, _ := json.Marshal(map[string]string{"body": body})
	r := b.client.Fetch("POST", "/api/rooms/"+room+"/messages", string(data),
		"Content-Type: application/json", "X-XSRFToken: "+b.cookie("_xsrf"))
	var f frame
	json.Unmarshal([]byte(r.Body), &f)
	return r.Status, f
}

func TestActionsAreLive(t *testing.T) {
	s := startSite(t)
	ada, bob, mod := s.as("ada"), s.as("bob"), s.as("mod")
	watch := s.DialWebSocket("/api/rooms/lobby/ws", "Cookie: "+bob.cookieHeader())
	readUntil(t, watch, "hello")

	status, ack := ada.apiPost("lobby", "to be deleted")
	if status != http.StatusCreated {
		t.Fatalf("ada's post: %d", status)
	}
	readUntil(t, watch, "message")

	// Mute: ada's next post is refused at once, with the time left.
	if r := mod.post(fmt.Sprintf("/admin/users/%d/mute", s.users["ada"].ID), url.Values{"duration": {"10m"}, "reason": {"calm down"}}); r.Status != 303 {
		t.Fatalf("mute: %d %s", r.Status, r.Body)
	}
	if status, f := ada.apiPost("lobby", "still here"); status != http.StatusForbidden || f.Code != "muted" || f.RetryAfter <= 0 || f.RetryAfter > 600 {
		t.Errorf("a muted user's post: %d %+v; want 403 muted with retry_after up to 600", status, f)
	}

	// Delete: the tombstone reaches the open WebSocket.
	if r := mod.post(fmt.Sprintf("/admin/messages/%d/delete", ack.Msg), url.Values{"reason": {"rude"}}); r.Status != 303 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if f := readUntil(t, watch, "delete"); f.Msg != ack.Msg {
		t.Errorf("tombstone for %d; want %d", f.Msg, ack.Msg)
	}

	// Lock: the room event arrives, and a plain user's post is refused.
	if r := mod.post("/admin/rooms/lobby/lock", nil); r.Status != 303 {
		t.Fatalf("lock: %d %s", r.Status, r.Body)
	}
	if f := readUntil(t, watch, "room"); f.Changes["locked"] != true {
		t.Errorf("room event %+v; want locked", f)
	}
	if status, f := bob.apiPost("lobby", "hello?"); status != http.StatusForbidden || f.Code != "locked" {
		t.Errorf("a post in a locked room: %d %+v; want 403 locked", status, f)
	}

	// Ban: bob's WebSocket closes with 4001, his next request is refused.
	if r := mod.post(fmt.Sprintf("/admin/users/%d/ban", s.users["bob"].ID), url.Values{"duration": {"24h"}, "reason": {"spam"}}); r.Status != 303 {
		t.Fatalf("ban: %d %s", r.Status, r.Body)
	}
	if code, reason := watch.WaitClosed(); code != rooms.CloseSessionEnded {
		t.Errorf("bob's WebSocket closed with %d %q; want %d", code, reason, rooms.CloseSessionEnded)
	}
	if r := bob.client.Get("/api/rooms/lobby/events?after=0"); r.Status != http.StatusForbidden {
		t.Errorf("a banned user's poll: %d %s; want 403", r.Status, r.Body)
	}

	// Replay: a client resuming from before sees the tombstone and the lock.
	carol := s.as("admin2")
	r := carol.client.Get("/api/rooms/lobby/events?after=0")
	var got frame
	if err := json.Unmarshal([]byte(r.Body), &got); err != nil || r.Status != 200 {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	var sawDelete, sawLock bool
	for _, ev := range got.Events {
		sawDelete = sawDelete || ev.Type == "delete" && ev.Msg == ack.Msg
		sawLock = sawLock || ev.Type == "room" && ev.Changes["locked"] == true
	}
	if !sawDelete || !sawLock {
		t.Errorf("replay holds the delete %v and the lock %v; want both: %s", sawDelete, sawLock, r.Body)
	}
}
