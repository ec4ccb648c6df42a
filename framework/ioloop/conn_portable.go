//go:build !linux || ioloop_portable

package ioloop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"chat/framework/concurrent"
)

// portableChunk is how many bytes a connection's reader goroutine reads at
// a time, and the most a Write hands to its writer goroutine at once.
const portableChunk = 16 << 10

// Conn is a connection of the portable backend: a net.Conn driven by one
// reader and one writer goroutine that hand bytes to and from the loop
// through AddCallback. It meets the same contract as the epoll Conn (see
// conn.go), so everything above the loop runs unchanged; it costs two
// goroutines per connection, which is why Linux uses epoll instead.
// Methods are loop-only.
type Conn struct {
	connCore
	nc   net.Conn
	done chan struct{} // closed by Close: releases the goroutines

	// Read side (loop-owned once handed over).
	readBuf  []byte        // chunk the reader goroutine handed over
	readOff  int           // how much of readBuf Read has consumed
	readErr  error         // sticky: EOF or the read error, after readBuf
	readMore chan struct{} // tells the reader goroutine readBuf is free

	// Write side.
	writeBusy        bool        // a chunk is with the writer goroutine
	writeErr         error       // sticky write error
	writeCh          chan []byte // to the writer; nil chunk means CloseWrite
	shutdownPending  bool
	shutdownHandedIn bool
}

func (l *Loop) newConn(nc net.Conn) *Conn {
	c := &Conn{
		connCore: connCore{loop: l, fd: -1},
		nc:       nc,
		done:     make(chan struct{}),
		readMore: make(chan struct{}, 1),
		writeCh:  make(chan []byte, 1),
	}
	l.openConns.Add(1)
	l.poller.registered[c] = struct{}{}
	go c.readLoop()
	go c.writeLoop()
	return c
}

// readLoop reads a chunk at a time and posts it to the loop, then waits
// until the loop has consumed it: at most one chunk per connection is in
// memory, as the loop's backpressure.
func (c *Conn) readLoop() {
	buf := make([]byte, portableChunk)
	for {
		n, err := c.nc.Read(buf)
		c.loop.poller.post(readyEvent{target: c, kind: readDone, chunk: buf[:n], err: err})
		if err != nil {
			return
		}
		select { // wait until the loop has consumed the chunk
		case <-c.readMore:
		case <-c.done:
			return
		}
	}
}

// writeLoop writes the chunks the loop hands over. When Close closes the
// channel it finishes the chunk in hand (within closeWriteGrace) and then
// closes the socket, so bytes written just before Close still go out.
func (c *Conn) writeLoop() {
	defer c.nc.Close()
	for chunk := range c.writeCh {
		var err error
		if chunk == nil {
			if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
				err = cw.CloseWrite()
			}
		} else {
			_, err = c.nc.Write(chunk)
		}
		c.loop.poller.post(readyEvent{target: c, kind: writeDone, err: err})
	}
}

// apply takes a posted chunk or write completion into the loop-owned
// state and says which events the handler gets.
func (c *Conn) apply(ev *readyEvent) Events {
	if c.closed {
		return 0
	}
	switch ev.kind {
	case readDone:
		c.readBuf, c.readOff = ev.chunk, 0
		if ev.err != nil {
			c.readErr = ev.err
			return Readable | Hangup
		}
		return Readable
	case writeDone:
		return c.writeDone(ev.err)
	}
	return 0
}

func (c *Conn) handleEvents(ev Events) { c.deliver(ev) }

// writeDone records a finished write and hands over a CloseWrite that
// waited for it.
func (c *Conn) writeDone(err error) Events {
	c.writeBusy = false
	if err != nil && c.writeErr == nil {
		c.writeErr = fmt.Errorf("write: %w", err)
	}
	if c.shutdownPending && !c.shutdownHandedIn {
		c.shutdownHandedIn, c.writeBusy = true, true
		c.writeCh <- nil
	}
	if err != nil {
		return Writable | Hangup
	}
	return Writable
}

// Read copies from the chunk the reader goroutine handed over.
func (c *Conn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, ErrConnClosed
	}
	if c.readOff < len(c.readBuf) {
		n := copy(p, c.readBuf[c.readOff:])
		c.readOff += n
		if c.readOff == len(c.readBuf) {
			c.readBuf, c.readOff = nil, 0
			if c.readErr == nil {
				c.readMore <- struct{}{}
			}
		}
		return n, nil
	}
	if c.readErr != nil {
		if errors.Is(c.readErr, io.EOF) {
			return 0, io.EOF
		}
		return 0, fmt.Errorf("read: %w", c.readErr)
	}
	return 0, ErrWouldBlock
}

// Write hands up to one chunk of p to the writer goroutine.
func (c *Conn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, ErrConnClosed
	}
	if c.writeErr != nil {
		return 0, c.writeErr
	}
	if len(p) == 0 {
		return 0, nil
	}
	if c.writeBusy || c.shutdownPending {
		return 0, ErrWouldBlock
	}
	n := min(len(p), portableChunk)
	chunk := make([]byte, n)
	copy(chunk, p)
	c.writeBusy = true
	c.writeCh <- chunk
	if n < len(p) {
		return n, ErrWouldBlock
	}
	return n, nil
}

// Writev hands the buffers over as one chunk (up to the chunk size).
func (c *Conn) Writev(bufs [][]byte) (int, error) {
	var joined []byte
	for _, b := range bufs {
		joined = append(joined, b...)
		if len(joined) >= portableChunk {
			break
		}
	}
	return c.Write(joined)
}

