package tcpserver

import (
	"errors"
	"fmt"
	"net"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
)

// DefaultMaxConnections is the connection limit when Server.MaxConnections
// is zero. It sits under the usual per-process open-file limit (20,000
// here) so the process keeps descriptors for its database and files.
const DefaultMaxConnections = 16384

// Server accepts TCP connections on the loop and hands each one, wrapped
// in an iostream.Stream, to Handler: Tornado's TCPServer. Configure the
// fields before Listen; they are read-only afterwards. All methods are
// loop-only (or called before the loop runs).
type Server struct {
	Loop *ioloop.Loop
	// Handler takes ownership of each accepted stream. It runs on the loop
	// and must not block.
	Handler func(*iostream.Stream)
	// MaxConnections bounds the connections open at once. A connection
	// over the limit is accepted and closed at once (so it does not sit in
	// the kernel's queue) and counted in Stats().Rejected. Zero means
	// DefaultMaxConnections.
	MaxConnections int
	// StreamOptions configures every accepted stream.
	StreamOptions iostream.Options
	// ListenOptions configures the listening sockets (SO_REUSEPORT, backlog).
	ListenOptions ioloop.ListenOptions

	listeners []*ioloop.Listener
	stats     Stats
	// released counts a stream's close. One function value shared by
	// every stream, so a connection holds no closure of its own for it.
	released func(error)
}

// Stats counts what a server has done. Read it with Server.Stats.
type Stats struct {
	Accepted uint64 // connections handed to Handler
	Rejected uint64 // connections closed at once for being over the limit
	Active   int    // connections open now
}

// Listen starts accepting on address ("host:port"; ":0" picks a free port)
// and returns the bound address. Call it once per address; IPv4 and IPv6
// literals both work, and an empty host listens on all of both.
func (s *Server) Listen(address string) (net.Addr, error) {
	if s.Loop == nil || s.Handler == nil {
		return nil, errors.New("tcpserver: Loop and Handler must be set before Listen")
	}
	ln, err := s.Loop.Listen("tcp", address, s.ListenOptions)
	if err != nil {
		return nil, fmt.Errorf("tcpserver: %w", err)
	}
	if s.released == nil {
		s.released = func(error) { s.stats.Active-- }
	}
	s.listeners = append(s.listeners, ln)
	ln.SetAcceptHandler(s.accept)
	return ln.Addr(), nil
}

func (s *Server) maxConnections() int {
	if s.MaxConnections <= 0 {
		return DefaultMaxConnections
	}
	return s.MaxConnections
}

// accept runs on the loop for every new connection.
func (s *Server) accept(conn *ioloop.Conn) {
	if s.stats.Active >= s.maxConnections() {
		s.stats.Rejected++
		conn.Close()
		return
	}
	s.stats.Accepted++
	s.stats.Active++
	stream := iostream.New(s.Loop, conn, s.StreamOptions)
	stream.AddCloseCallback(s.released)
	defer closeIfPanicking(stream)
	s.Handler(stream)
}

// closeIfPanicking closes the stream of a handler that panicked, so the
// connection neither stays open with no owner nor keeps its slot under
// MaxConnections, then lets the panic go on to the loop, which logs it
// and counts it (and goes on accepting).
func closeIfPanicking(stream *iostream.Stream) {
	if r := recover(); r != nil {
		stream.Close(fmt.Errorf("tcpserver: connection handler panicked: %v", r))
		panic(r)
	}
}

// Close stops accepting. Open connections stay with their handlers.
func (s *Server) Close() {
	for _, ln := range s.listeners {
		ln.Close()
	}
	s.listeners = nil
}

// Addrs returns the addresses the server listens on.
func (s *Server) Addrs() []net.Addr {
	addrs := make([]net.Addr, len(s.listeners))
	for i, ln := range s.listeners {
		addrs[i] = ln.Addr()
	}
	return addrs
}

// Stats returns the server's counters. Loop-only (the counters are
// loop-owned); from elsewhere, read them inside Loop.AddCallback.
func (s *Server) Stats() Stats { return s.stats }

