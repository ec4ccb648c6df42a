package websocket

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"chat/framework/ioloop"
	"chat/framework/iostream"
)

// Errors a write can return.
var (
	// ErrClosed: the connection is closing or closed.
	ErrClosed = errors.New("websocket: connection closed")
	// ErrSlowConsumer: a write found the peer more than
	// Options.MaxPendingWriteBytes behind, and the connection was dropped
	// (reported as close 1013).
	ErrSlowConsumer = errors.New("websocket: peer too slow, connection dropped")
)

// Handler receives a connection's events. Every method runs on the loop.
type Handler interface {
	// OnOpen runs once the handshake is done; the connection may be
	// written to from here on.
	OnOpen(c *Conn)
	// OnMessage gets each complete text or binary message while the
	// connection is open (none once it is closing). data is valid only
	// until OnMessage returns: copy what must be kept.
	OnMessage(c *Conn, op Opcode, data []byte)
	// OnClose runs once, when the TCP connection is gone, with the close
	// code the peer sent; if it sent none, the code this side closed or
	// failed the connection with (1013 for a slow consumer); CloseAbnormal
	// (1006) if neither side sent a close frame or the peer stopped
	// answering pings.
	OnClose(c *Conn, code int, reason string)
}

// Options configures connections. The zero value gives the defaults noted.
type Options struct {
	// MaxMessageSize bounds a message, after decompression and across
	// fragments (1009 beyond it). Zero means 512 KiB. A single frame must
	// also fit the stream's read buffer (1 MiB for HTTP connections).
	MaxMessageSize int
	// DisableCompression turns off permessage-deflate.
	DisableCompression bool
	// CompressionThreshold: messages shorter than this are sent
	// uncompressed even when deflate was negotiated. Zero means 128 bytes.
	CompressionThreshold int
	// PingInterval: a connection silent this long is pinged; still silent
	// PingInterval+PongTimeout after its last frame, it is closed as dead.
	// One sweep per loop checks every connection with the same two
	// durations (whichever Options value they came with), every quarter
	// of the shorter one, so a ping may go out up to that much late.
	// Zero means 30 s and 20 s; a negative PingInterval disables
	// keepalive.
	PingInterval, PongTimeout time.Duration
	// CloseTimeout bounds the closing handshake: after sending a close
	// frame, the TCP connection is closed this long later regardless.
	// After a protocol error it also bounds the linger, when what the
	// peer still sends is read and discarded so that closing does not
	// answer it with a reset. Zero means 5 s.
	CloseTimeout time.Duration
	// MaxPendingWriteBytes: a peer that falls further behind than this is
	// dropped (close code 1013, ErrSlowConsumer) instead of buffered
	// without bound; it resumes from history when it reconnects. Behind
	// is what earlier writes still have queued when the next one comes,
	// so a single message larger than this reaches a peer that reads,
	// and a peer that does not is dropped at the next write. Zero means
	// 1 MiB. The stream's own limit (16 MiB for HTTP connections) still
	// caps one message.
	MaxPendingWriteBytes int
	// Subprotocols the server supports, in order of preference.
	Subprotocols []string
	// AllowedOrigins lists origins ("https://chat.example") accepted besides
	// the server's own. A browser's cross-site upgrade is refused with 403
	// otherwise: cookies ride along with it, so a hostile page could act
	// as the user (cross-site WebSocket hijacking).
	AllowedOrigins []string

	// resolved caches these options with defaults applied, made on first
	// use and shared by every connection upgraded with this *Options, so
	// ten thousand connections do not hold ten thousand copies.
	// resolvedFrom, set in the resolved copy, is the *Options it was made
	// for: a copy of a used Options value carries the original's cache
	// along, and resolves its own because it is not the one the cache
	// names.
	resolved, resolvedFrom *Options
}

// defaultOptions serves connections upgraded with nil Options.
var defaultOptions = new(Options)

// resolving guards Options.resolved: one *Options may serve several loops.
var resolving sync.Mutex

// shared returns the options with defaults applied, computed once per
// *Options (looked up once per connection, when it opens). An Options
// value must not change after its first use, but a copy of it may: the
// copy resolves its own values. Safe from any loop.
func (o *Options) shared() *Options {
	if o == nil {
		o = defaultOptions
	}
	resolving.Lock()
	defer resolving.Unlock()
	if o.resolved == nil || o.resolved.resolvedFrom != o {
		r := o.withDefaults()
		r.resolved, r.resolvedFrom = nil, o
		o.resolved = &r
	}
	return o.resolved
}

