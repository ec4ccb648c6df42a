package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"chat/framework/asynctest"
	"chat/store"
)

// A Refresh while the user's first load is reading the store (so perhaps
// the row from before the change) reads again after it: a ban made then
// is not lost. (Found in review: the cache kept her unbanned.)
func TestRefreshDuringALoadIsNotLost(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Config{Path: filepath.Join(t.TempDir(), "chat.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	owner, _ := st.CreateUser(ctx, "owner", []byte("x"), store.RoleAdmin)
	ada, _ := st.CreateGuest(ctx, "ada")
	loop := asynctest.Start(t)
	var s *Sessions
	asynctest.Do(t, loop, func() { s = New(Config{Loop: loop, Store: st}) })
	until := time.Now().Add(time.Hour)
	read := make(chan struct{})
	asynctest.Do(t, loop, func() {
		s.user(ada.ID) // a request's load: its read runs on the executor
		// Its result cannot land before this callback returns; wait until
		// the read has been answered (the executor is idle again).
		for s.cfg.Executor.Stats().Completed == 0 {
			time.Sleep(time.Millisecond)
		}
		close(read)
		if err := st.BanUser(ctx, owner.ID, ada.ID, until, "spam"); err != nil {
			t.Error(err)
		}
		s.Refresh(ada.ID)
	})
	<-read
	asynctest.WaitFor(t, loop, func() bool {
		e := s.cache[ada.ID]
		return e != nil && e.user.BannedAt(time.Now())
	}, "the cache to hold ada banned")
}
