package rooms

import (
	"strings"
	"sync"
	"testing"

	"chat/store"
)

// fakeReplayer is a connection whose backlog the test decides: it says it
// is behind once burst events have been sent since the last time it said
// so, and then counts as drained.
type fakeReplayer struct {
	burst    int
	since    int // events sent since it last said it was behind
	maxSince int
	ids      []int64
	live     bool
	resets   int
}

func (f *fakeReplayer) gone() bool { return false }
func (f *fakeReplayer) sendEvent(ev *Event) bool {
	f.ids = append(f.ids, ev.ID)
	f.since++
	f.maxSince = max(f.maxSince, f.since)
	return true
}
func (f *fakeReplayer) behind() bool {
	if f.since >= f.burst {
		f.since = 0
		return true
	}
	return false
}
func (f *fakeReplayer) sendReset(int64)    { f.resets++ }
func (f *fakeReplayer) goLive()            { f.live = true }
func (f *fakeReplayer) replayFailed(error) {}

// submitAll stores n messages straight through the store, before any hub
// has loaded the room, so a replay from 0 reads SQLite.
func submitAll(t *testing.T, tc *testChat, n int, body string) {
	t.Helper()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := range n {
		err := tc.store.Submit(store.NewMessage{RoomID: tc.lobby.ID, AuthorID: tc.owner.ID, Body: body}, func(r store.Result) {
			if r.Err != nil {
				t.Errorf("message %d: %v", i, r.Err)
			}
			wg.Done()
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
}

// A replay stops sending as soon as its connection is behind, even in the
// middle of a page, and goes on once it has drained: with large events a
// page (500) could be megabytes, past the connection's bound, and the
// connection would be dropped for it. It still ends with every event, in
// order, and live.
func TestReplayPausesMidPageWhenTheConnectionIsBehind(t *testing.T) {
	tc := startChat(t, func(c *Config) { c.PageSize = 50 })
	const n = 230
	submitAll(t, tc, n, "hello")
	r := &fakeReplayer{burst: 20}
	tc.Do(func() {
		tc.engine.hub("lobby").OnResult(func(h *hub, err error) {
			if err != nil {
				t.Error(err)
				return
			}
			h.replay(0, r)
		})
	})
	tc.WaitFor(func() bool { return r.live }, "the replay went live")
	if len(r.ids) != n || r.resets != 0 {
		t.Fatalf("replayed %d events, %d resets; want %d, 0", len(r.ids), r.resets, n)
	}
	for i := 1; i < n; i++ {
		if r.ids[i] <= r.ids[i-1] {
			t.Fatalf("event %d (id %d) after id %d", i, r.ids[i], r.ids[i-1])
		}
	}
	if r.maxSince > r.burst {
		t.Fatalf("sent %d events in a row while the connection said it was behind after %d", r.maxSince, r.burst)
	}
}

// End to end: 600 messages of 4,000 three-byte characters (about 7 MB)
// replayed to a WebSocket with a 1 MiB bound arrive whole and in order.
func TestReplayOfLargeEventsReachesAWebSocket(t *testing.T) {
	tc := startChat(t, nil)
	ada := tc.guest("ada")
	body := strings.Repeat("あ", MaxBodyChars)
	const n = 600
	submitAll(t, tc, n, body)
	ws := ada.ws("lobby", 0)
	readUntil(t, ws, "hello")
	var last int64
	for got := 0; got < n; {
		f := readFrame(t, ws)
		if f.Type != "message" {
			continue
		}
		if f.ID <= last || len(f.Body) != len(body) {
			t.Fatalf("event %d after %d: %d bytes", f.ID, last, len(f.Body))
		}
		last = f.ID
		got++
	}
}