func (o Options) withDefaults() Options {
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = 512 << 10
	}
	if o.CompressionThreshold <= 0 {
		o.CompressionThreshold = 128
	}
	if o.PingInterval == 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.PongTimeout <= 0 {
		o.PongTimeout = 20 * time.Second
	}
	if o.CloseTimeout <= 0 {
		o.CloseTimeout = 5 * time.Second
	}
	if o.MaxPendingWriteBytes <= 0 {
		o.MaxPendingWriteBytes = 1 << 20
	}
	return o
}

type connState uint8

const (
	stateOpen    connState = iota
	stateClosing           // a close frame was sent; waiting for the peer's, or the timeout
	stateClosed
)

// Conn is a WebSocket connection on the event loop: Tornado's
// WebSocketHandler (server side) and WebSocketClientConnection (client
// side) in one type. It reads frames with the stream's ReadScanner, so an
// idle connection holds no read buffer and no goroutine; a fragmented
// message holds a buffer only until it completes.
//
// Conn is loop-owned: every method must be called on the loop.
type Conn struct {
	// The fields a broadcast write reads come first, in one cache line.
	stream   *iostream.Stream
	opts     *Options // shared, defaults applied
	state    connState
	server   bool // server side: peer frames are masked, ours are not
	deflate  bool // permessage-deflate was negotiated
	pingSent bool // keepalive: a ping is unanswered
	// keepaliveSlot is the connection's index in its keepalive sweep
	// (keepalive.go), -1 when not watched.
	keepaliveSlot int32

	handler  Handler
	lastRead int64         // UnixNano of the last frame received
	timer    *ioloop.Timer // the closing handshake's deadline
	// extra holds what most connections never use, allocated on first
	// need: an idle connection stays at this struct's 80 bytes.
	extra *connExtra

	// Data is the application's per-connection value (a user, a room).
	Data any
}

// connExtra is the part of a connection's state that most connections
// never need: a fragmented message being assembled, a subprotocol, and
// the close code and reason once closing starts.
type connExtra struct {
	subprotocol string

	// A fragmented message in progress.
	inMessage      bool
	fragOpcode     Opcode
	fragCompressed bool
	fragBuf        []byte
	text           utf8Validator

	closeCode   int
	closeReason string
}

func newConn(stream *iostream.Stream, h Handler, opts *Options, server, deflate bool, subprotocol string) *Conn {
	c := &Conn{
		stream: stream, handler: h, opts: opts,
		server: server, deflate: deflate,
		lastRead: time.Now().UnixNano(), keepaliveSlot: -1,
	}
	if subprotocol != "" {
		c.more().subprotocol = subprotocol
	}
	stream.AddCloseCallback(c.onStreamClosed)
	return c
}

// more returns the connection's extra state, allocating it on first use.
func (c *Conn) more() *connExtra {
	if c.extra == nil {
		c.extra = &connExtra{closeCode: CloseAbnormal}
	}
	return c.extra
}

// setClose records the close code and reason OnClose will report.
func (c *Conn) setClose(code int, reason string) {
	x := c.more()
	x.closeCode, x.closeReason = code, reason
}

// closeStatus is the close code and reason OnClose reports: CloseAbnormal
// if the connection ended without a close frame either way.
func (c *Conn) closeStatus() (int, string) {
	if c.extra == nil {
		return CloseAbnormal, ""
	}
	return c.extra.closeCode, c.extra.closeReason
}

// assembling reports whether a fragmented message has started.
func (c *Conn) assembling() bool { return c.extra != nil && c.extra.inMessage }

// frameReader is the connection seen as its stream's iostream.Scanner: a
// conversion, so reading frame after frame allocates nothing, and Conn's
// own method set stays free of Split and OnRead.
type frameReader Conn

func (r *frameReader) Split(data []byte, atEOF bool) (int, []byte, error) {
	return (*Conn)(r).splitFrame(data, atEOF)
}

func (r *frameReader) OnRead(frame []byte, err error) { (*Conn)(r).onFrame(frame, err) }

// readNextFrame asks the stream for the next frame.
func (c *Conn) readNextFrame() { c.stream.ReadScanner((*frameReader)(c)) }

// start reports the connection open and begins reading and keepalive.
// It reads even when OnOpen closed the connection (a full room, a banned
// user): the peer's close reply has to be read for the closing handshake
// to end at once rather than at CloseTimeout, with a reset.
func (c *Conn) start() {
	if c.opts.PingInterval > 0 {
		keepaliveFor(c.Loop(), c.opts).add(c)
	}
	c.handler.OnOpen(c)
	if c.reading() {
		c.readNextFrame()
	}
}

