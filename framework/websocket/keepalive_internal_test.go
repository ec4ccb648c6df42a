package websocket

import (
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/httpserver"
	"chat/framework/ioloop/looptest"
)

// events reports a connection's open and close to the test.
type events struct{ opened, closed chan *Conn }

func (e events) OnOpen(c *Conn)                           { e.opened <- c }
func (e events) OnMessage(*Conn, Opcode, []byte)          {}
func (e events) OnClose(c *Conn, code int, reason string) { e.closed <- c }

// TestConnectionsShareOneKeepaliveSweep opens connections with one
// *Options: they are all watched by one sweep, which runs only while
// someone is watched, and each leaves it when it closes.
func TestConnectionsShareOneKeepaliveSweep(t *testing.T) {
	l := looptest.Start(t)
	opts := &Options{PingInterval: time.Hour, PongTimeout: time.Hour}
	ev := events{opened: make(chan *Conn, 10), closed: make(chan *Conn, 10)}
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		Upgrade(w, r, ev, opts)
	})}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	const n = 3
	var clients []*gorilla.Conn
	for range n {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr.String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		looptest.Wait(t, ev.opened, "open")
	}
	sweep := func() (members int, running bool) {
		looptest.Do(t, l, func() {
			byLoop := opts.resolved.keepalives.byLoop
			if len(byLoop) != 1 {
				t.Fatalf("%d keepalive sweeps for one loop", len(byLoop))
			}
			ka := byLoop[l]
			for i, c := range ka.members {
				if int(c.keepaliveSlot) != i {
					t.Fatalf("member %d has slot %d", i, c.keepaliveSlot)
				}
			}
			members, running = len(ka.members), ka.sweeper.Running()
		})
		return members, running
	}
	if members, running := sweep(); members != n || !running {
		t.Fatalf("with %d open: %d watched, sweep running %v", n, members, running)
	}
	for i, c := range clients {
		c.Close()
		looptest.Wait(t, ev.closed, "close")
		members, running := sweep()
		if want := n - 1 - i; members != want || running != (want > 0) {
			t.Fatalf("after %d closed: %d watched, sweep running %v", i+1, members, running)
		}
	}
}
