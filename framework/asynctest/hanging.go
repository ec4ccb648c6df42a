package asynctest

import (
	"net"
	"testing"
	"time"

	"chat/framework/ioloop"
)

// HangingAddr returns a loopback address where a TCP connect hangs, as
// one to a host that never answers does: a listener on l with the
// smallest backlog, never accepting, whose queue is filled, so the kernel
// drops further SYNs and a client retries them for about two minutes. It
// is for testing connect and handshake timeouts. The listener and the
// connections filling it are closed at cleanup.
//
// It needs the epoll backend, whose listener accepts nothing until an
// accept handler is set; the portable backend accepts on a goroutine of its
// own, so there the test is skipped, as it is where no connect hangs on
// loopback. (A raw socket would work on both, but inside framework/ system
// calls are ioloop's alone.)
func HangingAddr(t testing.TB, l *ioloop.Loop) string {
	t.Helper()
	if !ioloop.EpollBackend {
		t.Skip("asynctest.HangingAddr needs the epoll backend: the portable backend accepts every connection")
	}
	var ln *ioloop.Listener
	var err error
	Do(t, l, func() { ln, err = l.Listen("tcp4", "127.0.0.1:0", ioloop.ListenOptions{Backlog: 1}) })
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	t.Cleanup(func() { run(l, func() { ln.Close() }, Watchdog) })
	addr := ln.Addr().String()
	// The kernel queues backlog+1 connections; the first connect that
	// does not complete within fillTimeout shows the queue is full.
	const fillTimeout = 100 * time.Millisecond
	for range 8 {
		c, err := net.DialTimeout("tcp", addr, fillTimeout)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("no connect hangs on loopback here: the listen queue never filled")
	return ""
}