// reading reports whether the next frame should be read: while open, and
// while closing until the stream is gone, unless another read is pending
// (after a protocol error, linger's discarding read: what follows a bad
// frame cannot be parsed as frames).
func (c *Conn) reading() bool {
	return c.state != stateClosed && !c.stream.Closed() && !c.stream.Reading()
}

// Subprotocol returns the negotiated subprotocol ("" if none).
func (c *Conn) Subprotocol() string {
	if c.extra == nil {
		return ""
	}
	return c.extra.subprotocol
}

// Compressed reports whether permessage-deflate was negotiated.
func (c *Conn) Compressed() bool { return c.deflate }

// RemoteAddr returns the peer's address string.
func (c *Conn) RemoteAddr() string {
	if addr := c.stream.RemoteAddr(); addr != nil {
		return addr.String()
	}
	return ""
}

// Loop returns the connection's loop.
func (c *Conn) Loop() *ioloop.Loop { return c.stream.Loop() }

// PendingWriteBytes is how much written data the peer has not yet taken.
func (c *Conn) PendingWriteBytes() int { return c.stream.PendingWriteBytes() }

// Open reports whether messages can still be written.
func (c *Conn) Open() bool { return c.state == stateOpen }

// maxFramePayload is how large the next frame may be: what is left of the
// message limit.
func (c *Conn) maxFramePayload() int {
	if c.extra == nil {
		return c.opts.MaxMessageSize
	}
	return c.opts.MaxMessageSize - len(c.extra.fragBuf)
}

// splitFrame is the stream's split function: it returns one whole frame,
// failing as soon as the header breaks a rule (before the payload arrives).
func (c *Conn) splitFrame(data []byte, atEOF bool) (int, []byte, error) {
	h, err := c.parseHeader(data)
	if err == errNeedMore {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, err
	}
	total := h.headerSize + h.length
	if len(data) < total {
		return 0, nil, nil
	}
	return total, data[:total], nil
}

func (c *Conn) parseHeader(data []byte) (frameHeader, error) {
	return parseFrameHeader(data, c.server, c.deflate, c.maxFramePayload())
}

// onFrame handles one frame and asks for the next. While closing, data
// frames are discarded unread and only a close frame is answered (by
// ending the handshake): the peer's close reply may come after whatever
// it was sending.
func (c *Conn) onFrame(frame []byte, err error) {
	if err != nil {
		c.readFailed(err)
		return
	}
	c.lastRead = time.Now().UnixNano()
	// splitFrame validated this header; parsing it again (a few
	// comparisons) is cheaper than keeping a copy in every connection.
	h, _ := c.parseHeader(frame)
	payload := frame[h.headerSize:]
	if h.masked {
		// The frame is ours until this callback returns: unmask in place.
		maskBytes(h.mask, 0, payload)
	}
	switch {
	case h.opcode.isControl():
		err = c.handleControl(h.opcode, payload)
	case c.state == stateOpen:
		err = c.handleData(h, payload)
	}
	if err != nil {
		c.fail(err)
		return
	}
	if c.reading() {
		c.readNextFrame()
	}
}

func (c *Conn) readFailed(err error) {
	var ce *CloseError
	if errors.As(err, &ce) {
		c.fail(err)
		return
	}
	if errors.Is(err, iostream.ErrBufferFull) {
		c.fail(&CloseError{Code: CloseMessageTooBig, Reason: "frame larger than the read buffer"})
		return
	}
	// EOF or a reset: the peer is gone without (finishing) a close handshake.
	c.stream.Close(err)
}

// handleData handles a text, binary or continuation frame: a whole
// message in one frame (the common case) is delivered at once, without a
// copy; fragments are assembled first.
func (c *Conn) handleData(h frameHeader, payload []byte) error {
	if h.opcode == OpContinuation || !h.fin || c.assembling() {
		return c.handleFragment(h, payload)
	}
	if h.opcode == OpText && !h.rsv1 && !validUTF8(payload) {
		return &CloseError{Code: CloseInvalidPayload, Reason: "text is not valid UTF-8"}
	}
	return c.deliver(h.opcode, h.rsv1, payload)
}

