// Package peertest checks that a broadcast hub speaks the benchmark's hub
// protocol (bench/peers/README.md): the framework's examples/hub and the
// gorilla and nbio peers are all held to the same test.
package peertest

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// CheckBroadcast connects three clients to the hub at addr (host:port),
// sends one message and expects every client, the sender included, to
// receive it verbatim; /stats must report the three connections.
func CheckBroadcast(t *testing.T, addr string) {
	t.Helper()
	var clients []*websocket.Conn
	for range 3 {
		c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
	}
	// Registration completes after the handshake, so wait for the hub.
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

// CheckEcho connects to /echo and expects a text and a binary message
// back verbatim, in order.
func CheckEcho(t *testing.T, addr string) {
	t.Helper()
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	sent := []struct {
		typ  int
		data string
	}{{websocket.TextMessage, "echo, echo"}, {websocket.BinaryMessage, "\x00\xff binary"}}
	for _, m := range sent {
		if err := c.WriteMessage(m.typ, []byte(m.data)); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range sent {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		typ, data, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if typ != m.typ || string(data) != m.data {
			t.Fatalf("got type %d %q, want type %d %q", typ, data, m.typ, m.data)
		}
	}
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
