package websocket_test

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/asynctest"
	"chat/framework/httpserver"
	"chat/framework/ioloop/looptest"
	"chat/framework/websocket"
)

// burst writes its messages as soon as a connection opens, through
// WriteMessage or a Group broadcast, stopping at the first error, and
// reports how many were taken, that error, and the close code.
type burst struct {
	messages  [][]byte
	broadcast bool
	written   chan burstResult
	closed    chan int
}

type burstResult struct {
	taken int
	err   error
}

func (b *burst) OnOpen(c *websocket.Conn) {
	var g websocket.Group
	g.Add(c)
	taken := 0
	var err error
	for _, m := range b.messages {
		if b.broadcast {
			if g.Broadcast(websocket.NewPreparedMessage(websocket.OpBinary, m)) == 0 {
				err = websocket.ErrSlowConsumer
				if c.Open() {
					err = errors.New("broadcast skipped an open connection")
				}
			}
		} else {
			err = c.WriteMessage(websocket.OpBinary, m)
		}
		if err != nil {
			break
		}
		taken++
	}
	b.written <- burstResult{taken, err}
}
func (b *burst) OnMessage(*websocket.Conn, websocket.Opcode, []byte) {}
func (b *burst) OnClose(c *websocket.Conn, code int, reason string)  { b.closed <- code }

func startBurstServer(t *testing.T, b *burst, opts *websocket.Options) string {
	t.Helper()
	return asynctest.NewServer(t, httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		websocket.Upgrade(w, r, b, opts)
	})).Addr
}

func randomMessages(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, size)
		rand.Read(out[i])
	}
	return out
}

// TestPendingWriteBoundIsHowFarBehind pins what MaxPendingWriteBytes (1 MiB
// by default) bounds: how far a peer has fallen behind, not the size of
// one message. A message larger than the bound reaches a peer that reads;
// a peer that stops reading is dropped with 1013 once it is behind by more
// than the bound.
func TestPendingWriteBoundIsHowFarBehind(t *testing.T) {
	const bound = 1 << 20
	cases := []struct {
		name      string
		messages  [][]byte
		broadcast bool
		reads     bool
	}{
		{"2 MiB message written to a reading peer", randomMessages(1, 2<<20), false, true},
		{"2 MiB message broadcast to a reading peer", randomMessages(1, 2<<20), true, true},
		{"2 MiB messages written to a peer that never reads", randomMessages(8, 2<<20), false, false},
		{"2 MiB messages broadcast to a peer that never reads", randomMessages(8, 2<<20), true, false},
		{"64 KiB messages written to a peer that never reads", randomMessages(200, 64<<10), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &burst{messages: tc.messages, broadcast: tc.broadcast, written: make(chan burstResult, 1), closed: make(chan int, 1)}
			addr := startBurstServer(t, b, &websocket.Options{DisableCompression: true})
			if tc.reads {
				expectDelivered(t, addr, b)
			} else {
				expectDropped(t, addr, b, bound)
			}
		})
	}
}

func expectDelivered(t *testing.T, addr string, b *burst) {
	t.Helper()
	c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, want := range b.messages {
		_, got, err := c.ReadMessage()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("message %d: %d of %d bytes, %v", i, len(got), len(want), err)
		}
	}
	if r := looptest.Wait(t, b.written, "writes"); r.err != nil || r.taken != len(b.messages) {
		t.Fatalf("server took %d of %d messages: %v", r.taken, len(b.messages), r.err)
	}
	c.WriteMessage(gorilla.CloseMessage, gorilla.FormatCloseMessage(websocket.CloseNormal, ""))
	if code := looptest.Wait(t, b.closed, "close"); code != websocket.CloseNormal {
		t.Fatalf("closed with %d; want 1000", code)
	}
}

func expectDropped(t *testing.T, addr string, b *burst, bound int) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
	r := looptest.Wait(t, b.written, "writes")
	if !errors.Is(r.err, websocket.ErrSlowConsumer) {
		t.Fatalf("server took %d of %d messages, then %v; want ErrSlowConsumer", r.taken, len(b.messages), r.err)
	}
	size := len(b.messages[0])
	// Taken: what the kernel holds (a few MiB at most on loopback), the
	// bound, and the one message that crossed it.
	if most := (8<<20+bound)/size + 1; r.taken > most {
		t.Fatalf("server took %d messages of %d bytes for a peer that never reads; want at most %d", r.taken, size, most)
	}
	if code := looptest.Wait(t, b.closed, "close"); code != websocket.CloseTryAgainLater {
		t.Fatalf("closed with %d; want 1013", code)
	}
}
