package accounts

import (
	"testing"
	"time"

	"chat/store"
)

// The cache is bounded: at MaxCached, the users nobody holds go; a held
// user stays, and a Refresh still reaches the pointer its holder has.
func TestCacheIsBoundedAndKeepsHeldUsers(t *testing.T) {
	s := &Sessions{cfg: Config{MaxCached: 3, CacheIdle: time.Hour}, cache: make(map[int64]*cached)}
	held := s.remember(store.User{ID: 1, Name: "held", SessionVersion: 1})
	s.Hold(held)
	for id := int64(2); id <= 10; id++ {
		s.remember(store.User{ID: id, Name: "u", SessionVersion: 1})
		if len(s.cache) > 3 {
			t.Fatalf("after user %d the cache holds %d; the bound is 3", id, len(s.cache))
		}
	}
	if s.cache[1] == nil || s.cache[1].user != held {
		t.Fatal("the held user was dropped")
	}
	s.remember(store.User{ID: 1, Name: "held", SessionVersion: 2})
	if held.SessionVersion != 2 {
		t.Fatalf("a reload did not reach the holder's pointer: version %d", held.SessionVersion)
	}
	s.Release(held)
	s.sweep() // used just now: kept
	if s.cache[1] == nil {
		t.Fatal("a user used just now was swept")
	}
}
