package rooms

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/concurrent"
)

// The room page's snapshot: the latest events up to its cursor, oldest
// first, with More when older ones exist, and who is online.
func TestViewIsTheLatestEventsUpToItsCursor(t *testing.T) {
	tc := startChat(t, nil)
	ada, bob := tc.guest("ada"), tc.guest("bob")
	var last frame
	for i := range 5 {
		last = decodeFrame(t, ada.post("lobby", "m"+itoa(int64(i)), "k"+itoa(int64(i))).Body)
	}
	ws := bob.ws("lobby", -1)
	readUntil(t, ws, "hello")
	view := func(limit int) RoomView {
		v, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[RoomView] { return tc.engine.View("lobby", limit) })
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		limit     int
		wantFirst string
		wantMore  bool
		wantCount int
	}{
		{limit: 3, wantFirst: "m2", wantMore: true, wantCount: 3},
		{limit: 5, wantFirst: "m0", wantMore: false, wantCount: 5},
		{limit: 50, wantFirst: "m0", wantMore: false, wantCount: 5},
	}
	for _, c := range cases {
		v := view(c.limit)
		if len(v.Events) != c.wantCount || v.Events[0].Body != c.wantFirst || v.More != c.wantMore {
			t.Errorf("View(limit %d): %d events from %q, more %v; want %d from %q, more %v",
				c.limit, len(v.Events), v.Events[0].Body, v.More, c.wantCount, c.wantFirst, c.wantMore)
		}
		if v.LastID != last.ID || v.Events[len(v.Events)-1].ID != last.ID {
			t.Errorf("View(limit %d): last id %d; want the last post's %d", c.limit, v.LastID, last.ID)
		}
		if v.OnlineCount != 1 || len(v.Online) != 1 || v.Online[0] != (Person{Name: "bob", Guest: true}) {
			t.Errorf("View online: %d %+v; want bob", v.OnlineCount, v.Online)
		}
	}
	if _, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[RoomView] { return tc.engine.View("nowhere", 50) }); err == nil {
		t.Error("View of an unknown room succeeded")
	} else if r, ok := err.(*Refusal); !ok || r.Status != 404 {
		t.Errorf("View of an unknown room: %v; want a 404 refusal", err)
	}
}

// The room list carries each room's live online count and last activity,
// and leaves out archived rooms.
func TestRoomsListsLiveStateAndLastActivity(t *testing.T) {
	tc := startChat(t, nil)
	quiet := tc.createRoom("quiet")
	gone := tc.createRoom("gone")
	if err := tc.store.SetRoomArchived(context.Background(), tc.owner.ID, gone.ID, true); err != nil {
		t.Fatal(err)
	}
	ada := tc.guest("ada")
	posted := decodeFrame(t, ada.post("lobby", "hi", "k1").Body)
	ws := ada.ws("lobby", -1)
	readUntil(t, ws, "hello")
	rooms, err := asynctest.Await(t, tc.Loop, func() *concurrent.Future[[]Listing] { return tc.engine.Rooms() })
	if err != nil {
		t.Fatal(err)
	}
	if len(rooms) != 2 || rooms[0].Room.Name != "lobby" || rooms[1].Room.Name != quiet.Name {
		t.Fatalf("rooms %+v; want lobby and quiet", rooms)
	}
	if l := rooms[0]; l.Online != 1 || l.LastID != posted.ID || l.LastActivity.IsZero() {
		t.Errorf("lobby %+v; want 1 online, last id %d and an activity time", l, posted.ID)
	}
	if l := rooms[1]; l.Online != 0 || l.LastID != 0 || !l.LastActivity.IsZero() {
		t.Errorf("quiet %+v; want nothing", l)
	}
}

// Reporting a message: 201 with the report, the same report again for a
// second try, and clear refusals for the rest.
func TestReportMessage(t *testing.T) {
	tc := startChat(t, nil)
	tc.createRoom("other")
	ada, bob := tc.guest("ada"), tc.guest("bob")
	msg := decodeFrame(t, ada.post("lobby", "spam spam", "k1").Body).Msg
	gone := decodeFrame(t, ada.post("lobby", "deleted", "k2").Body).Msg
	if r := ada.call("DELETE", "/api/rooms/lobby/messages/"+itoa(gone), ""); r.Status != 200 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	report := func(u *testUser, room string, id int64, reason string) (int, string) {
		b, _ := json.Marshal(map[string]string{"reason": reason})
		r := u.call("POST", "/api/rooms/"+room+"/messages/"+itoa(id)+"/report", string(b))
		return r.Status, r.Body
	}
	first, body := report(bob, "lobby", msg, "spam")
	if first != 201 || !strings.Contains(body, `"report":{"id":`) {
		t.Fatalf("report: %d %s", first, body)
	}
	var got struct{ Report struct{ ID, Msg int64 } }
	json.Unmarshal([]byte(body), &got)
	if got.Report.Msg != msg {
		t.Errorf("report answer %s; want msg %d", body, msg)
	}
	again, body2 := report(bob, "lobby", msg, "still spam")
	if again != 201 || body2 != body {
		t.Errorf("second report: %d %s; want the first, %s", again, body2, body)
	}
	cases := []struct {
		name   string
		u      *testUser
		room   string
		id     int64
		reason string
		status int
		code   string
	}{
		{"own message", ada, "lobby", msg, "", 403, "forbidden"},
		{"unknown message", bob, "lobby", 999999, "", 404, "not_found"},
		{"message of another room", bob, "other", msg, "", 404, "not_found"},
		{"deleted message", bob, "lobby", gone, "", 404, "not_found"},
		{"unknown room", bob, "nowhere", msg, "", 404, "not_found"},
		{"reason too long", bob, "lobby", msg, strings.Repeat("x", MaxReasonChars+1), 400, "too_long"},
	}
	for _, c := range cases {
		status, body := report(c.u, c.room, c.id, c.reason)
		if status != c.status || !strings.Contains(body, `"code":"`+c.code+`"`) {
			t.Errorf("%s: %d %s; want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if r := bob.client.Fetch("POST", "/api/rooms/lobby/messages/"+itoa(msg)+"/report", `{}`, "Content-Type: application/json"); r.Status != 403 {
		t.Errorf("report without the XSRF token: %d %s; want 403", r.Status, r.Body)
	}
	reports, err := tc.store.OpenReports(context.Background(), 0, 10)
	if err != nil || len(reports) != 1 || reports[0].MessageID != msg || reports[0].Reason != "spam" {
		t.Errorf("open reports %+v, %v; want bob's one", reports, err)
	}
}
