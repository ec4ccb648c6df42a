package iostream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"reflect"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
)

// Errors a read or write can fail with. Callers branch on them with
// errors.Is.
var (
	// ErrStreamClosed: the stream was closed (by its owner, the peer or an
	// error) before the operation could finish. The error also wraps the
	// close's cause.
	ErrStreamClosed = errors.New("iostream: stream closed")
	// ErrDelimiterNotFound: ReadUntil's delimiter did not appear within
	// its max bytes. The bytes stay buffered; the owner usually answers
	// with an error (431 for a header section) and closes.
	ErrDelimiterNotFound = errors.New("iostream: delimiter not found within limit")
	// ErrBufferFull: a read needs more than MaxBufferSize bytes buffered.
	ErrBufferFull = errors.New("iostream: read buffer limit exceeded")
	// ErrReadPending: a read was requested while another is waiting. A
	// stream serves one read at a time.
	ErrReadPending = errors.New("iostream: another read is already pending")
	// ErrWriteBufferFull: more than MaxPendingWriteBytes were queued
	// because the peer does not read. The stream is closed with it.
	ErrWriteBufferFull = errors.New("iostream: pending write limit exceeded")
)

// Options configures a Stream. The zero value gives the defaults noted.
type Options struct {
	// MaxBufferSize is the most bytes the stream buffers for one read
	// (a header section, a frame, a ReadBytes). Zero means 1 MiB.
	MaxBufferSize int
	// MaxPendingWriteBytes is how far writes may run ahead of a peer that
	// does not read before the stream closes with ErrWriteBufferFull.
	// Zero means 16 MiB. Protocols with their own, lower limit (the
	// WebSocket send queue) check PendingWriteBytes themselves.
	MaxPendingWriteBytes int
}

func (o Options) withDefaults() Options {
	if o.MaxBufferSize <= 0 {
		o.MaxBufferSize = 1 << 20
	}
	if o.MaxPendingWriteBytes <= 0 {
		o.MaxPendingWriteBytes = 16 << 20
	}
	return o
}

// readChunk is the size of the pooled buffers reads go into. A stream
// takes one when bytes arrive and gives it back as soon as everything in
// it has been consumed, so idle streams hold none.
const readChunk = 8 << 10

// readBuffer holds bytes received but not yet consumed: data[start:end].
// Streams borrow one from readBufferPool while bytes are in flight.
type readBuffer struct {
	data       []byte
	start, end int
}

var readBufferPool = sync.Pool{New: func() any { return &readBuffer{data: make([]byte, readChunk)} }}

// ReadCallback receives the result of a read. data is valid only until the
// callback returns (it points into the stream's buffer): copy what must be
// kept. On error data holds what the read could deliver (ReadUntilClose at
// EOF) or nothing.
type ReadCallback func(data []byte, err error)

// OnRead calls cb(data, err). With it a ReadCallback is a reader, so a
// pending read keeps one interface whether it came with a callback or a
// Scanner.
func (cb ReadCallback) OnRead(data []byte, err error) { cb(data, err) }

// reader receives a read's result: a ReadCallback or a Scanner.
type reader interface {
	OnRead(data []byte, err error)
}

type readKind uint8

const (
	readNone readKind = iota
	readUntil
	readBytes
	readPartial
	readScan
	readUntilClose
)

// readRequest is the one pending read.
type readRequest struct {
	kind  readKind
	n     int32 // bytes for readBytes, max for readUntil and readPartial
	delim []byte
	to    reader // a Scanner for readScan, a ReadCallback otherwise
}

// Scanner reads a stream token by token (see ReadScanner). An interface
// rather than two function values so that a protocol connection can be
// its own scanner and keep reading without allocating a closure.
type Scanner interface {
	// Split is a bufio.SplitFunc: called with everything buffered, it
	// asks for more (0, nil, nil), returns a token and how many bytes to
	// consume, or fails the read with its error.
	Split(data []byte, atEOF bool) (advance int, token []byte, err error)
	// OnRead receives the token (valid only during the call) or the
	// error, like a ReadCallback.
	OnRead(token []byte, err error)
}

// funcScanner adapts a split function and a callback to Scanner.
type funcScanner struct {
	split bufio.SplitFunc
	cb    ReadCallback
}