// handleFragment adds a frame to the fragmented message in progress,
// validating text as it arrives so invalid UTF-8 fails the connection
// before the message ends, and delivers the message with its last frame.
func (c *Conn) handleFragment(h frameHeader, payload []byte) error {
	x := c.more()
	switch h.opcode {
	case OpContinuation:
		if !x.inMessage {
			return protocolError("continuation frame without a message")
		}
	default:
		if x.inMessage {
			return protocolError("new message inside a fragmented one")
		}
		x.inMessage, x.fragOpcode, x.fragCompressed = true, h.opcode, h.rsv1
		x.text.reset()
	}
	text := x.fragOpcode == OpText && !x.fragCompressed
	if text && !x.text.write(payload) {
		return &CloseError{Code: CloseInvalidPayload, Reason: "text is not valid UTF-8"}
	}
	x.fragBuf = append(x.fragBuf, payload...)
	if !h.fin {
		return nil
	}
	data, op, compressed := x.fragBuf, x.fragOpcode, x.fragCompressed
	x.inMessage, x.fragBuf = false, nil
	if text && !x.text.done() {
		return &CloseError{Code: CloseInvalidPayload, Reason: "text ends inside a character"}
	}
	return c.deliver(op, compressed, data)
}

// deliver decompresses a complete message if it was compressed (checking
// its text then) and hands it to the handler.
func (c *Conn) deliver(op Opcode, compressed bool, data []byte) error {
	if compressed {
		var err error
		if data, err = decompress(data, c.opts.MaxMessageSize); err != nil {
			return err
		}
		if op == OpText && !validUTF8(data) {
			return &CloseError{Code: CloseInvalidPayload, Reason: "text is not valid UTF-8"}
		}
	}
	if c.state == stateOpen {
		c.handler.OnMessage(c, op, data)
	}
	return nil
}

// handleControl answers pings, notes pongs and runs the closing handshake.
func (c *Conn) handleControl(op Opcode, payload []byte) error {
	switch op {
	case OpPing:
		if c.state == stateOpen {
			c.writeFrame(OpPong, payload, false)
		}
	case OpPong:
		// Answered (the frame also moved lastRead): the next ping is due
		// a full interval from now.
		c.pingSent = false
	case OpClose:
		code, reason, err := parseClosePayload(payload)
		if err != nil {
			return err
		}
		c.setClose(code, reason)
		if c.state == stateOpen {
			// Echo the close, then end the TCP connection (the server
			// closes first, RFC 6455 §7.1.1; a client waits a moment for
			// the server to do so).
			c.state = stateClosing
			echo := code
			if echo == CloseNoStatus {
				echo = 0
			}
			c.writeFrame(OpClose, closePayload(echo, ""), false)
		}
		c.finishClosing()
	}
	return nil
}

// finishClosing ends the TCP connection once both close frames are
// exchanged: at once on the server (after the queued close frame is
// written), after CloseTimeout on a client if the server does not.
func (c *Conn) finishClosing() {
	if c.server {
		c.closeAfterWrites()
		return
	}
	c.armTimer(c.opts.CloseTimeout, func() { c.stream.Close(nil) })
}

// closeAfterWrites closes the TCP connection once the close frame is out,
// or CloseTimeout from now if the peer does not read it.
func (c *Conn) closeAfterWrites() {
	c.stream.CloseAfterWrites()
	if !c.stream.Closed() {
		c.armTimer(c.opts.CloseTimeout, func() { c.stream.Close(nil) })
	}
}

// fail ends the connection after a protocol error: a close frame with the
// error's code, then the TCP connection, after a linger.
func (c *Conn) fail(err error) {
	var ce *CloseError
	if !errors.As(err, &ce) {
		ce = &CloseError{Code: CloseInternalError, Reason: err.Error()}
	}
	if c.state == stateOpen {
		c.setClose(ce.Code, ce.Reason)
		c.writeFrame(OpClose, closePayload(ce.Code, ce.Reason), false)
	}
	c.state = stateClosing
	c.linger()
}

// linger closes the sending side after the close frame and then reads and
// discards what the peer still sends, until it closes too or CloseTimeout
// has passed. After a protocol error nothing the peer sends can be parsed
// as frames any more, but closing at once while its bytes keep arriving
// would answer them with a reset, and a reset can destroy the close frame
// before the peer reads it (as the HTTP server's linger avoids for its
// error responses).
func (c *Conn) linger() {
	c.stream.CloseWrite()
	if c.stream.Closed() {
		return
	}
	c.armTimer(c.opts.CloseTimeout, func() { c.stream.Close(nil) })
	// One callback for the whole linger: it drops the bytes and reads
	// again, until EOF or an error closes the stream.
	var discard iostream.ReadCallback
	discard = func(_ []byte, err error) {
		if err != nil {
			c.stream.Close(nil)
			return
		}
		c.stream.ReadPartial(0, discard)
	}
	if !c.stream.Reading() {
		c.stream.ReadPartial(0, discard)
	}
}

