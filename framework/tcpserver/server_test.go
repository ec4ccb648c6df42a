package tcpserver_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// echoLines echoes every line it reads until the peer leaves.
func echoLines(s *iostream.Stream) {
	var next iostream.ReadCallback
	next = func(line []byte, err error) {
		if err != nil {
			s.Close(err)
			return
		}
		s.Write(append([]byte(nil), line...))
		s.ReadUntil([]byte("\n"), 0, next)
	}
	s.ReadUntil([]byte("\n"), 0, next)
}

func startEcho(t *testing.T, l *ioloop.Loop, address string, maxConns int) (*tcpserver.Server, net.Addr) {
	t.Helper()
	srv := &tcpserver.Server{Loop: l, Handler: echoLines, MaxConnections: maxConns,
		ListenOptions: ioloop.ListenOptions{Backlog: 4096}}
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { addr, err = srv.Listen(address) })
	if err != nil {
		t.Fatalf("Listen(%s): %v", address, err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })
	return srv, addr
}

func TestEchoOverIPv4AndIPv6(t *testing.T) {
	for _, address := range []string{"127.0.0.1:0", "[::1]:0"} {
		t.Run(address, func(t *testing.T) {
			l := looptest.Start(t)
			_, addr := startEcho(t, l, address, 0)
			if strings.HasPrefix(address, "[::1]") {
				if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
					t.Skipf("no IPv6 loopback on this machine: %v", err)
				} else {
					ln.Close()
				}
			}
			c, err := net.Dial("tcp", addr.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "hello over %s\n", address)
			line, err := bufio.NewReader(c).ReadString('\n')
			if err != nil || line != fmt.Sprintf("hello over %s\n", address) {
				t.Fatalf("echo = %q, %v", line, err)
			}
		})
	}
}

func TestMaxConnectionsRejectsTheExtraConnection(t *testing.T) {
	l := looptest.Start(t)
	srv, addr := startEcho(t, l, "127.0.0.1:0", 2)
	var kept []net.Conn
	for i := range 2 {
		c, err := net.Dial("tcp", addr.String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "conn %d\n", i)
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatalf("connection %d under the limit: %v", i, err)
		}
		kept = append(kept, c)
	}
	extra, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	if n, err := extra.Read(make([]byte, 1)); err == nil {
		t.Fatalf("the connection over the limit read %d bytes; want it closed", n)
	}
	looptest.Do(t, l, func() {
		st := srv.Stats()
		if st.Rejected != 1 || st.Accepted != 2 || st.Active != 2 {
			t.Errorf("stats = %+v; want 2 accepted, 1 rejected, 2 active", st)
		}
	})
}

func TestConnectFailsForAClosedPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	address := ln.Addr().String()
	ln.Close()
	l := looptest.Start(t)
	_, err = looptest.Await(t, l, func() *concurrent.Future[*iostream.Stream] {
		return tcpserver.Connect(l, address, tcpserver.ConnectOptions{})
	})
	if err == nil {
		t.Fatal("Connect to a closed port succeeded")
	}
}

// manyConnections is how many connections TestManyConnectionsOnOneLoop
// holds open at once. Each is counted twice against the process's open-file
// limit (20,000 here), since the test holds both ends.
const manyConnections = 9000