func (f *funcScanner) Split(data []byte, atEOF bool) (int, []byte, error) {
	return f.split(data, atEOF)
}

func (f *funcScanner) OnRead(token []byte, err error) { f.cb(token, err) }

type pendingWrite struct {
	data   []byte
	future *concurrent.Future[struct{}] // nil for QueueWrite
}

// writeQueue holds the writes the kernel has not taken yet. A stream has
// one only while the socket is behind, so an idle stream holds none.
type writeQueue struct {
	writes []pendingWrite
	offset int // bytes of writes[0] already written
}

// Stream is a buffered, non-blocking byte stream over a loop connection:
// Tornado's IOStream. Reads deliver through callbacks once enough bytes
// have arrived; writes go to the kernel at once when it has room and are
// queued otherwise.
//
// Stream is loop-owned: every method must be called on the loop goroutine,
// and every callback runs there.
//
// Lifecycle: open until Close (by the owner, or by the stream itself on a
// reset, a write error, a write limit, or the peer's EOF while no read is
// waiting). Close fails the waiting read and unwritten writes with
// ErrStreamClosed and then runs each close callback once, with the cause.
type Stream struct {
	// The fields a write reads come first, in one cache line: a broadcast
	// writes to thousands of streams in a row, and each one it touches is
	// a memory access that missed the cache.
	conn              *ioloop.Conn
	queue             *writeQueue // nil when nothing waits for the socket
	pendingWriteBytes int
	// The Options limits, resolved (int32 keeps the struct small).
	maxBufferSize, maxPendingWriteBytes int32
	closed                              bool
	writeShut                           bool // CloseWrite was called: no more writes
	flushing                            bool // flushWrites is on the stack
	shutdownWhenDone                    bool // CloseWrite once the queue drains
	closeWhenFlushed                    bool // Close (with closeCause) once the queue drains
	// Read flags, here because they fit in the first line's spare bytes.
	maybeReadable bool // an edge said readable and we have not yet seen EAGAIN
	hungUp        bool // the peer hung up: read on until EOF, whatever the read sizes
	eof           bool // the peer shut down its side
	processing    bool // processReads is on the stack
	scheduled     bool // processReads is queued with AddCallback

	// Read side. rb is borrowed from readBufferPool while received bytes
	// wait to be consumed, and nil otherwise: an idle stream holds no
	// buffer.
	rb      *readBuffer
	read    readRequest
	readErr error // a read failed (reset); delivered to the next read

	// closeCause is why the stream closed, or, while closeWhenFlushed is
	// set, why it will close once the queue drains.
	closeCause error
	onClose    []func(cause error)
}

// streamEvents is the Stream seen as its connection's ioloop.EventHandler.
// A conversion, not a wrapper: (*streamEvents)(s) allocates nothing, and
// Stream's own method set stays free of a HandleEvents nobody should call.
type streamEvents Stream

func (e *streamEvents) HandleEvents(ev ioloop.Events) { (*Stream)(e).handleEvents(ev) }

// DescribeHandler names the user's code behind this handler, for the
// loop's slow-handler and panic logs (ioloop.HandlerDescriber): the read
// callback waiting now ("iostream read callback chat/rooms.(*member).onFrame"),
// or the Scanner's type. For a protocol that reads one message after
// another this is the callback that just ran, which chained itself again.
// It runs only on those rare paths (it looks the function up). Loop-only.
func (e *streamEvents) DescribeHandler() string {
	s := (*Stream)(e)
	switch {
	case s.closed:
		return "iostream stream, closed"
	case s.read.kind == readNone:
		return "iostream stream, no read pending"
	}
	switch to := s.read.to.(type) {
	case ReadCallback:
		return "iostream read callback " + callbackName(to)
	case *funcScanner:
		return "iostream read callback " + callbackName(to.cb)
	default:
		return fmt.Sprintf("iostream read scanner %T", to)
	}
}

// callbackName is the name of the function cb runs, as the runtime knows
// it, without the suffix the compiler gives method values.
func callbackName(cb ReadCallback) string {
	f := runtime.FuncForPC(reflect.ValueOf(cb).Pointer())
	if f == nil {
		return "unknown"
	}
	return strings.TrimSuffix(f.Name(), "-fm")
}

