package rooms

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/store"
)

func (tc *testChat) roomMutesChanged(room string) {
	tc.t.Helper()
	if _, err := asynctest.Await(tc.t, tc.Loop, func() *concurrent.Future[struct{}] {
		return tc.engine.RoomMutesChanged(room)
	}); err != nil {
		tc.t.Fatalf("RoomMutesChanged(%q): %v", room, err)
	}
}

// mutedInRoom checks that r is the refusal of a post by someone muted in
// the room: 403 muted, the words, the reason and about an hour left.
func mutedInRoom(t *testing.T, r asynctest.Response, reason string) {
	t.Helper()
	var body frame
	json.Unmarshal([]byte(r.Body), &body)
	if r.Status != http.StatusForbidden || body.Code != "muted" || !strings.Contains(body.Message, "You are muted in this room") ||
		!strings.Contains(body.Message, reason) || body.RetryAfter < 3590 || body.RetryAfter > 3600 {
		t.Fatalf("got %d %s, want 403 muted in this room, about 3600 s left", r.Status, r.Body)
	}
}

// A mute in one room refuses the user's posts there only, with the reason
// and retry_after, whether the room's hub was active when the mute was
// made (RoomMutesChanged) or loads after it; lifting it lets them post.
func TestRoomMuteRefusesPostsInThatRoomOnly(t *testing.T) {
	tc := startChat(t, nil)
	tc.createRoom("garden")
	tc.createRoom("attic")
	ada, bob := tc.guest("ada"), tc.guest("bob")
	if r := ada.post("lobby", "hello", "k1"); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("first post: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	who := store.Actor{ID: tc.owner.ID, Address: "127.0.0.1"}
	until := time.Now().Add(time.Hour)
	if err := tc.store.MuteInRoomAs(ctx, who, tc.lobby.ID, ada.id, until, "off topic"); err != nil {
		t.Fatal(err)
	}
	tc.roomMutesChanged("lobby")
	mutedInRoom(t, ada.post("lobby", "again", "k2"), "off topic")
	for _, r := range []asynctest.Response{ada.post("garden", "elsewhere", "k3"), bob.post("lobby", "me too", "k4")} {
		if r.Status != http.StatusCreated && r.Status != http.StatusOK {
			t.Fatalf("a post the mute does not cover: %d %s", r.Status, r.Body)
		}
	}
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	ws.Send(`{"type":"send","body":"over the socket","key":"k5"}`)
	if f := readUntil(t, ws, "error"); f.Code != "muted" || !strings.Contains(f.Message, "in this room") {
		t.Fatalf("the socket's refusal %+v", f)
	}

	// A room whose hub is not active reads the mute when it loads.
	attic, err := tc.store.RoomByName(ctx, "attic")
	if err != nil {
		t.Fatal(err)
	}
	if err := tc.store.MuteInRoomAs(ctx, who, attic.ID, ada.id, until, "attic rules"); err != nil {
		t.Fatal(err)
	}
	tc.roomMutesChanged("attic") // nothing active: a no-op
	mutedInRoom(t, ada.post("attic", "up here", "k6"), "attic rules")

	if err := tc.store.MuteInRoomAs(ctx, who, tc.lobby.ID, ada.id, time.Time{}, "served"); err != nil {
		t.Fatal(err)
	}
	tc.roomMutesChanged("lobby")
	if r := ada.post("lobby", "back", "k7"); r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("after the unmute: %d %s", r.Status, r.Body)
	}
}
