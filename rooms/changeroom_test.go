package rooms

import (
	"context"
	"strings"
	"testing"

	"chat/accounts"
	"chat/framework/asynctest"
	"chat/framework/concurrent"
	"chat/store"
)

// changeRoom runs Engine.ChangeRoom on the loop as the room's owner (an
// administrator) and waits for its ack.
func (tc *testChat) changeRoom(room string, change store.RoomChange) (Ack, error) {
	tc.t.Helper()
	var f *concurrent.Future[Ack]
	done := make(chan struct{})
	tc.Do(func() {
		owner := &accounts.User{ID: tc.owner.ID, Name: tc.owner.Name, Role: store.RoleAdmin, SessionVersion: tc.owner.SessionVersion}
		f = tc.engine.ChangeRoom(room, owner, change)
		f.AddDoneCallback(func(*concurrent.Future[Ack]) { close(done) })
	})
	<-done
	return f.Result()
}

// A moderator's room change is a room event: it reaches the members live,
// changes what the room allows at once, and comes back in replay.
func TestChangeRoomIsAnEventThatTakesEffectAtOnce(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	ws := ada.ws("lobby", 0)
	readUntil(t, ws, "hello")

	locked, slow := true, 30
	ack, err := tc.changeRoom("lobby", store.RoomChange{Locked: &locked, SlowMode: &slow})
	if err != nil {
		t.Fatal(err)
	}
	f := readUntil(t, ws, "room")
	if f.ID != ack.EventID || !strings.Contains(string(f.Changes), `"locked":true`) || !strings.Contains(string(f.Changes), `"slow_mode":30`) {
		t.Fatalf("room event %+v (changes %s); ack %+v", f, f.Changes, ack)
	}
	ws.Send(`{"type":"send","body":"hi","key":"a1"}`)
	if e := readUntil(t, ws, "error"); e.Code != "locked" {
		t.Fatalf("a post to the locked room: %+v", e)
	}

	unlocked := false
	if _, err := tc.changeRoom("lobby", store.RoomChange{Locked: &unlocked}); err != nil {
		t.Fatal(err)
	}
	readUntil(t, ws, "room")
	ws.Send(`{"type":"send","body":"first","key":"a2"}`)
	readUntil(t, ws, "ack")
	ws.Send(`{"type":"send","body":"second","key":"a3"}`)
	if e := readUntil(t, ws, "error"); e.Code != "slow_mode" || e.RetryAfter != 30 {
		t.Fatalf("a second post within the slow mode: %+v", e)
	}

	// A client that was away learns both changes, in order.
	p := ada.poll("lobby", 0)
	var kinds []string
	for _, ev := range p.Events {
		kinds = append(kinds, ev.Type)
	}
	if got := strings.Join(kinds, ","); got != "room,room,message" {
		t.Fatalf("replay from 0: %s", got)
	}
	room, err := tc.store.RoomByName(context.Background(), "lobby")
	if err != nil || room.Locked || room.SlowMode != 30 {
		t.Fatalf("stored room: %+v %v", room, err)
	}

	// A plain user may not change a room.
	var refused error
	done := make(chan struct{})
	tc.Do(func() {
		plain := &accounts.User{ID: ada.id, Name: "ada", Role: store.RoleUser}
		tc.engine.ChangeRoom("lobby", plain, store.RoomChange{Locked: &locked}).OnResult(func(_ Ack, err error) {
			refused = err
			close(done)
		})
	})
	<-done
	if r, ok := refused.(*Refusal); !ok || r.Code != "forbidden" {
		t.Fatalf("a plain user's room change: %v", refused)
	}
}

// A moderator's delete through the engine (the admin dashboard's way)
// reaches every member as a tombstone; a plain user may not delete
// another's message that way either.
func TestEngineDeleteMessage(t *testing.T) {
	tc := startChat(t, nil)
	ada, bob := tc.guest("ada"), tc.guest("bob")
	ws := bob.ws("lobby", -1)
	readUntil(t, ws, "hello")
	posted := decodeFrame(t, ada.post("lobby", "oops", "k1").Body)
	readUntil(t, ws, "message")
	del := func(u *accounts.User) (Ack, error) {
		return asynctest.Await(t, tc.Loop, func() *concurrent.Future[Ack] {
			return tc.engine.DeleteMessage("lobby", u, posted.Msg)
		})
	}
	if _, err := del(&accounts.User{ID: bob.id, Name: "bob", Role: store.RoleUser}); err == nil {
		t.Fatal("bob deleted ada's message")
	} else if r, ok := err.(*Refusal); !ok || r.Code != "forbidden" {
		t.Fatalf("bob's delete: %v; want forbidden", err)
	}
	ack, err := del(&accounts.User{ID: tc.owner.ID, Name: tc.owner.Name, Role: store.RoleAdmin})
	if err != nil {
		t.Fatal(err)
	}
	if f := readUntil(t, ws, "delete"); f.ID != ack.EventID || f.Msg != posted.Msg || f.By != tc.owner.Name {
		t.Fatalf("tombstone %+v; ack %+v", f, ack)
	}
}
