package ioloop

import (
	"errors"
	"fmt"
	"net"
	"runtime/debug"
	"time"

	"chat/framework/concurrent"
)

// This file states the contract every backend's Conn, Listener and dial
// must meet; conn_epoll.go (Linux) and conn_portable.go (everything else,
// or Linux built with -tags ioloop_portable) implement it, the way Go's
// runtime/netpoll.go lists what each OS poller provides.
//
// A *Conn is a connected, non-blocking stream socket registered with a
// loop. All its methods are loop-only.
//
//   - Read(p) copies whatever the socket has (up to len(p)) and returns at
//     once: ErrWouldBlock when nothing is there yet, io.EOF after the peer
//     shut down its side, another error on a reset or failure.
//   - Write(p) and Writev(bufs) hand as many bytes to the kernel as it will
//     take now and return how many; ErrWouldBlock (with n possibly > 0)
//     means the rest must wait for a Writable event.
//   - SetHandler(h) installs the EventHandler the loop calls with Events
//     when the socket may have become readable or writable, or was hung up.
//     Readiness is edge-triggered: an event says something changed, so the
//     handler reads (or writes) until ErrWouldBlock before waiting for the
//     next event. Events that arrive before a handler is set are kept and
//     delivered by SetHandler.
//   - CloseWrite shuts down the sending side (the peer reads EOF); Close
//     unregisters and closes the socket. After Close no event is delivered.
//
// A Conn holds no buffer of its own on Linux: an idle connection costs only
// its small struct and the kernel's socket.

// ErrWouldBlock means a non-blocking Read or Write could not proceed now;
// wait for the matching event.
var ErrWouldBlock = errors.New("ioloop: operation would block")

// ErrConnClosed is returned by methods of a Conn after Close.
var ErrConnClosed = errors.New("ioloop: connection closed")

// Events is a set of readiness conditions delivered to a Conn's handler.
type Events uint8

const (
	// Readable: data (or EOF) may be waiting for Read.
	Readable Events = 1 << iota
	// Writable: the socket may take more bytes.
	Writable
	// Hangup: the peer closed or reset the connection; a Read reports
	// which (io.EOF or the error).
	Hangup
)

// ListenOptions configures Listen.
type ListenOptions struct {
	// ReusePort sets SO_REUSEPORT so several processes (or loops) can
	// accept on the same port; the kernel spreads connections over them.
	ReusePort bool
	// Backlog is the kernel's queue of connections not yet accepted.
	// Zero means 1024.
	Backlog int
}

// DialOptions configures Dial.
type DialOptions struct {
	// LocalAddr, when set, binds the socket to this address before
	// connecting (a load tool spreads source addresses over 127.0.0.x to
	// get more than 64K ports).
	LocalAddr *net.TCPAddr
	// Timeout bounds the whole dial, name resolution included: when it
	// passes first, the future fails with ErrDialTimeout and the socket is
	// closed. Zero means DefaultDialTimeout; negative means no bound but
	// the kernel's (SYN retries give up after about two minutes).
	Timeout time.Duration
}

// DefaultDialTimeout is the connect timeout of a Dial whose options leave
// Timeout zero: Tornado's default. A peer that has not answered a SYN in
// 20 s is as good as unreachable, and a caller that waits longer holds
// whatever waits on the dial.
const DefaultDialTimeout = 20 * time.Second

// ErrDialTimeout is the error (wrapped with the address) of a Dial whose
// Timeout passed. It is a concurrent.ErrTimeout: errors.Is matches both.
var ErrDialTimeout = fmt.Errorf("ioloop: connect timed out: %w", concurrent.ErrTimeout)

func (o DialOptions) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultDialTimeout
	}
	return o.Timeout
}

// dialAttempt is one Dial in progress, shared by both backends. Its
// future's first callback (finished) runs whichever way the dial ends,
// success, failure, timeout or the caller's Cancel, before any of the
// caller's: it stops the timer and closes what the attempt still holds,
// so a connection that completes after a timeout or cancel is closed and
// never delivered. Loop-owned.
type dialAttempt struct {
	future  *concurrent.Future[*Conn]
	address string
	timer   *Timer
	// abandon closes the socket (epoll) or cancels the connect (portable)
	// while the connect is in flight; nil before and after.
	abandon func()
}

func (l *Loop) startDial(address string, opts DialOptions) *dialAttempt {
	d := &dialAttempt{future: logFuturePanics(l, concurrent.New[*Conn]()), address: address}
	d.future.AddDoneCallback(d.finished)
	if timeout := opts.timeout(); timeout > 0 {
		d.timer = l.CallLater(timeout, d.timedOut)
	}
	return d
}

