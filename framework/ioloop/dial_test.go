package ioloop_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/ioloop/looptest"
)

// hangingAddr returns a loopback address where a connect hangs: a raw
// listening socket with a backlog of 0 whose queue is filled and never
// accepted, so the kernel drops further SYNs and the client retries them
// for about two minutes. It skips the test if no connect hangs.
func hangingAddr(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, _ := syscall.Getsockname(fd)
	addr := fmt.Sprintf("127.0.0.1:%d", sa.(*syscall.SockaddrInet4).Port)
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			return addr // the queue is full: the next connect hangs too
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("no connect hangs on loopback here: the listen queue never filled")
	return ""
}

// A connect that never completes fails after DialOptions.Timeout (not the
// kernel's two minutes), and its socket is closed.
func TestDialTimesOutOnAHangingConnect(t *testing.T) {
	l := looptest.Start(t)
	addr := hangingAddr(t)
	for _, timeout := range []time.Duration{80 * time.Millisecond, 200 * time.Millisecond} {
		t.Run(timeout.String(), func(t *testing.T) {
			start := time.Now()
			_, err := looptest.Await(t, l, func() *concurrent.Future[*ioloop.Conn] {
				return l.Dial("tcp", addr, ioloop.DialOptions{Timeout: timeout})
			})
			elapsed := time.Since(start)
			if !errors.Is(err, ioloop.ErrDialTimeout) || !errors.Is(err, concurrent.ErrTimeout) {
				t.Fatalf("Dial: %v; want ErrDialTimeout (a concurrent.ErrTimeout)", err)
			}
			if elapsed < timeout || elapsed > 3*timeout {
				t.Errorf("Dial failed after %v; want within [%v, %v]", elapsed, timeout, 3*timeout)
			}
			looptest.Do(t, l, func() {
				if n := l.OpenConns(); n != 0 {
					t.Errorf("OpenConns after the timeout = %d; want 0 (the socket closed)", n)
				}
			})
		})
	}
}

// A cancelled Dial closes its socket for real: a connection the kernel
// completes anyway is closed (the server reads EOF) and never delivered.
func TestCancelledDialClosesItsSocket(t *testing.T) {
	tests := []struct {
		name    string
		address func(port int) string
	}{
		{"ip:port", func(port int) string { return fmt.Sprintf("127.0.0.1:%d", port) }},
		{"host name", func(port int) string { return fmt.Sprintf("localhost:%d", port) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := looptest.Start(t)
			server, err := net.Listen("tcp4", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer server.Close()
			delivered := make(chan error, 1)
			looptest.Do(t, l, func() {
				f := l.Dial("tcp4", tc.address(server.Addr().(*net.TCPAddr).Port), ioloop.DialOptions{})
				f.OnResult(func(c *ioloop.Conn, err error) { delivered <- err })
				if !f.Cancel() {
					t.Error("Cancel found the dial already resolved")
				}
			})
			if err := <-delivered; !errors.Is(err, concurrent.ErrCancelled) {
				t.Fatalf("cancelled Dial delivered %v; want ErrCancelled", err)
			}
			// If the kernel completed the handshake, the server must see
			// the client side closed.
			server.(*net.TCPListener).SetDeadline(time.Now().Add(300 * time.Millisecond))
			if conn, err := server.Accept(); err == nil {
				conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, err := conn.Read(make([]byte, 1))
				conn.Close()
				if err != io.EOF && !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("server read on the cancelled dial's connection: %v; want EOF (closed)", err)
				}
			}
			looptest.Do(t, l, func() {}) // a late connect completion has run
			looptest.Do(t, l, func() {
				if n := l.OpenConns(); n != 0 {
					t.Errorf("OpenConns after the cancel = %d; want 0", n)
				}
			})
		})
	}
}

// A dial that succeeds delivers its connection once, and its timeout
// timer does not outlive it.
func TestDialConnectsAndLeavesNoTimer(t *testing.T) {
	l := looptest.Start(t)
	server, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	conn, err := looptest.Await(t, l, func() *concurrent.Future[*ioloop.Conn] {
		return l.Dial("tcp4", server.Addr().String(), ioloop.DialOptions{Timeout: time.Hour})
	})
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	looptest.Do(t, l, func() {
		if n := l.Stats().PendingTimers; n != 0 {
			t.Errorf("PendingTimers after a successful dial = %d; want 0", n)
		}
		conn.Close()
	})
}