// New wraps a loop connection in a stream and starts listening for its
// events. Loop-only.
func New(loop *ioloop.Loop, conn *ioloop.Conn, opts Options) *Stream {
	opts = opts.withDefaults()
	s := &Stream{
		conn: conn, maybeReadable: true,
		maxBufferSize:        int32(min(opts.MaxBufferSize, math.MaxInt32)),
		maxPendingWriteBytes: int32(min(opts.MaxPendingWriteBytes, math.MaxInt32)),
	}
	conn.SetHandler((*streamEvents)(s))
	return s
}

// Loop returns the loop the stream belongs to.
func (s *Stream) Loop() *ioloop.Loop { return s.conn.Loop() }

// Conn returns the underlying connection.
func (s *Stream) Conn() *ioloop.Conn { return s.conn }

// RemoteAddr returns the peer's address.
func (s *Stream) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// LocalAddr returns the local address.
func (s *Stream) LocalAddr() net.Addr { return s.conn.LocalAddr() }

// Closed reports whether the stream is closed.
func (s *Stream) Closed() bool { return s.closed }

// CloseCause returns why the stream closed (nil while open, or when the
// owner closed it without a cause).
func (s *Stream) CloseCause() error {
	if !s.closed {
		return nil
	}
	return s.closeCause
}

// Reading reports whether a read is waiting.
func (s *Stream) Reading() bool { return s.read.kind != readNone }

// Buffered returns how many received bytes wait to be read.
func (s *Stream) Buffered() int { return len(s.buffered()) }

// buffered returns the received bytes not yet consumed.
func (s *Stream) buffered() []byte {
	if s.rb == nil {
		return nil
	}
	return s.rb.data[s.rb.start:s.rb.end]
}

// PendingWriteBytes returns how many written bytes the kernel has not yet
// taken. Protocols use it for backpressure: stop producing, or drop a
// consumer that falls too far behind.
func (s *Stream) PendingWriteBytes() int { return s.pendingWriteBytes }

// CloseCallbackID identifies a close callback, for RemoveCloseCallback.
// It is valid until its callback is removed or has run: a later callback
// may get the same ID, so remove each callback once.
type CloseCallbackID int

// AddCloseCallback adds a function run (on the loop, once) after the
// stream closes, with the cause: nil when the owner closed it without one,
// io.EOF when the peer closed, or the error that closed it. Callbacks run
// in the order they were added; one added after the close still runs.
// Each runs as a loop callback of its own: one that panics is logged and
// counted by the loop, and the others still run.
func (s *Stream) AddCloseCallback(fn func(cause error)) CloseCallbackID {
	if s.closed {
		s.runCloseCallback(fn, s.closeCause)
		return -1
	}
	s.onClose = append(s.onClose, fn)
	return CloseCallbackID(len(s.onClose) - 1)
}

// RemoveCloseCallback drops a close callback that has not run: for handing
// the stream to a new owner (an HTTP connection upgraded to WebSocket), so
// the old owner's state is not kept alive by its callback, while the
// callbacks of others (the TCP server's connection count) stay.
func (s *Stream) RemoveCloseCallback(id CloseCallbackID) {
	if id < 0 || int(id) >= len(s.onClose) {
		return
	}
	s.onClose[id] = nil
	// Trailing removed entries are dropped, so the next owner's callback
	// takes their place rather than growing the slice.
	for len(s.onClose) > 0 && s.onClose[len(s.onClose)-1] == nil {
		s.onClose = s.onClose[:len(s.onClose)-1]
	}
}

// ReadUntil delivers the bytes up to and including delim. If delim has not
// appeared within max bytes (0 means MaxBufferSize) the read fails with
// ErrDelimiterNotFound.
func (s *Stream) ReadUntil(delim []byte, max int, cb ReadCallback) {
	if max <= 0 || max > int(s.maxBufferSize) {
		max = int(s.maxBufferSize)
	}
	s.startRead(readRequest{kind: readUntil, delim: delim, n: int32(max), to: cb})
}

// ReadBytes delivers exactly n bytes. n above MaxBufferSize fails with
// ErrBufferFull: read large bodies with ReadPartial.
func (s *Stream) ReadBytes(n int, cb ReadCallback) {
	s.startRead(readRequest{kind: readBytes, n: int32(min(n, math.MaxInt32)), to: cb})
}

