package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"chat/store"
)

// A message is acknowledged only once durable; a retry with the same client
// key gets the same id back; a reconnecting client resumes after its last id.
func Example() {
	dir, _ := os.MkdirTemp("", "store-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "chat.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	alice, _ := s.CreateUser(ctx, "alice", []byte("bcrypt hash"), store.RoleUser)
	room, _ := s.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: alice.ID})
	msg := store.NewMessage{RoomID: room.ID, AuthorID: alice.ID, Body: "hello", ClientKey: "k-1"}
	first, _ := s.AppendMessage(ctx, msg)
	retry, _ := s.AppendMessage(ctx, msg) // the connection dropped before the ack
	fmt.Println(first.ID == retry.ID, retry.Duplicate)

	s.AppendMessage(ctx, store.NewMessage{RoomID: room.ID, AuthorID: alice.ID, Body: "missed"})
	missed, _ := s.MessagesAfter(ctx, room.ID, first.ID, 50, store.PublicView)
	for _, m := range missed {
		fmt.Println(m.AuthorName+":", m.Body)
	}
	// Output:
	// true true
	// alice: missed
}

// Submit never blocks; done runs on the writer goroutine after the commit,
// in commit order, so a server can broadcast events in the order it is told
// of them. A client that reconnects resumes from its last event id.
func ExampleStore_Submit() {
	dir, _ := os.MkdirTemp("", "store-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()
	s, err := store.Open(ctx, store.Config{Path: filepath.Join(dir, "chat.db")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	alice, _ := s.CreateUser(ctx, "alice", []byte("bcrypt hash"), store.RoleUser)
	room, _ := s.CreateRoom(ctx, store.NewRoom{Name: "lobby", Title: "Lobby", CreatorID: alice.ID})
	committed := make(chan store.Result, 3)         // stands in for the event loop's queue
	done := func(r store.Result) { committed <- r } // must not block
	s.Submit(store.NewMessage{RoomID: room.ID, AuthorID: alice.ID, Body: "hello"}, done)
	first := <-committed
	s.Submit(store.EditMessage{RoomID: room.ID, MessageID: first.Event.MessageID, UserID: alice.ID, Body: "hello!"}, done)
	s.Submit(store.RoomChange{RoomID: room.ID, ActorID: alice.ID, SlowMode: new(int)}, done)
	<-committed
	<-committed

	missed, _ := s.EventsAfter(ctx, room.ID, first.Event.ID, 50, store.PublicView)
	for _, e := range missed {
		fmt.Println(e.ID > first.Event.ID, e.Kind, e.UserName, e.Body+e.Data)
	}
	// Output:
	// true edit alice hello!
	// true room alice {"slow_mode":0}
}
