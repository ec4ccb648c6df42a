package websocket

import (
	"net"
	"testing"
	"time"

	gorilla "github.com/gorilla/websocket"

	"chat/framework/httpserver"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// events reports a connection's open and close to the test.
type events struct{ opened, closed chan *Conn }

func (e events) OnOpen(c *Conn)                           { e.opened <- c }
func (e events) OnMessage(*Conn, Opcode, []byte)          {}
func (e events) OnClose(c *Conn, code int, reason string) { e.closed <- c }

// TestConnectionsShareOneKeepaliveSweep opens connections with one
// *Options: they are all watched by one sweep, which runs only while
// someone is watched, each leaves it when it closes, and the last one's
// leaving drops the loop's entry.
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
			sweeps := sweepsOf(l)
			if len(sweeps) > 1 {
				t.Fatalf("%d keepalive sweeps for one loop", len(sweeps))
			}
			if len(sweeps) == 0 {
				return // nobody watched: the loop's entry is gone
			}
			ka := sweeps[0]
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

// sweepsOf returns the keepalive sweeps of loop l. Loop-only.
func sweepsOf(l *ioloop.Loop) []*keepalive {
	var out []*keepalive
	for _, ka := range keepalivesOf(l) {
		out = append(out, ka)
	}
	return out
}

// TestEqualKeepaliveSettingsShareASweep opens connections on one loop with
// distinct *Options: those whose PingInterval and PongTimeout agree share
// one sweep, others get their own.
func TestEqualKeepaliveSettingsShareASweep(t *testing.T) {
	l := looptest.Start(t)
	optsFor := map[string]*Options{
		"/a":    {PingInterval: time.Hour, PongTimeout: time.Hour},
		"/b":    {PingInterval: time.Hour, PongTimeout: time.Hour, MaxMessageSize: 1000},
		"/c":    {PingInterval: time.Hour, PongTimeout: time.Minute},
		"/none": {PingInterval: -1},
	}
	ev := events{opened: make(chan *Conn, 10), closed: make(chan *Conn, 10)}
	srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
		Upgrade(w, r, ev, optsFor[r.Path])
	})}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	for _, path := range []string{"/a", "/b", "/c", "/none"} {
		c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr.String()+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		looptest.Wait(t, ev.opened, "open")
	}
	looptest.Do(t, l, func() {
		members := map[time.Duration]int{}
		for _, ka := range sweepsOf(l) {
			members[ka.key.pongTimeout] += len(ka.members)
			if len(ka.members) == 0 || !ka.sweeper.Running() {
				t.Errorf("sweep %v: %d members, running %v", ka.key, len(ka.members), ka.sweeper.Running())
			}
		}
		if len(sweepsOf(l)) != 2 || members[time.Hour] != 2 || members[time.Minute] != 1 {
			t.Fatalf("%d sweeps, members by PongTimeout %v; want one of 2 (/a, /b) and one of 1 (/c)", len(sweepsOf(l)), members)
		}
	})
}

// TestNilOptionsOnTwoLoops upgrades with nil Options on two loops at once:
// they share the package's defaults, which must be resolved without a
// race (run with -race), and each loop gets its own keepalive sweep.
func TestNilOptionsOnTwoLoops(t *testing.T) {
	var addrs []string
	var opened []chan *Conn
	for range 2 {
		l := looptest.Start(t)
		ev := events{opened: make(chan *Conn, 1), closed: make(chan *Conn, 1)}
		srv := &httpserver.Server{Loop: l, Handler: httpserver.HandlerFunc(func(w *httpserver.ResponseWriter, r *httpserver.Request) {
			Upgrade(w, r, ev, nil)
		})}
		looptest.Do(t, l, func() {
			addr, err := srv.Listen("127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addrs = append(addrs, addr.String())
		})
		opened = append(opened, ev.opened)
	}
	dialed := make(chan error, 2)
	for _, addr := range addrs {
		go func() {
			c, _, err := gorilla.DefaultDialer.Dial("ws://"+addr+"/", nil)
			if err == nil {
				t.Cleanup(func() { c.Close() })
			}
			dialed <- err
		}()
	}
	for range 2 {
		if err := looptest.Wait(t, dialed, "dial"); err != nil {
			t.Fatal(err)
		}
	}
	var conns []*Conn
	for _, ch := range opened {
		conns = append(conns, looptest.Wait(t, ch, "open"))
	}
	if conns[0].opts != conns[1].opts {
		t.Fatal("nil Options resolved twice")
	}
}