// ReadPartial delivers whatever is available, at least one byte and at
// most max (0 means MaxBufferSize), as soon as anything is.
func (s *Stream) ReadPartial(max int, cb ReadCallback) {
	if max <= 0 || max > int(s.maxBufferSize) {
		max = int(s.maxBufferSize)
	}
	s.startRead(readRequest{kind: readPartial, n: int32(max), to: cb})
}

// ReadScan delivers the next token found by split, a bufio.SplitFunc: it
// is called with everything buffered each time more bytes arrive (and
// with atEOF set once the peer has shut down), and either asks for more
// (0, nil, nil), returns a token with how many bytes to consume, or fails
// the read with its error. Protocol parsers (HTTP heads, WebSocket frames)
// plug in here; a split function that keeps its own scan position stays
// linear however the bytes are split. Tokens are limited to MaxBufferSize.
func (s *Stream) ReadScan(split bufio.SplitFunc, cb ReadCallback) {
	s.ReadScanner(&funcScanner{split: split, cb: cb})
}

// ReadScanner is ReadScan with the split function and the callback as one
// Scanner: sc.Split finds the next token and sc.OnRead receives it. A
// connection that reads one frame after another passes itself and
// allocates nothing per read.
func (s *Stream) ReadScanner(sc Scanner) {
	s.startRead(readRequest{kind: readScan, to: sc})
}

// ReadUntilClose delivers everything up to the peer's EOF (at most
// MaxBufferSize bytes), with a nil error.
func (s *Stream) ReadUntilClose(cb ReadCallback) {
	s.startRead(readRequest{kind: readUntilClose, to: cb})
}

// startRead records the read and makes sure it will be served: at once if
// we are inside processReads already (a read callback chaining the next
// read), otherwise from a loop callback when bytes or EOF may already be
// here, otherwise on the next readable event. A callback never runs
// synchronously inside the Read call that registered it.
func (s *Stream) startRead(req readRequest) {
	s.Loop().AssertOnLoop()
	if s.closed {
		s.scheduleCallback(req, s.closedError())
		return
	}
	if s.read.kind != readNone {
		s.scheduleCallback(req, ErrReadPending)
		return
	}
	s.read = req
	if s.processing || s.scheduled {
		return
	}
	if s.rb != nil || s.maybeReadable || s.eof || s.readErr != nil {
		s.scheduleReads()
	}
}

// scheduleReads runs processReads from a loop callback: for a read started
// outside processReads, and for the rest of a turn that used its budget.
// The socket may hold bytes no new edge will announce, so the callback,
// not the poller, brings processReads back.
func (s *Stream) scheduleReads() {
	s.scheduled = true
	s.Loop().AddCallback(func() {
		s.scheduled = false
		s.processReads()
	})
}

// scheduleCallback fails req with err from a loop callback.
func (s *Stream) scheduleCallback(req readRequest, err error) {
	s.Loop().AddCallback(func() { s.invoke(req, nil, err) })
}

// handleEvents is the connection's readiness handler.
func (s *Stream) handleEvents(ev ioloop.Events) {
	if ev&ioloop.Hangup != 0 {
		s.hungUp = true
	}
	if ev&ioloop.Readable != 0 {
		s.maybeReadable = true
		switch {
		case s.read.kind != readNone && s.scheduled:
			// processReads is queued (the rest of a turn that used its
			// budget) and reads these bytes too. Serving them now would
			// give this stream two turns in one iteration of the loop.
		case s.read.kind != readNone:
			s.processReads()
			if ev&ioloop.Hangup != 0 && s.read.kind == readNone && !s.closed {
				// The hang-up came in the same event as the bytes that
				// satisfied the last read (a request and its client's FIN
				// in one segment), and nobody reads now: no later edge
				// will announce it, so look at it as if it came alone.
				s.noticeHangup()
			}
		case ev&ioloop.Hangup != 0:
			s.noticeHangup()
		}
	}
	if ev&ioloop.Writable != 0 && !s.closed && s.queue != nil {
		s.flushWrites()
	}
}