func TestManyConnectionsOnOneLoop(t *testing.T) {
	n := manyConnections
	if testing.Short() {
		n = 500
	}
	if !ioloop.EpollBackend {
		// The portable backend spends two goroutines per connection, and
		// the race detector allows 8,128 goroutines.
		n = min(n, 1000)
	}
	serverLoop := looptest.Start(t)
	clientLoop := looptest.Start(t)
	srv, addr := startEcho(t, serverLoop, "127.0.0.1:0", n)

	// Connect in waves so the listen backlog never overflows.
	streams := make([]*iostream.Stream, 0, n)
	const wave = 500
	for len(streams) < n {
		batch := min(wave, n-len(streams))
		got, err := looptest.Await(t, clientLoop, func() *concurrent.Future[[]*iostream.Stream] {
			futures := make([]*concurrent.Future[*iostream.Stream], batch)
			for i := range futures {
				futures[i] = tcpserver.Connect(clientLoop, addr.String(), tcpserver.ConnectOptions{})
			}
			return concurrent.All(futures...)
		})
		if err != nil {
			t.Fatalf("after %d connections: %v", len(streams), err)
		}
		streams = append(streams, got...)
	}
	t.Cleanup(func() {
		// Close every connection and wait until the server has seen them
		// go, so the next test (or -count run) starts with its file
		// descriptors free.
		looptest.Do(t, clientLoop, func() {
			for _, s := range streams {
				s.Close(nil)
			}
		})
		deadline := time.Now().Add(looptest.Watchdog)
		for serverLoop.OpenConns() > 0 && time.Now().Before(deadline) {
			looptest.Do(t, serverLoop, func() {})
		}
	})

	// Every connection sends its own line and must get exactly it back.
	mismatches, err := looptest.Await(t, clientLoop, func() *concurrent.Future[int] {
		done := concurrent.New[int]()
		remaining, bad := len(streams), 0
		for i, s := range streams {
			want := fmt.Sprintf("connection %d\n", i)
			s.Write([]byte(want))
			s.ReadUntil([]byte("\n"), 0, func(line []byte, err error) {
				if err != nil || string(line) != want {
					bad++
				}
				if remaining--; remaining == 0 {
					done.Resolve(bad)
				}
			})
		}
		return done
	})
	if err != nil || mismatches != 0 {
		t.Fatalf("%d of %d echoes wrong (%v)", mismatches, n, err)
	}
	looptest.Do(t, serverLoop, func() {
		if st := srv.Stats(); st.Active != n || st.Rejected != 0 {
			t.Errorf("server stats = %+v; want %d active", st, n)
		}
	})
	if got := serverLoop.OpenConns(); got != n {
		t.Errorf("server loop OpenConns = %d; want %d", got, n)
	}
}

func TestHalfCloseThroughTheServer(t *testing.T) {
	l := looptest.Start(t)
	srv := &tcpserver.Server{Loop: l, Handler: func(s *iostream.Stream) {
		s.ReadUntilClose(func(data []byte, err error) {
			s.Write([]byte(strings.ToUpper(string(data))))
			s.CloseWrite()
		})
	}}
	var addr net.Addr
	looptest.Do(t, l, func() {
		var err error
		if addr, err = srv.Listen("127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	})
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "quiet please")
	c.(*net.TCPConn).CloseWrite()
	reply, err := io.ReadAll(c)
	if err != nil && !errors.Is(err, io.EOF) || string(reply) != "QUIET PLEASE" {
		t.Fatalf("reply %q, %v", reply, err)
	}
}

func TestReusePortLetsTwoServersShareAPort(t *testing.T) {
	if !ioloop.EpollBackend {
		t.Skip("the portable backend's SO_REUSEPORT is platform-specific")
	}
	l := looptest.Start(t)
	first := &tcpserver.Server{Loop: l, Handler: echoLines, ListenOptions: ioloop.ListenOptions{ReusePort: true}}
	second := &tcpserver.Server{Loop: l, Handler: echoLines, ListenOptions: ioloop.ListenOptions{ReusePort: true}}
	looptest.Do(t, l, func() {
		addr, err := first.Listen("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := second.Listen(addr.String()); err != nil {
			t.Fatalf("second listener on %s with SO_REUSEPORT: %v", addr, err)
		}
		plain := &tcpserver.Server{Loop: l, Handler: echoLines}
		if _, err := plain.Listen(addr.String()); err == nil {
			t.Error("a listener without SO_REUSEPORT took the same port")
			plain.Close()
		}
		first.Close()
		second.Close()
	})
}

// TestPanickingHandlerClosesItsConnection: a connection whose handler
// panics is closed (the client reads EOF) and gives its slot back, and
// the server goes on serving the next connection.
func TestPanickingHandlerClosesItsConnection(t *testing.T) {
	l := looptest.StartWith(t, ioloop.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	first := true
	srv := &tcpserver.Server{Loop: l, Handler: func(s *iostream.Stream) {
		if first {
			first = false
			panic("handler exploded")
		}
		echoLines(s)
	}}
	var addr net.Addr
	var err error
	looptest.Do(t, l, func() { addr, err = srv.Listen("127.0.0.1:0") })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.AddCallback(srv.Close) })
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection whose handler panicked read %d bytes, %v; want EOF (closed)", n, err)
	}
	next, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	fmt.Fprintf(next, "still serving\n")
	next.SetReadDeadline(time.Now().Add(2 * time.Second))
	if line, err := bufio.NewReader(next).ReadString('\n'); err != nil || line != "still serving\n" {
		t.Fatalf("the next connection: %q, %v", line, err)
	}
	looptest.Do(t, l, func() {
		if st := srv.Stats(); st.Active != 1 {
			t.Errorf("Active = %d after the panicking connection closed; want 1 (the echo one)", st.Active)
		}
	})
}
