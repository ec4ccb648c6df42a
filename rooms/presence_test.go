package rooms

import (
	"fmt"
	"testing"
	"time"

	"chat/framework/asynctest"
)

// fastPresence shortens the presence timers, each to its own value, so a
// test waits milliseconds and a mix-up of two of them shows.
func fastPresence(grace time.Duration) func(*Config) {
	return func(c *Config) {
		c.PresenceGrace = grace
		c.PresenceFlush = 7 * time.Millisecond
		c.HubIdle = 30 * time.Millisecond
	}
}

// nextPresence reads frames until a join, leave or presence frame.
func nextPresence(t *testing.T, ws *asynctest.WSClient) frame {
	t.Helper()
	for {
		f := readFrame(t, ws)
		switch f.Type {
		case "join", "leave", "presence":
			return f
		}
	}
}

// A reload (close, then open again within the grace period) says nothing
// to the others; going away for longer is one leave. A user with two tabs
// is online once.
func TestPresenceCountsUsersAndDoesNotFlapOnReload(t *testing.T) {
	tc := startChat(t, fastPresence(300*time.Millisecond))
	watcher, ada := tc.guest("watcher"), tc.guest("ada")
	w := watcher.ws("lobby", -1)
	readUntil(t, w, "hello")
	if f := nextPresence(t, w); f.Type != "join" || f.userName() != "watcher" {
		t.Fatalf("watcher's own join: %+v", f)
	}

	tab1 := ada.ws("lobby", -1)
	readUntil(t, tab1, "hello")
	if f := nextPresence(t, w); f.Type != "join" || f.userName() != "ada" {
		t.Fatalf("ada's join: %+v", f)
	}
	tab2 := ada.ws("lobby", -1)
	if hello := readUntil(t, tab2, "hello"); hello.OnlineCount != 2 {
		t.Fatalf("with ada in two tabs, online_count is %d; want 2 (users, not connections)", hello.OnlineCount)
	}

	// Reload: both tabs close and one comes back within the grace period.
	tab1.Close(1000, "")
	tab2.Close(1000, "")
	tc.WaitFor(func() bool { return tc.engine.Stats().Members == 1 }, "ada's tabs closed")
	again := ada.ws("lobby", -1)
	readUntil(t, again, "hello")
	// A marker proves nothing came before it: a message sent now arrives
	// after any presence frame the reload could have caused.
	again.Send(`{"type":"send","body":"back","key":"m1"}`)
	if f := readUntil(t, w, "message"); f.Body != "back" {
		t.Fatalf("marker: %+v", f)
	}
	tc.Do(func() {
		h := tc.engine.hubs["lobby"]
		if n := h.presence.online(); n != 2 {
			t.Errorf("online after the reload: %d; want 2", n)
		}
		if len(h.presence.changes) != 0 {
			t.Errorf("the reload queued presence changes: %+v", h.presence.changes)
		}
	})

	start := time.Now()
	again.Close(1000, "")
	if f := nextPresence(t, w); f.Type != "leave" || f.userName() != "ada" {
		t.Fatalf("after ada left for good: %+v", f)
	} else if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("leave came after %v, before the 300 ms grace period", waited)
	}
}

// Many arrivals in one flush become one presence snapshot, not a frame
// per arrival.
func TestPresenceBatchesManyArrivalsIntoASnapshot(t *testing.T) {
	tc := startChat(t, func(c *Config) {
		fastPresence(time.Second)(c)
		c.PresenceFlush = 150 * time.Millisecond // long enough for every join to fall in one flush
	})
	watcher := tc.guest("watcher")
	w := watcher.ws("lobby", -1)
	readUntil(t, w, "hello")
	for i := range maxChangesSent + 5 {
		u := tc.guest(fmt.Sprintf("user%d", i))
		readUntil(t, u.ws("lobby", -1), "hello")
	}
	f := nextPresence(t, w)
	if f.Type != "presence" || f.OnlineCount != maxChangesSent+6 {
		t.Fatalf("after %d arrivals in one flush: %+v; want one presence snapshot of %d", maxChangesSent+6, f, maxChangesSent+6)
	}
}

// Typing is relayed at most once per TypingInterval per user: the clock is
// injected, so the test moves it rather than waiting.
func TestTypingIsThrottledPerUser(t *testing.T) {
	now := time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)
	tc := startChat(t, func(c *Config) {
		c.TypingInterval = 3 * time.Second
		c.Now = func() time.Time { return now } // read and moved on the loop only
	})
	ada, bob := tc.guest("ada"), tc.guest("bob")
	aws, bws := ada.ws("lobby", -1), bob.ws("lobby", -1)
	readUntil(t, aws, "hello")
	readUntil(t, bws, "hello")
	typing := func() { aws.Send(`{"type":"typing"}`) }
	marker := func(key string) {
		aws.Send(`{"type":"send","body":"` + key + `","key":"` + key + `"}`)
	}
	// Collects what bob sees up to the marker message.
	seen := func(key string) (typings int) {
		for {
			f := readFrame(t, bws)
			switch {
			case f.Type == "typing" && f.userName() == "ada":
				typings++
			case f.Type == "message" && f.Key == key:
				return typings
			}
		}
	}
	typing()
	typing()
	marker("m1")
	if n := seen("m1"); n != 1 {
		t.Fatalf("two typings within the interval: bob saw %d; want 1", n)
	}
	tc.Do(func() { now = now.Add(2999 * time.Millisecond) })
	typing()
	marker("m2")
	if n := seen("m2"); n != 0 {
		t.Fatalf("a typing 2.999 s later: bob saw %d; want 0", n)
	}
	tc.Do(func() { now = now.Add(time.Millisecond) })
	typing()
	marker("m3")
	if n := seen("m3"); n != 1 {
		t.Fatalf("a typing 3 s later: bob saw %d; want 1", n)
	}
}

// A hub with nobody in it is dropped after HubIdle (once the last user's
// grace period is over), so memory does not grow with the number of rooms
// ever visited.
func TestHubsOfEmptyRoomsAreFreed(t *testing.T) {
	tc := startChat(t, fastPresence(20*time.Millisecond))
	ada := tc.guest("ada")
	for i := range 20 {
		name := fmt.Sprintf("room%d", i)
		tc.createRoom(name)
		ws := ada.ws(name, -1)
		readUntil(t, ws, "hello")
		ws.Close(1000, "")
	}
	tc.WaitFor(func() bool { return tc.engine.Stats().Hubs == 0 }, "every idle hub dropped")
}
