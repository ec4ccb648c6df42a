package rooms

import (
	"slices"
	"testing"

	"chat/store"
)

func ringEvent(id, msg int64, kind string) *Event {
	return newEvent("r", store.Event{ID: id, RoomID: 1, Kind: kind, MessageID: msg, Body: "text"})
}

func ringIDs(evs []*Event) []int64 {
	var ids []int64
	for _, ev := range evs {
		ids = append(ids, ev.ID)
	}
	return ids
}

// The ring as a table of states × questions: after each sequence of
// pushes, what it covers, holds and returns after a cursor. Ids have gaps,
// as a room's do (they are global).
func TestRingCoversWhatItHolds(t *testing.T) {
	cases := []struct {
		name      string
		capacity  int
		base      int64
		push      []int64
		wantBase  int64
		covers    map[int64]bool
		has       map[int64]bool
		after     int64
		limit     int
		wantAfter []int64
	}{
		{name: "empty room", capacity: 4, base: 0, wantBase: 0,
			covers: map[int64]bool{0: true, 5: true}, has: map[int64]bool{0: false},
			after: 0, limit: 10, wantAfter: nil},
		{name: "loaded at 10, nothing new", capacity: 4, base: 10, wantBase: 10,
			covers: map[int64]bool{9: false, 10: true}, after: 10, limit: 10, wantAfter: nil},
		{name: "not yet full", capacity: 4, base: 10, push: []int64{12, 15, 16}, wantBase: 10,
			covers: map[int64]bool{9: false, 10: true, 12: true}, has: map[int64]bool{12: true, 13: false, 16: true},
			after: 12, limit: 10, wantAfter: []int64{15, 16}},
		{name: "full: base moves to the evicted id", capacity: 3, base: 10, push: []int64{12, 15, 16, 20, 21}, wantBase: 15,
			covers: map[int64]bool{12: false, 14: false, 15: true, 21: true}, has: map[int64]bool{15: false, 16: true, 21: true},
			after: 15, limit: 10, wantAfter: []int64{16, 20, 21}},
		{name: "limit cuts the oldest first", capacity: 8, base: 0, push: []int64{1, 2, 3, 4, 5}, wantBase: 0,
			after: 1, limit: 2, wantAfter: []int64{2, 3}},
		{name: "after the newest", capacity: 8, base: 0, push: []int64{1, 2}, after: 2, limit: 5, wantAfter: nil},
		{name: "between ids", capacity: 8, base: 0, push: []int64{10, 20, 30}, after: 15, limit: 5, wantAfter: []int64{20, 30}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRing(c.capacity, c.base)
			for _, id := range c.push {
				r.push(ringEvent(id, id, store.EventMessage))
			}
			if r.base != c.wantBase {
				t.Errorf("base %d; want %d", r.base, c.wantBase)
			}
			for cursor, want := range c.covers {
				if got := r.covers(cursor); got != want {
					t.Errorf("covers(%d) = %v; want %v", cursor, got, want)
				}
			}
			for id, want := range c.has {
				if got := r.has(id); got != want {
					t.Errorf("has(%d) = %v; want %v", id, got, want)
				}
			}
			if got := ringIDs(r.after(c.after, c.limit)); !slices.Equal(got, c.wantAfter) {
				t.Errorf("after(%d, %d) = %v; want %v", c.after, c.limit, got, c.wantAfter)
			}
		})
	}
}

// Deleting a message takes its text out of the ring's copies of the
// message and of its edits, and leaves every other event alone.
func TestRingRedactsADeletedMessage(t *testing.T) {
	r := newRing(8, 0)
	r.push(ringEvent(1, 100, store.EventMessage))
	r.push(ringEvent(2, 200, store.EventMessage))
	r.push(ringEvent(3, 100, store.EventEdit))
	r.redact("r", 100)
	for i, want := range []struct {
		body    string
		deleted bool
	}{{"", true}, {"text", false}, {"", false}} {
		ev := r.at(i)
		if ev.Body != want.body {
			t.Errorf("event %d: body %q; want %q", ev.ID, ev.Body, want.body)
		}
		f := decodeFrame(t, string(ev.JSON))
		if f.Deleted != want.deleted || f.Body != want.body {
			t.Errorf("event %d's JSON %s: deleted %v body %q", ev.ID, ev.JSON, f.Deleted, f.Body)
		}
	}
}