func (d *dialAttempt) timedOut() {
	d.timer = nil
	d.future.Fail(fmt.Errorf("dial %s: %w", d.address, ErrDialTimeout))
}

func (d *dialAttempt) finished(*concurrent.Future[*Conn]) {
	if d.timer != nil {
		d.timer.Cancel()
		d.timer = nil
	}
	if d.abandon != nil {
		d.abandon()
		d.abandon = nil
	}
}

func (o ListenOptions) backlog() int {
	if o.Backlog <= 0 {
		return 1024
	}
	return o.Backlog
}

// OpenConns is the number of connections registered with the loop. Safe
// from any goroutine.
func (l *Loop) OpenConns() int { return int(l.openConns.Load()) }

// fdHandler is what the poller dispatches readiness to: a *Conn or a
// *Listener, on either backend (the portable one posts its goroutines'
// results to a ready list that the loop dispatches like epoll's events).
type fdHandler interface {
	handleEvents(Events)
	describe() string // for slow-callback and panic logs
	Close() error     // the loop's Close closes what is still registered
}

// EventHandler receives a connection's readiness events. HandleEvents runs
// on the loop. An interface rather than a function value so that a
// connection's owner (a stream) can be its own handler: ten thousand
// connections then hold no closure each.
type EventHandler interface {
	HandleEvents(Events)
}

// HandlerDescriber is implemented by an EventHandler that can say which
// user code it is about to run (a stream names its pending read's
// callback). The loop asks only when it logs or records the handler, as
// slow or as having panicked, so the answer may cost a formatted string;
// it is asked after the handler returned, so it should describe what the
// handler last ran even if the connection has since closed. Without it a
// handler is named by its type, or an EventHandlerFunc by its function.
type HandlerDescriber interface {
	DescribeHandler() string
}

// EventHandlerFunc adapts a function to EventHandler.
type EventHandlerFunc func(Events)

// HandleEvents calls f(ev).
func (f EventHandlerFunc) HandleEvents(ev Events) { f(ev) }

// connCore is the state both backends' Conn share: the loop, whether the
// connection is closed, and the readiness handler with the events that
// arrived before it was set (edge-triggered events must not be lost). It
// also holds the epoll backend's descriptor, because there it packs into
// the padding: the whole epoll Conn is this struct, 32 bytes, one half of
// a cache line. Loop-owned.
//
// Close keeps handler (no event reaches a closed Conn, the poller has
// forgotten it) so that a handler that closed its own connection is still
// named in the slow-handler record and panic log of that very dispatch.
type connCore struct {
	handler EventHandler
	loop    *Loop
	fd      int32 // the socket (epoll backend; unused by the portable one)
	pending Events
	closed  bool
}

// deliver passes ev to the handler, or keeps it until there is one.
func (r *connCore) deliver(ev Events) {
	if r.handler == nil {
		r.pending |= ev
		return
	}
	r.handler.HandleEvents(ev)
}

// SetHandler installs the readiness handler and delivers any events that
// arrived before it. Loop-only.
func (r *connCore) SetHandler(h EventHandler) {
	r.handler = h
	if ev := r.pending; ev != 0 && h != nil && !r.closed {
		r.pending = 0
		h.HandleEvents(ev)
	}
}

// describe names the handler for slow-handler records and panic logs.
func (r *connCore) describe() string {
	return describeHandler(r.handler)
}

func describeHandler(h EventHandler) string {
	switch h := h.(type) {
	case nil:
		return "conn handler (none set)"
	case HandlerDescriber:
		return h.DescribeHandler()
	case EventHandlerFunc:
		return "conn handler " + FuncName(h)
	}
	return fmt.Sprintf("conn handler %T", h)
}

// handOver gives an accepted connection to the accept handler, protected:
// a panic is recovered and logged, so the connections queued behind this
// one are still accepted. A connection whose handler panicked before
// giving it an event handler is closed, since nobody owns it.
func (l *Loop) handOver(onAccept func(*Conn), c *Conn) {
	defer func() {
		if r := recover(); r != nil {
			l.stats.panics.Add(1)
			l.opts.Logger.Error("ioloop: accept handler panicked",
				"panic", r, "handler", "accept handler "+FuncName(onAccept), "stack", string(debug.Stack()))
			if c.handler == nil {
				c.Close()
			}
		}
	}()
	onAccept(c)
}