// CloseWrite shuts down the sending side once queued bytes are written.
func (c *Conn) CloseWrite() error {
	if c.closed {
		return ErrConnClosed
	}
	c.shutdownPending = true
	if !c.writeBusy && !c.shutdownHandedIn {
		c.shutdownHandedIn, c.writeBusy = true, true
		c.writeCh <- nil
	}
	return nil
}

// closeWriteGrace bounds how long a closed connection's last write may
// take before the socket is closed anyway.
const closeWriteGrace = 5 * time.Second

// Close closes the connection once the chunk with the writer goroutine is
// written; its goroutines exit.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	c.loop.openConns.Add(-1)
	delete(c.loop.poller.registered, c)
	close(c.done)
	if c.writeBusy {
		c.nc.SetWriteDeadline(time.Now().Add(closeWriteGrace))
	}
	close(c.writeCh) // the writer closes the socket when done
	return nil
}

// Abort closes at once, with a TCP reset where the platform allows it.
func (c *Conn) Abort() error {
	if c.closed {
		return nil
	}
	if tc, ok := c.nc.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	err := c.nc.Close()
	c.Close()
	return err
}

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// Loop returns the loop the connection belongs to.
func (c *Conn) Loop() *Loop { return c.loop }

// LocalAddr returns the local address.
func (c *Conn) LocalAddr() net.Addr { return c.nc.LocalAddr() }

// Listener is the portable backend's listening socket: a net.Listener with
// an accept goroutine. Methods are loop-only.
type Listener struct {
	loop     *Loop
	nl       net.Listener
	onAccept func(*Conn)
	waiting  []*Conn // accepted before SetAcceptHandler
	closed   bool
}

// Listen opens a listening TCP socket; see the epoll backend's Listen.
func (l *Loop) Listen(network, address string, opts ListenOptions) (*Listener, error) {
	lc := net.ListenConfig{}
	if opts.ReusePort {
		lc.Control = setReusePort
	}
	nl, err := lc.Listen(context.Background(), network, address)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", address, err)
	}
	ln := &Listener{loop: l, nl: nl}
	l.poller.registered[ln] = struct{}{}
	go ln.acceptLoop()
	return ln, nil
}

// acceptLoop accepts on its own goroutine and posts each connection to
// the loop. When accepting fails (out of descriptors, say) it pauses for
// acceptRetryDelay, so a persistent error neither spins nor floods the
// log: the pause is logged when it starts, not on every failed retry.
func (ln *Listener) acceptLoop() {
	paused := false
	for {
		nc, err := ln.nl.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if !paused {
				paused = true
				ln.loop.opts.Logger.Warn("ioloop: accept paused", "error", err, "retry_in", acceptRetryDelay)
			}
			time.Sleep(acceptRetryDelay)
			continue
		}
		paused = false
		ln.loop.poller.post(readyEvent{target: ln, kind: accepted, nc: nc})
	}
}

// apply registers a posted connection with the loop and queues it for the
// accept handler.
func (ln *Listener) apply(ev *readyEvent) Events {
	if ln.closed {
		ev.nc.Close()
		return 0
	}
	ln.waiting = append(ln.waiting, ln.loop.newConn(ev.nc))
	return Readable
}

func (ln *Listener) handleEvents(Events) {
	if ln.onAccept != nil {
		ln.acceptSome()
	}
}

func (ln *Listener) describe() string { return "accept handler " + FuncName(ln.onAccept) }

// acceptSome hands the waiting connections to the accept handler, each
// protected (handOver) so that a panic in one does not strand the rest.
func (ln *Listener) acceptSome() {
	for len(ln.waiting) > 0 && !ln.closed && ln.onAccept != nil {
		c := ln.waiting[0]
		ln.waiting[0] = nil
		ln.waiting = ln.waiting[1:]
		ln.loop.handOver(ln.onAccept, c)
	}
	if len(ln.waiting) == 0 {
		ln.waiting = nil
	}
}

// Addr returns the bound address.
func (ln *Listener) Addr() net.Addr { return ln.nl.Addr() }

// SetAcceptHandler starts handing accepted connections to fn.
func (ln *Listener) SetAcceptHandler(fn func(*Conn)) {
	ln.onAccept = fn
	ln.acceptSome()
}

// Close stops accepting; connections accepted but not yet handed to the
// accept handler are closed.
func (ln *Listener) Close() error {
	if ln.closed {
		return nil
	}
	ln.closed = true
	delete(ln.loop.poller.registered, ln)
	for _, c := range ln.waiting {
		c.Close()
	}
	ln.waiting = nil
	return ln.nl.Close()
}

// Dial connects on a goroutine and resolves the future on the loop; see
// the epoll backend's Dial for the timeout and cancel rules, which hold
// here too: a timeout or cancel cancels the connect, and a connection
// that completes anyway is closed, never delivered.
func (l *Loop) Dial(network, address string, opts DialOptions) *concurrent.Future[*Conn] {
	l.AssertOnLoop()
	d := l.startDial(address, opts)
	ctx, cancel := context.WithCancel(context.Background())
	d.abandon = cancel
	go func() {
		dialer := net.Dialer{}
		if opts.LocalAddr != nil {
			dialer.LocalAddr = opts.LocalAddr
		}
		nc, err := dialer.DialContext(ctx, network, address)
		queued := l.addCallback(func() {
			if d.future.Done() { // timed out or cancelled meanwhile
				if nc != nil {
					nc.Close()
				}
				return
			}
			d.abandon = nil
			cancel() // releases the context
			if err != nil {
				d.future.Fail(fmt.Errorf("dial %s: %w", address, err))
				return
			}
			d.future.Resolve(l.newConn(nc))
		})
		if !queued && nc != nil {
			nc.Close() // the loop closed while connecting
		}
	}()
	return d.future
}