// Close starts the closing handshake with code and reason; it may be
// called from OnOpen (to turn a user away) as from anywhere on the loop.
// Frames are still read while closing, but data frames are discarded and
// pings go unanswered, and OnMessage runs no more. The TCP connection ends
// when the peer's close reply arrives, or CloseTimeout later.
func (c *Conn) Close(code int, reason string) {
	if c.state != stateOpen {
		return
	}
	c.state = stateClosing
	c.setClose(code, reason)
	c.writeFrame(OpClose, closePayload(code, reason), false)
	c.armTimer(c.opts.CloseTimeout, func() { c.stream.Close(errors.New("websocket: close handshake timed out")) })
}

func (c *Conn) onStreamClosed(error) {
	c.state = stateClosed
	if c.keepaliveSlot >= 0 {
		if ka := watchingKeepalive(c); ka != nil {
			ka.remove(c)
		}
	}
	if c.timer != nil {
		c.timer.Cancel()
		c.timer = nil
	}
	if c.extra != nil {
		c.extra.fragBuf = nil
	}
	code, reason := c.closeStatus()
	c.handler.OnClose(c, code, reason)
}

// WriteMessage sends a text or binary message, compressed when deflate was
// negotiated and the message is at least CompressionThreshold long.
func (c *Conn) WriteMessage(op Opcode, data []byte) error {
	if op != OpText && op != OpBinary {
		return fmt.Errorf("websocket: WriteMessage with opcode %#x", byte(op))
	}
	if c.state != stateOpen {
		return ErrClosed
	}
	compressed := c.deflate && len(data) >= c.opts.CompressionThreshold
	if compressed {
		data = compress(data)
	}
	return c.writeFrame(op, data, compressed)
}

// Ping sends a ping with an optional payload (at most 125 bytes).
func (c *Conn) Ping(payload []byte) error {
	if len(payload) > 125 {
		return errors.New("websocket: ping payload over 125 bytes")
	}
	if c.state != stateOpen {
		return ErrClosed
	}
	return c.writeFrame(OpPing, payload, false)
}

// writeFrame encodes one frame (masking it on the client side) into one
// buffer and queues it: one write system call when the socket has room.
func (c *Conn) writeFrame(op Opcode, payload []byte, compressed bool) error {
	var mask *[4]byte
	if !c.server {
		mask = new([4]byte)
		rand.Read(mask[:])
	}
	frame := appendFrameHeader(make([]byte, 0, maxHeaderSize+len(payload)), op, true, compressed, len(payload), mask)
	start := len(frame)
	frame = append(frame, payload...)
	if mask != nil {
		maskBytes(*mask, 0, frame[start:])
	}
	return c.send(frame)
}

// send queues encoded frame bytes, dropping a peer that has fallen too far
// behind: better it reconnects and resumes from history than the server
// buffers for it without bound. A broadcast runs it once per receiver,
// so the rare case is a call of its own.
//
// Behind means bytes of earlier writes the kernel has still not taken
// when the next write comes: the bound is on those, not on the message
// at hand, so one message larger than MaxPendingWriteBytes still reaches
// a peer that reads (the stream hands it to the kernel as the peer takes
// it), and a peer is never more than the bound plus one message behind.
// Checking before queueing is the same as queueing first and checking
// what is left of the earlier writes: the stream only writes at once
// when nothing is queued, that is when the peer is not behind at all.
func (c *Conn) send(frame []byte) error {
	if c.stream.PendingWriteBytes() > c.opts.MaxPendingWriteBytes {
		return c.dropSlowConsumer()
	}
	if c.stream.QueueWrite(frame) != nil {
		return ErrClosed
	}
	return nil
}

func (c *Conn) dropSlowConsumer() error {
	c.setClose(CloseTryAgainLater, "slow consumer")
	c.state = stateClosing
	c.stream.Abort(ErrSlowConsumer)
	return ErrSlowConsumer
}

// armTimer replaces the connection's one timer.
func (c *Conn) armTimer(d time.Duration, fn func()) {
	if c.timer != nil {
		c.timer.Cancel()
	}
	c.timer = c.stream.Loop().CallLater(d, func() { c.timer = nil; fn() })
}