// noticeHangup handles a hang-up while no read is waiting: read what the
// socket still holds (a pipelined request stays buffered for the next
// read). An error closes now; an EOF with nothing buffered closes after
// the queued writes, so a parked request (a long poll) learns its client
// left. An EOF behind buffered bytes waits for the next read, which gets
// the bytes and then the EOF.
func (s *Stream) noticeHangup() {
	for !s.eof && s.readErr == nil && s.maybeReadable && s.Buffered() < int(s.maxBufferSize) {
		s.fill(int(s.maxBufferSize))
	}
	switch {
	case s.readErr != nil:
		s.Close(s.readErr)
	case s.eof && s.Buffered() == 0:
		s.closeAfterWrites(io.EOF)
	}
	// A peer that half-closed after sending more (a pipelined request
	// behind the one being answered) keeps its bytes: the next read gets
	// them, then the EOF, and its owner closes then.
	s.releaseIfEmpty()
}

// A turn of processReads (one readiness event, or one continuation) runs
// at most readTurnCallbacks read callbacks and reads at most readTurnBytes
// from the socket; then it yields to the loop and continues from a loop
// callback. Without the bound one fast sender holds the loop for as long as
// it keeps the socket full: 20 µs of handling per chat line kept other
// clients and every timer waiting for seconds. 64 callbacks at that cost
// is about 1.3 ms per turn; 256 KiB is 32 reads of the default buffer. A
// request-response peer (HTTP keep-alive, a WebSocket client) delivers one
// message per event and never reaches either bound.
const (
	readTurnCallbacks = 64
	readTurnBytes     = 256 << 10
)

// processReads serves the pending read, and each read its callback
// chains, until one has to wait for more bytes or the turn's budget (see
// readTurnCallbacks) is spent. It loops rather than recursing, so a peer
// that pipelines many requests cannot grow the stack.
func (s *Stream) processReads() {
	if s.processing {
		return
	}
	s.processing = true
	defer func() {
		// Only now, with every callback returned, may the buffer go back.
		s.processing = false
		if s.closed {
			s.recycleBuffer()
		}
		s.releaseIfEmpty()
	}()
	callbacks, bytesRead := 0, 0
	for s.read.kind != readNone && !s.closed {
		if callbacks >= readTurnCallbacks || bytesRead >= readTurnBytes {
			s.scheduleReads()
			return
		}
		n, token, err := s.satisfiable()
		if err != nil {
			callbacks++
			s.finishRead(0, nil, err)
			continue
		}
		if n >= 0 {
			callbacks++
			s.finishRead(n, token, nil)
			continue
		}
		// Not enough buffered: give up (EOF, error) or read more.
		switch {
		case s.readErr != nil:
			s.finishRead(0, nil, s.readErr)
			s.Close(s.readErr)
		case s.eof && s.read.kind == readUntilClose:
			s.finishRead(s.Buffered(), nil, nil)
		case s.eof:
			s.finishRead(0, nil, io.EOF)
		case !s.maybeReadable:
			return
		default:
			bytesRead += s.fill(s.readLimit())
		}
	}
}

// readLimit is how many bytes the pending read may need buffered.
func (s *Stream) readLimit() int {
	if s.read.kind == readBytes {
		return max(int(s.read.n), 1)
	}
	return int(s.maxBufferSize)
}

// satisfiable reports how many buffered bytes the pending read can take
// now, -1 if it must wait for more, or an error if it never can. For
// ReadScan it also returns the split function's token.
func (s *Stream) satisfiable() (int, []byte, error) {
	buffered := s.buffered()
	req := &s.read
	n := int(req.n)
	switch req.kind {
	case readUntil:
		if i := bytes.Index(buffered, req.delim); i >= 0 && i+len(req.delim) <= n {
			return i + len(req.delim), nil, nil
		}
		if len(buffered) >= n {
			return 0, nil, fmt.Errorf("%w (%d bytes)", ErrDelimiterNotFound, n)
		}
	case readBytes:
		if req.n > s.maxBufferSize {
			return 0, nil, fmt.Errorf("%w: read of %d bytes, limit %d", ErrBufferFull, n, int(s.maxBufferSize))
		}
		if len(buffered) >= n {
			return n, nil, nil
		}
	case readPartial:
		if len(buffered) > 0 {
			return min(len(buffered), n), nil, nil
		}
	case readScan:
		return s.scan(buffered)
	case readUntilClose:
		if len(buffered) >= int(s.maxBufferSize) {
			return 0, nil, fmt.Errorf("%w: %d bytes before EOF", ErrBufferFull, len(buffered))
		}
	}
	return -1, nil, nil
}

