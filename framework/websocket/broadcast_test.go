package websocket_test

import (
	"bytes"
	"fmt"
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// hub is a minimal broadcast server: every message goes to every
// connection as one prepared message. Loop-owned.
type hub struct {
	members websocket.Group
	opened  chan int
	closed  chan int
	dropped chan int // close codes of connections the hub lost
}

func (h *hub) OnOpen(c *websocket.Conn) { h.members.Add(c); h.opened <- h.members.Len() }
func (h *hub) OnMessage(c *websocket.Conn, op websocket.Opcode, data []byte) {
	h.members.Broadcast(websocket.NewPreparedMessage(op, append([]byte(nil), data...)))
}
func (h *hub) OnClose(c *websocket.Conn, code int, reason string) {
	h.members.Remove(c)
	h.dropped <- code
}

func startHub(t *testing.T, opts websocket.Options) (*ioloop.Loop, *hub, string) {
	t.Helper()
	l := looptest.Start(t)
	h := &hub{opened: make(chan int, 100), closed: make(chan int, 100), dropped: make(chan int, 100)}
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		websocket.Upgrade(w, r, h, &opts)
	})}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	return l, h, addr.String()
}

func TestBroadcastReachesEveryConnectionWithAndWithoutDeflate(t *testing.T) {
	_, h, addr := startHub(t, websocket.Options{})
	var clients []*gorilla.Conn
	for i := range 6 {
		d := gorilla.Dialer{EnableCompression: i%2 == 0} // mixed: some compressed, some not
		c, _, err := d.Dial("ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		looptest.Wait(t, h.opened, "open")
	}
	msg := bytes.Repeat([]byte("broadcast to all "), 30)
	clients[0].WriteMessage(gorilla.TextMessage, msg)
	for i, c := range clients {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("client %d: %d bytes, %v", i, len(got), err)
		}
	}
}

// TestGroupBroadcastSpansBatchesAndSkipsTheDeparted broadcasts to more
// members than one warm batch, after some have left: everyone still there
// gets the message once, and Broadcast counts exactly them.
func TestGroupBroadcastSpansBatchesAndSkipsTheDeparted(t *testing.T) {
	l, h, addr := startHub(t, websocket.Options{})
	const members = 40
	var clients []*gorilla.Conn
	for range members {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		looptest.Wait(t, h.opened, "open")
	}
	left := map[int]bool{3: true, 17: true, 18: true, 39: true}
	for i := range left {
		clients[i].Close()
		looptest.Wait(t, h.dropped, "departure")
	}
	msg := []byte("to whoever is still here")
	var sent int
	looptest.Do(t, l, func() {
		sent = h.members.Broadcast(websocket.NewPreparedMessage(websocket.OpText, msg))
	})
	if sent != members-len(left) {
		t.Fatalf("Broadcast reached %d; want %d", sent, members-len(left))
	}
	for i, c := range clients {
		if left[i] {
			continue
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("client %d: %q, %v", i, got, err)
		}
	}
}

func TestSlowConsumerIsDroppedNotBuffered(t *testing.T) {
	l, h, addr := startHub(t, websocket.Options{MaxPendingWriteBytes: 256 << 10, DisableCompression: true})
	// The slow one never reads; the fast one reads everything.
	slow, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fmt.Fprintf(slow, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	slow.(*net.TCPConn).SetReadBuffer(4096)
	looptest.Wait(t, h.opened, "slow client open")
	fast, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	looptest.Wait(t, h.opened, "fast client open")
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	go func() {
		// The fast client waits for its own copy of each message before it
		// sends the next, so it is never behind; the slow one never reads
		// and falls 6.4 MiB behind: far more than kernel buffers plus the limit.
		for range 200 {
			if fast.WriteMessage(gorilla.BinaryMessage, chunk) != nil {
				return
			}
			if _, _, err := fast.ReadMessage(); err != nil {
				return
			}
		}
	}()
	if code := looptest.Wait(t, h.dropped, "slow consumer dropped"); code != websocket.CloseTryAgainLater {
		t.Fatalf("slow consumer dropped with %d; want 1013", code)
	}
	looptest.Do(t, l, func() {
		if h.members.Len() != 1 {
			t.Errorf("%d connections left; want the fast one", h.members.Len())
		}
	})
}

func TestKeepaliveClosesADeadPeer(t *testing.T) {
	_, h, addr := startHub(t, websocket.Options{PingInterval: 20 * time.Millisecond, PongTimeout: 20 * time.Millisecond})
	// A raw TCP client that completes the handshake and then says nothing,
	// not even a pong.
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	looptest.Wait(t, h.opened, "open")
	if code := looptest.Wait(t, h.dropped, "dead peer closed"); code != websocket.CloseAbnormal {
		t.Fatalf("dead peer closed with %d; want 1006", code)
	}
}

func TestKeepaliveKeepsAnAnsweringPeer(t *testing.T) {
	_, h, addr := startHub(t, websocket.Options{PingInterval: 10 * time.Millisecond, PongTimeout: 5 * time.Second})
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil) // gorilla answers pings while reading
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	looptest.Wait(t, h.opened, "open")
	pings := make(chan struct{}, 100)
	c.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return c.WriteControl(gorilla.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go c.ReadMessage()
	for range 5 { // five pings, each sent only after the previous was answered
		looptest.Wait(t, pings, "ping")
	}
	select {
	case code := <-h.dropped:
		t.Fatalf("an answering peer was closed with %d", code)
	default:
	}
}
