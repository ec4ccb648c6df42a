package web_test

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"

	"chat/framework/ioloop/looptest"
	"chat/framework/web"
)

// lifecycleProbe is a handler that counts its lifecycle hooks. Its fields
// are loop-owned; settled is closed by the first hook.
type lifecycleProbe struct {
	inGet    func(c *web.Context)
	ctx      *web.Context
	finishes int
	closes   int
	handled  chan struct{} // closed when Get has returned
	settled  chan struct{}
}

func newLifecycleProbe(inGet func(c *web.Context)) *lifecycleProbe {
	return &lifecycleProbe{inGet: inGet, handled: make(chan struct{}), settled: make(chan struct{})}
}

func (p *lifecycleProbe) Get(c *web.Context) {
	p.ctx = c
	defer close(p.handled)
	if p.inGet != nil {
		p.inGet(c)
	}
}

func (p *lifecycleProbe) OnFinish(*web.Context) { p.finishes++; p.settle() }

func (p *lifecycleProbe) OnConnectionClose(*web.Context) { p.closes++; p.settle() }

func (p *lifecycleProbe) settle() {
	select {
	case <-p.settled:
	default:
		close(p.settled)
	}
}

// pastWriteLimit is more than the stream's pending-write limit (16 MiB)
// plus what the kernel's buffers take from a client that does not read
// (its receive buffer is shrunk to a few KiB): a write of it closes the
// stream on the spot.
const pastWriteLimit = 24 << 20

func writePastLimit(c *web.Context) {
	c.SetHeader("Content-Type", "application/octet-stream") // not gzipped
	c.Write(make([]byte, pastWriteLimit))
}

// dialSmallWindow connects with a tiny receive buffer, so a client that
// does not read stops the server's writes after a few KiB.
func dialSmallWindow(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var sockErr error
		err := rc.Control(func(fd uintptr) {
			sockErr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return sockErr
	}}
	conn, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(looptest.Watchdog))
	return conn
}