// scan runs the split function on what is buffered. A token is delivered
// in place of the consumed bytes only when it is a prefix of them (the
// common case); a split function that builds its own token (unescaping,
// say) has it copied into the buffer's consumed range.
func (s *Stream) scan(buffered []byte) (int, []byte, error) {
	advance, token, err := s.read.to.(Scanner).Split(buffered, s.eof)
	if err != nil {
		return 0, nil, err
	}
	if advance < 0 || advance > len(buffered) {
		return 0, nil, fmt.Errorf("iostream: split function advanced %d of %d bytes", advance, len(buffered))
	}
	if advance == 0 && token == nil {
		if len(buffered) >= int(s.maxBufferSize) {
			return 0, nil, fmt.Errorf("%w: no token in %d bytes", ErrBufferFull, len(buffered))
		}
		return -1, nil, nil
	}
	return advance, token, nil
}

// finishRead consumes n buffered bytes and hands them (or, for ReadScan,
// the split function's token) to the pending read's callback.
func (s *Stream) finishRead(n int, token []byte, err error) {
	req := s.read
	s.read = readRequest{}
	var data []byte
	if s.rb != nil {
		data = s.rb.data[s.rb.start : s.rb.start+n]
		s.rb.start += n
	}
	if req.kind == readScan {
		data = token
	}
	s.invoke(req, data, err)
}

// invoke runs a read's callback. A panic in it is logged with its stack
// and closes this stream (its protocol state is unknown now), and the loop
// carries on serving every other connection.
func (s *Stream) invoke(req readRequest, data []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.Loop().Logger().Error("iostream: read callback panicked",
				"panic", r, "remote", s.RemoteAddr(), "stack", string(debug.Stack()))
			s.Close(fmt.Errorf("iostream: read callback panicked: %v", r))
		}
	}()
	req.to.OnRead(data, err)
}

// fill reads once from the socket into the buffer, growing it towards
// limit if it is full, and returns how many bytes it read.
func (s *Stream) fill(limit int) int {
	s.makeRoom(limit)
	rb := s.rb
	n, err := s.conn.Read(rb.data[rb.end:])
	switch {
	case err == nil:
		// A short read means the socket is empty now; new data brings a
		// new edge, so there is no need to spend a system call on EAGAIN.
		// After a hang-up the EOF is still to be read and no new edge
		// will announce it, so keep reading then.
		if n < len(rb.data)-rb.end && !s.hungUp {
			s.maybeReadable = false
		}
		rb.end += n
		return n
	case errors.Is(err, ioloop.ErrWouldBlock):
		s.maybeReadable = false
	case errors.Is(err, io.EOF):
		s.eof = true
	default:
		s.readErr = err
	}
	return 0
}

// makeRoom makes sure there is space after rb.end: a pooled buffer for an
// empty stream, then compaction, then growth (doubling, up to limit).
// Callers only ask while fewer than limit bytes are buffered, so growth
// always finds room.
func (s *Stream) makeRoom(limit int) {
	if s.rb == nil {
		s.rb = readBufferPool.Get().(*readBuffer)
		return
	}
	rb := s.rb
	if rb.end < len(rb.data) {
		return
	}
	if rb.start > 0 {
		rb.end = copy(rb.data, rb.data[rb.start:rb.end])
		rb.start = 0
		return
	}
	grown := make([]byte, max(min(2*len(rb.data), limit), rb.end+1))
	copy(grown, rb.data[:rb.end])
	rb.data = grown
}

// releaseIfEmpty gives the buffer back once everything in it is consumed,
// so an idle stream holds no buffer. Inside processReads it waits until
// the callbacks have returned (their data points into the buffer).
func (s *Stream) releaseIfEmpty() {
	if s.rb != nil && s.rb.start == s.rb.end && !s.processing {
		s.recycleBuffer()
	}
}

// recycleBuffer drops the read buffer, putting it back in the pool if it
// is still the pool's size (a buffer grown for a large read is left to
// the garbage collector rather than kept by the pool).
func (s *Stream) recycleBuffer() {
	rb := s.rb
	if rb == nil {
		return
	}
	s.rb = nil
	if len(rb.data) == readChunk {
		rb.start, rb.end = 0, 0
		readBufferPool.Put(rb)
	}
}

