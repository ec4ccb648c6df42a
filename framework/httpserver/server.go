package httpserver

import (
	"errors"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"chat/framework/ioloop"
	"chat/framework/iostream"
	"chat/framework/tcpserver"
)

// Handler answers requests. ServeHTTP runs on the loop and must not block;
// it may return before finishing the response and call w.Finish later from
// another loop callback (a timer, a future's callback): that is how long
// polls and executor work are written.
type Handler interface {
	ServeHTTP(w *ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w *ResponseWriter, r *Request)

// ServeHTTP calls f(w, r).
func (f HandlerFunc) ServeHTTP(w *ResponseWriter, r *Request) { f(w, r) }

// Default timeouts. Each is configurable on Server.
const (
	// DefaultHeaderTimeout bounds reading a request head once its first
	// byte has arrived (and the first head of a new connection): a client
	// that trickles headers (slowloris) is cut off.
	DefaultHeaderTimeout = 20 * time.Second
	// DefaultBodyTimeout bounds reading a request body.
	DefaultBodyTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds how long a keep-alive connection may wait
	// for its next request, and how long a finished response may wait in
	// the stream's queue for a client that reads none of it (a client that
	// keeps reading, however slowly, is not cut off).
	DefaultIdleTimeout = 120 * time.Second
	// DefaultLingerTimeout bounds the close linger after an error
	// response (see Server.LingerTimeout): long enough for the client to
	// read the response before a reset could destroy it, short enough
	// that a client which never closes does not hold the connection.
	DefaultLingerTimeout = 2 * time.Second
)

// DefaultMaxBodyBytesInFlight is the default Server.MaxBodyBytesInFlight:
// 25 bodies at the default 10 MiB limit, or thousands of chat posts, while
// memory stays bounded however many clients declare large bodies at once.
const DefaultMaxBodyBytesInFlight = 256 << 20

// Server is an HTTP/1.1 server on the event loop: Tornado's HTTPServer with
// its HTTP1Connection. Set the fields, then call Listen (on the loop, or
// before it runs); fields are read-only afterwards. Its methods are
// loop-only.
type Server struct {
	Loop    *ioloop.Loop
	Handler Handler
	// Limits bounds request heads and bodies; see Limits for defaults.
	Limits Limits
	// HeaderTimeout, BodyTimeout and IdleTimeout: zero means the defaults
	// above. Each is its own deadline: the header timeout starts at a
	// request's first byte (on a new connection, at accept), however long
	// the idle wait before it was. No timeout runs while the handler works
	// on a request.
	HeaderTimeout, BodyTimeout, IdleTimeout time.Duration
	// LingerTimeout bounds how long a connection closed after an error
	// response keeps reading (and discarding) what the client still sends
	// before it is cut off; zero means DefaultLingerTimeout.
	LingerTimeout time.Duration
	// MaxBodyBytesInFlight bounds the request-body bytes the server holds
	// at once, across all connections: a Content-Length body counts its
	// declared length from its head until its response is finished, a
	// chunked body its bytes as they arrive. A request that would go over
	// is answered 503 Service Unavailable with Retry-After: 1 and
	// Connection: close, and its body is never read (a chunked one stops
	// being read); requests already being read or handled are not
	// touched. Zero means DefaultMaxBodyBytesInFlight.
	MaxBodyBytesInFlight int64
	// XHeaders trusts X-Real-IP / X-Forwarded-For for the client address
	// and X-Forwarded-Proto / X-Scheme for the scheme, as Tornado's
	// xheaders does. Enable it only behind a proxy that sets them.
	XHeaders bool
	// DisableGzip turns off compressing responses for clients that accept
	// gzip.
	DisableGzip bool
	// MaxConnections and ReusePort configure the TCP layer (see
	// tcpserver.Server).
	MaxConnections int
	ReusePort      bool
	// AccessLog, when set, gets one line per finished request. The lines
	// are written by a goroutine of the server's, never on the loop: a
	// slow log pipe must not stall every connection. They wait in a queue
	// of AccessLogQueue lines (zero means DefaultAccessLogQueue); a line
	// that finds the queue full is dropped and counted (AccessLogDropped).
	// After Close, lines of requests still in flight are written directly.
	AccessLog      *slog.Logger
	AccessLogQueue int
	// ErrorLog gets handler panics and protocol errors; nil means the
	// loop's logger.
	ErrorLog *slog.Logger

	tcp   *tcpserver.Server
	limit Limits // Limits with defaults applied
	// bodyBytesInFlight is the sum of the connections' body reservations
	// (see MaxBodyBytesInFlight). Loop-owned.
	bodyBytesInFlight int64
	date              DateCache
	// outputBuffers are response buffers the kernel took in full,
	// reused for later responses. Loop-owned; bounded in count and size.
	outputBuffers [][]byte
	accessLog     *accessLogQueue // nil without AccessLog
	// headScratch is where a response head is rendered before it is
	// placed in front of its body. Loop-owned.
	headScratch []byte
}

// Bounds on the response-buffer free list.
const (
	maxFreeOutputBuffers = 64
	maxFreeOutputSize    = 64 << 10
)

// outputBuffer returns an empty buffer with room for n bytes.
func (s *Server) outputBuffer(n int) []byte {
	if last := len(s.outputBuffers) - 1; last >= 0 && cap(s.outputBuffers[last]) >= n {
		buf := s.outputBuffers[last]
		s.outputBuffers[last] = nil
		s.outputBuffers = s.outputBuffers[:last]
		return buf[:0]
	}
	return make([]byte, 0, max(n, 512))
}

// recycleOutputBuffer keeps a buffer the stream no longer references.
func (s *Server) recycleOutputBuffer(buf []byte) {
	if cap(buf) <= maxFreeOutputSize && len(s.outputBuffers) < maxFreeOutputBuffers {
		s.outputBuffers = append(s.outputBuffers, buf)
	}
}

// Listen starts serving on address ("host:port") and returns the bound
// address. It may be called for several addresses.
func (s *Server) Listen(address string) (net.Addr, error) {
	if s.Loop == nil || s.Handler == nil {
		return nil, errors.New("httpserver: Loop and Handler must be set before Listen")
	}
	if s.tcp == nil {
		s.limit = s.Limits.WithDefaults()
		if s.AccessLog != nil {
			s.accessLog = startAccessLog(s.AccessLog, orDefaultInt(s.AccessLogQueue, DefaultAccessLogQueue))
		}
		s.tcp = &tcpserver.Server{
			Loop:           s.Loop,
			Handler:        s.serveConn,
			MaxConnections: s.MaxConnections,
			ListenOptions:  ioloop.ListenOptions{ReusePort: s.ReusePort, Backlog: 4096},
			StreamOptions: iostream.Options{
				// A head is bounded by the request line and header limits;
				// bodies larger than the buffer are read in pieces.
				MaxBufferSize: max(1<<20, s.limit.MaxRequestLineBytes+s.limit.MaxHeaderBytes+4096),
			},
		}
	}
	return s.tcp.Listen(address)
}

// Close stops accepting connections and the access-log writer (once it
// has written what is queued). Requests in flight go on.
func (s *Server) Close() {
	if s.tcp != nil {
		s.tcp.Close()
	}
	if s.accessLog != nil {
		s.accessLog.stop()
	}
}

// AccessLogDropped returns how many access-log lines were dropped because
// the log writer was behind by AccessLogQueue lines. Safe from any
// goroutine.
func (s *Server) AccessLogDropped() uint64 {
	if s.accessLog == nil {
		return 0
	}
	return s.accessLog.dropped.Load()
}

// Stats returns the TCP layer's counters.
func (s *Server) Stats() tcpserver.Stats {
	if s.tcp == nil {
		return tcpserver.Stats{}
	}
	return s.tcp.Stats()
}

func (s *Server) serveConn(stream *iostream.Stream) {
	c := &conn{srv: s, stream: stream}
	c.onTimer = c.checkDeadline
	c.scanner.Limits = s.limit
	c.closeHook = stream.AddCloseCallback(c.onStreamClosed)
	c.readHead(true)
}

func (s *Server) headerTimeout() time.Duration {
	return orDefault(s.HeaderTimeout, DefaultHeaderTimeout)
}
func (s *Server) bodyTimeout() time.Duration { return orDefault(s.BodyTimeout, DefaultBodyTimeout) }
func (s *Server) idleTimeout() time.Duration { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }
func (s *Server) maxBodyBytesInFlight() int64 {
	if s.MaxBodyBytesInFlight <= 0 {
		return DefaultMaxBodyBytesInFlight
	}
	return s.MaxBodyBytesInFlight
}
func (s *Server) lingerTimeout() time.Duration {
	return orDefault(s.LingerTimeout, DefaultLingerTimeout)
}

func orDefaultInt(n, def int) int {
	if n <= 0 {
		return def
	}
	return n
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

func (s *Server) errorLog() *slog.Logger {
	if s.ErrorLog != nil {
		return s.ErrorLog
	}
	return s.Loop.Logger()
}

// DefaultAccessLogQueue is the default Server.AccessLogQueue: a few
// seconds of a busy server's lines, so a log pipe that stalls briefly
// loses nothing, while one that stalls for good costs bounded memory and
// counted drops rather than a stalled loop.
const DefaultAccessLogQueue = 4096

// accessEntry is one access-log line, handed from the loop to the writer.
type accessEntry struct {
	method, path, remote string
	status, bytes        int
	duration             time.Duration
}

// accessLogQueue carries access-log lines from the loop to one writer
// goroutine. entries and stopped are used on the loop only; dropped is
// read from any goroutine.
type accessLogQueue struct {
	log     *slog.Logger
	entries chan accessEntry
	stopped bool
	dropped atomic.Uint64
}

func startAccessLog(log *slog.Logger, size int) *accessLogQueue {
	q := &accessLogQueue{log: log, entries: make(chan accessEntry, size)}
	go q.writeAll()
	return q
}

// writeAll is the writer goroutine: it writes lines until stop closes the
// queue and the queue is drained.
func (q *accessLogQueue) writeAll() {
	for e := range q.entries {
		q.write(e)
	}
}

func (q *accessLogQueue) write(e accessEntry) {
	q.log.Info("request", "method", e.method, "path", e.path, "status", e.status,
		"bytes", e.bytes, "duration", e.duration, "remote", e.remote)
}

// add queues a line without blocking, or drops and counts it. Loop-only.
func (q *accessLogQueue) add(e accessEntry) {
	if q.stopped {
		q.write(e) // shutting down: the writer is gone
		return
	}
	select {
	case q.entries <- e:
	default:
		q.dropped.Add(1)
	}
}

// stop ends the writer once it has written what is queued. Loop-only.
func (q *accessLogQueue) stop() {
	if !q.stopped {
		q.stopped = true
		close(q.entries)
	}
}