// TestContextLifecycleHooksRunExactlyOnce is the Context's state machine
// as a table: each case drives a request into a state (synchronous
// handling, async pending, streaming, finished, closed by the client) and
// applies one event there (Finish, the client leaving, the stream closing
// inside Finish, a panic, SendError, Redirect, Flush; a handler timeout
// is TestHandlerTimeout's). Whatever happens,
// exactly one of OnFinish and OnConnectionClose runs, once: the one
// named by the case.
func TestContextLifecycleHooksRunExactlyOnce(t *testing.T) {
	const (
		onFinish = "OnFinish"
		onClose  = "OnConnectionClose"
	)
	tests := []struct {
		name  string
		inGet func(c *web.Context) // the handler's method: reaches the state (and may apply the event)
		// clientLeaves closes the client's connection after Get returned,
		// and waits for the close to be reported.
		clientLeaves bool
		after        func(c *web.Context) // the event, on the loop after Get (and the client leaving)
		readsReply   bool                 // the client reads a response and checks its status
		wantStatus   int
		wantHook     string
	}{
		// Synchronous handling: the event happens inside the method.
		{name: "sync/return (auto-finish)", inGet: func(c *web.Context) { c.WriteString("x") }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "sync/Finish", inGet: func(c *web.Context) { c.Finish() }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "sync/SendError", inGet: func(c *web.Context) { c.SendError(http.StatusTeapot) }, readsReply: true, wantStatus: 418, wantHook: onFinish},
		{name: "sync/Redirect", inGet: func(c *web.Context) { c.Redirect("/elsewhere", 0) }, readsReply: true, wantStatus: 302, wantHook: onFinish},
		{name: "sync/panic", inGet: func(c *web.Context) { panic("handler exploded") }, readsReply: true, wantStatus: 500, wantHook: onFinish},
		{name: "sync/Flush then return", inGet: func(c *web.Context) { c.WriteString("x"); c.Flush() }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "sync/close inside Finish (response past the write limit)", inGet: func(c *web.Context) { writePastLimit(c); c.Finish() }, wantHook: onFinish},
		{name: "sync/close inside Flush, then Finish", inGet: func(c *web.Context) { writePastLimit(c); c.Flush(); c.Finish() }, wantHook: onFinish},

		// Async pending: the method returned after Async.
		{name: "async/Finish", inGet: (*web.Context).Async, after: (*web.Context).Finish, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "async/SendError", inGet: (*web.Context).Async, after: func(c *web.Context) { c.SendError(503) }, readsReply: true, wantStatus: 503, wantHook: onFinish},
		{name: "async/Redirect", inGet: (*web.Context).Async, after: func(c *web.Context) { c.Redirect("/x", 303) }, readsReply: true, wantStatus: 303, wantHook: onFinish},
		{name: "async/panic in a guarded continuation", inGet: (*web.Context).Async, after: func(c *web.Context) { c.Guarded(func() { panic("continuation exploded") })() }, readsReply: true, wantStatus: 500, wantHook: onFinish},
		{name: "async/client leaves", inGet: (*web.Context).Async, clientLeaves: true, wantHook: onClose},
		{name: "async/close inside Finish", inGet: (*web.Context).Async, after: func(c *web.Context) { writePastLimit(c); c.Finish() }, wantHook: onFinish},
		{name: "async/close inside Flush, then Finish", inGet: (*web.Context).Async, after: func(c *web.Context) { writePastLimit(c); c.Flush(); c.Finish() }, wantHook: onFinish},

		// Streaming: the method flushed the head and went async.
		{name: "streaming/Finish", inGet: streamAsync, after: (*web.Context).Finish, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "streaming/SendError", inGet: streamAsync, after: func(c *web.Context) { c.SendError(500) }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "streaming/Flush then Finish", inGet: streamAsync, after: func(c *web.Context) { c.WriteString("more"); c.Flush(); c.Finish() }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "streaming/panic in a guarded continuation", inGet: streamAsync, after: func(c *web.Context) { c.Guarded(func() { panic("continuation exploded") })() }, readsReply: true, wantStatus: 200, wantHook: onFinish},
		{name: "streaming/client leaves", inGet: streamAsync, clientLeaves: true, wantHook: onClose},
		{name: "streaming/close inside Finish", inGet: streamAsync, after: func(c *web.Context) { writePastLimit(c); c.Finish() }, wantHook: onFinish},
		{name: "streaming/close inside Flush, then Finish", inGet: streamAsync, after: func(c *web.Context) { writePastLimit(c); c.Flush(); c.Finish() }, wantHook: onFinish},

		// Finished: the client leaving afterwards reports nothing more.
		{name: "finished/client leaves", inGet: func(c *web.Context) { c.Finish() }, clientLeaves: true, wantHook: onFinish},

		// Closed: answers after the client left do nothing.
		{name: "closed/Finish", inGet: (*web.Context).Async, clientLeaves: true, after: (*web.Context).Finish, wantHook: onClose},
		{name: "closed/SendError", inGet: (*web.Context).Async, clientLeaves: true, after: func(c *web.Context) { c.SendError(500) }, wantHook: onClose},
		{name: "closed/Redirect", inGet: (*web.Context).Async, clientLeaves: true, after: func(c *web.Context) { c.Redirect("/x", 0) }, wantHook: onClose},
		{name: "closed/Flush", inGet: (*web.Context).Async, clientLeaves: true, after: func(c *web.Context) { c.WriteString("x"); c.Flush() }, wantHook: onClose},
		{name: "closed/panic in a guarded continuation", inGet: (*web.Context).Async, clientLeaves: true, after: func(c *web.Context) { c.Guarded(func() { panic("continuation exploded") })() }, wantHook: onClose},
		{name: "closed/close inside Finish", inGet: (*web.Context).Async, clientLeaves: true, after: func(c *web.Context) { writePastLimit(c); c.Finish() }, wantHook: onClose},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			probe := newLifecycleProbe(tc.inGet)
			l := looptest.Start(t)
			app, err := web.NewApplication(web.Config{Loop: l, Logger: quietLogger(),
				Routes: []web.Spec{{Pattern: "/probe", New: func() web.Handler { return probe }}}})
			if err != nil {
				t.Fatal(err)
			}
			conn := dialSmallWindow(t, listenOn(t, l, app.NewServer()))
			io.WriteString(conn, "GET /probe HTTP/1.1\r\nHost: x\r\n\r\n")
			looptest.Wait(t, probe.handled, "Get to return")
			if tc.clientLeaves {
				conn.Close()
				looptest.Wait(t, probe.settled, "a lifecycle hook after the client left")
			}
			if tc.after != nil {
				looptest.Do(t, l, func() { tc.after(probe.ctx) })
			}
			if tc.readsReply {
				resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
				if err != nil {
					t.Fatalf("read response: %v", err)
				}
				io.Copy(io.Discard, resp.Body)
				if resp.StatusCode != tc.wantStatus {
					t.Errorf("status %d; want %d", resp.StatusCode, tc.wantStatus)
				}
			}
			looptest.Wait(t, probe.settled, "a lifecycle hook")
			// End the connection and wait until the server has seen it:
			// any close the Context should ignore has been reported by then.
			if !tc.clientLeaves {
				conn.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, conn)
			}
			for range 3 { // close callbacks go through AddCallback: let them run
				looptest.Do(t, l, func() {})
			}
			var finishes, closes int
			looptest.Do(t, l, func() { finishes, closes = probe.finishes, probe.closes })
			wantFinishes, wantCloses := 0, 0
			if tc.wantHook == onFinish {
				wantFinishes = 1
			} else {
				wantCloses = 1
			}
			if finishes != wantFinishes || closes != wantCloses {
				t.Errorf("OnFinish ran %d times, OnConnectionClose %d times; want only %s, once", finishes, closes, tc.wantHook)
			}
		})
	}
}

// streamAsync sends the head and a first chunk, then parks the request.
func streamAsync(c *web.Context) {
	c.Async()
	c.WriteString("first")
	c.Flush()
}

// quietLogger discards what the application logs: the cases provoke
// panics and errors on purpose.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