// writeDone is the future of every write the kernel took at once: a
// resolved future is never mutated again, so one can serve every stream.
var writeDone = concurrent.Resolved(struct{}{})

// Write sends b. When nothing is queued it goes straight to the kernel (one
// system call); what the kernel cannot take now is queued and written when
// the socket turns writable. The future resolves once every byte of b has
// been handed to the kernel, or fails with ErrStreamClosed. The stream
// keeps b until then without copying it: do not modify b after Write.
func (s *Stream) Write(b []byte) *concurrent.Future[struct{}] {
	rest, err := s.writeNow(b)
	if err != nil {
		return concurrent.Failed[struct{}](err)
	}
	if len(rest) == 0 {
		return writeDone
	}
	f := concurrent.New[struct{}]()
	s.enqueue(rest, f)
	return f
}

// QueueWrite is Write without a future, for hot paths (a broadcast to
// thousands of connections) where the caller learns of failure from the
// close callback. It returns an error only if the stream is already
// closed or shut for writing.
func (s *Stream) QueueWrite(b []byte) error {
	// The common case first, with its rare outcomes in calls of their
	// own: nothing is queued and the kernel takes all of b.
	s.Loop().AssertOnLoop()
	if !s.closed && !s.writeShut && s.queue == nil && len(b) > 0 {
		n, err := s.conn.Write(b)
		if err == nil {
			return nil
		}
		return s.afterWrite(b[n:], err)
	}
	rest, err := s.writeNow(b)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		s.enqueue(rest, nil)
	}
	return nil
}

// afterWrite handles a direct write the kernel did not fully take: the
// rest is queued if the socket is merely full, and the stream is closed
// on an error.
func (s *Stream) afterWrite(rest []byte, err error) error {
	if !errors.Is(err, ioloop.ErrWouldBlock) {
		s.Close(err)
		return s.closedError()
	}
	if len(rest) > 0 {
		s.enqueue(rest, nil)
	}
	return nil
}

// writeNow writes b directly when nothing is queued ahead of it and
// returns what is left to queue.
func (s *Stream) writeNow(b []byte) ([]byte, error) {
	s.Loop().AssertOnLoop()
	switch {
	case s.closed:
		return nil, s.closedError()
	case s.writeShut:
		return nil, fmt.Errorf("iostream: write after CloseWrite: %w", ErrStreamClosed)
	case len(b) == 0 || s.queue != nil:
		return b, nil
	}
	n, err := s.conn.Write(b)
	if err != nil && !errors.Is(err, ioloop.ErrWouldBlock) {
		s.Close(err)
		return nil, s.closedError()
	}
	return b[n:], nil
}

func (s *Stream) enqueue(b []byte, f *concurrent.Future[struct{}]) {
	if s.queue == nil {
		s.queue = &writeQueue{}
	}
	s.queue.writes = append(s.queue.writes, pendingWrite{data: b, future: f})
	s.pendingWriteBytes += len(b)
	if s.pendingWriteBytes > int(s.maxPendingWriteBytes) {
		s.Close(fmt.Errorf("%w: %d bytes queued, limit %d", ErrWriteBufferFull, s.pendingWriteBytes, int(s.maxPendingWriteBytes)))
	}
}

// maxIovecs bounds how many queued writes one writev gathers.
const maxIovecs = 64

// flushWrites writes queued bytes until the queue is empty or the kernel
// says it would block. Futures of completed writes resolve as it goes.
func (s *Stream) flushWrites() {
	if s.flushing {
		return
	}
	s.flushing = true
	defer func() { s.flushing = false }()
	for !s.closed && len(s.queue.writes) > 0 {
		n, err := s.writeQueued()
		s.consumeWritten(n)
		if errors.Is(err, ioloop.ErrWouldBlock) {
			return
		}
		if err != nil {
			s.Close(err)
			return
		}
	}
	if s.closed {
		return
	}
	s.queue = nil
	if s.shutdownWhenDone {
		s.shutdownWhenDone = false
		if err := s.conn.CloseWrite(); err != nil {
			s.Close(err)
		}
	}
	if s.closeWhenFlushed {
		s.Close(s.closeCause)
	}
}