// DefaultConnectTimeout is how long Connect waits for a connection when
// ConnectOptions.Timeout is zero: Tornado's connect_timeout. Without a
// bound, a host that does not answer keeps the connect (and whoever waits
// for it) going through the kernel's SYN retries, about two minutes.
const DefaultConnectTimeout = 20 * time.Second

// ErrConnectTimeout is the error of a Connect that made no connection
// within its timeout. It matches concurrent.ErrTimeout too.
var ErrConnectTimeout = fmt.Errorf("tcpserver: connect timed out: %w", concurrent.ErrTimeout)

// ConnectOptions configures Connect.
type ConnectOptions struct {
	Dial   ioloop.DialOptions
	Stream iostream.Options
	// Timeout bounds the connect, name resolution included: past it the
	// future fails with ErrConnectTimeout and the dial is cancelled. Zero
	// means DefaultConnectTimeout; negative means no bound but the
	// kernel's.
	Timeout time.Duration
}

func (o ConnectOptions) timeout() time.Duration {
	if o.Timeout == 0 {
		return DefaultConnectTimeout
	}
	return o.Timeout
}

// Connect opens a client connection without blocking the loop: Tornado's
// TCPClient. The future resolves on the loop with a stream, or fails: with
// the dial's error, with ErrConnectTimeout after opts.Timeout, or with
// concurrent.ErrCancelled when the caller cancels it. A timeout or a
// cancel also cancels the dial, and a connection that is made all the same
// after the future failed is closed, never delivered: whoever gave up on
// it owns nothing. Loop-only.
func Connect(loop *ioloop.Loop, address string, opts ConnectOptions) *concurrent.Future[*iostream.Stream] {
	return connect(loop, address, opts, dialLoop)
}

// dialer starts a connect and hands its result to deliver, once, on the
// loop; the function it returns cancels the connect. Connect dials with
// dialLoop; a test passes a dialer that delivers when the test says, to
// play a connect that completes after Connect gave up.
type dialer func(loop *ioloop.Loop, address string, opts ioloop.DialOptions, deliver func(*ioloop.Conn, error)) (cancel func())

// dialLoop dials with the loop. Cancelling the loop's dial future closes a
// socket that is still connecting (see ioloop.Loop.Dial).
func dialLoop(loop *ioloop.Loop, address string, opts ioloop.DialOptions, deliver func(*ioloop.Conn, error)) func() {
	f := loop.Dial("tcp", address, opts)
	f.OnResult(deliver)
	return func() { f.Cancel() }
}

// connect is Connect with its dialer as a parameter.
func connect(loop *ioloop.Loop, address string, opts ConnectOptions, dial dialer) *concurrent.Future[*iostream.Stream] {
	out := concurrent.New[*iostream.Stream]()
	if opts.Dial.Timeout == 0 {
		// Connect's own timer bounds the connect; the loop's default dial
		// timeout must not cut a longer ConnectOptions.Timeout short.
		opts.Dial.Timeout = -1
	}
	dialing := true
	cancelDial := dial(loop, address, opts.Dial, func(c *ioloop.Conn, err error) {
		dialing = false
		switch {
		case err != nil:
			out.Fail(fmt.Errorf("tcpserver: %w", err))
		case out.Done():
			c.Close() // Connect gave up on it (timeout or cancel)
		default:
			out.Resolve(iostream.New(loop, c, opts.Stream))
		}
	})
	if out.Done() { // the dial finished at once (an unparsable address, say)
		return out
	}
	var timer *ioloop.Timer
	if d := opts.timeout(); d > 0 {
		timer = loop.CallLater(d, func() {
			out.Fail(fmt.Errorf("tcpserver: connect %s: no connection within %v: %w", address, d, ErrConnectTimeout))
		})
	}
	out.AddDoneCallback(func(f *concurrent.Future[*iostream.Stream]) {
		if timer != nil {
			timer.Cancel()
		}
		if dialing { // timed out or cancelled
			cancelDial()
		}
	})
	return out
}
