package main

import (
	"encoding/json"
	"strings"
	"testing"

	"chat/framework/asynctest"
	"chat/framework/ioloop"
	"chat/framework/web"
)

func TestMessagesReachEverySocket(t *testing.T) {
	var r *room
	s := asynctest.StartAppFunc(t, nil, func(l *ioloop.Loop) (*web.Application, error) {
		app, rm, err := newApp(l)
		r = rm
		return app, err
	})
	alice, bob := s.DialWebSocket("/chatsocket"), s.DialWebSocket("/chatsocket")
	s.WaitFor(func() bool { return r.waiters.Len() == 2 }, "both sockets joined")

	alice.Send(`{"body": "hi <b>bob</b>"}`)
	alice.Send(`not json: ignored`)
	alice.Send(`{"body": "second"}`)
	for _, ws := range []*asynctest.WSClient{alice, bob} {
		for _, want := range []chatMessage{{"1", "hi <b>bob</b>"}, {"2", "second"}} {
			var got chatMessage
			if err := json.Unmarshal([]byte(ws.ReadText()), &got); err != nil || got != want {
				t.Fatalf("got %+v (%v), want %+v", got, err, want)
			}
		}
	}

	// The page renders the cache, escaped; a socket that leaves is forgotten.
	if page := s.Get("/"); !strings.Contains(page.Body, `<div id="m1">hi &lt;b&gt;bob&lt;/b&gt;</div>`) {
		t.Errorf("page:\n%s", page.Body)
	}
	bob.Close(1000, "")
	s.WaitFor(func() bool { return r.waiters.Len() == 1 }, "bob left the waiters")
}

func TestCacheKeepsTheLatest(t *testing.T) {
	var r *room
	s := asynctest.StartAppFunc(t, nil, func(l *ioloop.Loop) (*web.Application, error) {
		app, rm, err := newApp(l)
		r = rm
		return app, err
	})
	ws := s.DialWebSocket("/chatsocket")
	for range cacheSize + 3 {
		ws.Send(`{"body": "x"}`)
	}
	s.WaitFor(func() bool { return r.lastID == cacheSize+3 }, "every message handled")
	s.Do(func() {
		if len(r.cache) != cacheSize || r.cache[0].ID != "4" {
			t.Errorf("cache holds %d from id %s", len(r.cache), r.cache[0].ID)
		}
	})
}