// writeQueued makes one write (or writev) system call for the queue's head.
func (s *Stream) writeQueued() (int, error) {
	q := s.queue
	if len(q.writes) == 1 {
		return s.conn.Write(q.writes[0].data[q.offset:])
	}
	var scratch [maxIovecs][]byte // on the stack: an idle stream keeps no iovec slice
	iov := append(scratch[:0], q.writes[0].data[q.offset:])
	for _, w := range q.writes[1:min(len(q.writes), maxIovecs)] {
		iov = append(iov, w.data)
	}
	return s.conn.Writev(iov)
}

// consumeWritten drops n written bytes from the queue's head, resolving
// the futures of writes that are now complete.
func (s *Stream) consumeWritten(n int) {
	s.pendingWriteBytes -= n
	q := s.queue
	for n > 0 && len(q.writes) > 0 {
		head := &q.writes[0]
		left := len(head.data) - q.offset
		if n < left {
			q.offset += n
			return
		}
		n -= left
		f := head.future
		q.writes[0] = pendingWrite{}
		q.writes = q.writes[1:]
		q.offset = 0
		if f != nil {
			f.Resolve(struct{}{})
		}
	}
}

// CloseWrite shuts down the sending side once queued writes are flushed:
// the peer reads EOF, while this side can still read. Later writes fail.
func (s *Stream) CloseWrite() {
	if s.closed || s.writeShut {
		return
	}
	s.writeShut = true
	if s.queue != nil {
		s.shutdownWhenDone = true
		return
	}
	if err := s.conn.CloseWrite(); err != nil {
		s.Close(err)
	}
}

// CloseAfterWrites closes the stream (with cause nil) once every queued
// write has been handed to the kernel: for a protocol's last words, such
// as an error response or a WebSocket close frame. A peer that stops
// reading keeps it open until the write limit or the owner's timeout.
func (s *Stream) CloseAfterWrites() { s.closeAfterWrites(nil) }

// closeAfterWrites closes with cause once the write queue drains.
func (s *Stream) closeAfterWrites(cause error) {
	if s.queue == nil {
		s.Close(cause)
		return
	}
	s.closeWhenFlushed, s.closeCause = true, cause
}

// Close closes the stream with a cause (nil for an ordinary close by its
// owner). The waiting read and unwritten writes fail with ErrStreamClosed;
// then the close callbacks run, once each, from loop callbacks. Closing a
// closed stream does nothing.
func (s *Stream) Close(cause error) {
	if s.closed {
		return
	}
	s.closed, s.closeCause = true, cause
	s.conn.Close()
	closedErr := s.closedError()

	var writes []pendingWrite
	if s.queue != nil {
		writes = s.queue.writes
	}
	s.queue, s.pendingWriteBytes = nil, 0
	for _, w := range writes {
		if w.future != nil {
			w.future.Fail(closedErr)
		}
	}
	if s.read.kind != readNone {
		req := s.read
		s.read = readRequest{}
		s.scheduleCallback(req, closedErr)
	}
	if !s.processing {
		s.recycleBuffer()
	}
	callbacks := s.onClose
	s.onClose = nil
	for _, fn := range callbacks {
		if fn != nil {
			s.runCloseCallback(fn, cause)
		}
	}
}

// runCloseCallback queues one close callback as a loop callback of its
// own, so a panic in it is recovered, logged with its stack and counted
// (Stats.Panics) by the loop like any callback's, and cancels none of the
// callbacks after it. They are queued in the order they were added, so
// they run in that order.
func (s *Stream) runCloseCallback(fn func(cause error), cause error) {
	s.Loop().AddCallback(func() { fn(cause) })
}

// Abort closes the stream with a TCP reset rather than an orderly FIN: for
// a peer that broke the protocol, whose unread bytes should not linger.
func (s *Stream) Abort(cause error) {
	if !s.closed {
		s.conn.Abort()
	}
	s.Close(cause)
}

// closedError is the error operations on a closed stream fail with: it
// matches ErrStreamClosed and wraps the close's cause.
func (s *Stream) closedError() error {
	if s.closeCause == nil {
		return ErrStreamClosed
	}
	return fmt.Errorf("%w: %w", ErrStreamClosed, s.closeCause)
}
