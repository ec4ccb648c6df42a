package httpserver

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"chat/framework/concurrent"
	"chat/framework/ioloop"
	"chat/framework/iostream"
)

// connPhase is where a connection is in its request cycle.
type connPhase uint8

const (
	phaseIdle     connPhase = iota // waiting for the first byte of a request
	phaseHead                      // reading a request head
	phaseBody                      // reading a request body
	phaseHandling                  // the handler has the request
	phaseWriting                   // the response is finished; the kernel has not taken all of it
	phaseClosing                   // an error response is draining; then close
	phaseHijacked                  // the stream belongs to someone else (WebSocket)
	phaseClosed
)

// conn is one HTTP/1.x connection: it reads a request, hands it to the
// handler, writes the response, and loops while keep-alive allows. Requests
// are served one at a time, so pipelined requests are answered in order.
// Once an error or a timeout has been answered (phaseClosing) nothing more
// is dispatched on the connection, whatever bytes arrive later.
// Loop-owned.
type conn struct {
	srv     *Server
	stream  *iostream.Stream
	scanner HeadScanner
	phase   connPhase
	resp    *ResponseWriter // the response in progress, nil between requests

	// One lazy timer enforces the current phase's deadline: moving the
	// deadline later is a field store, and the timer, when it fires
	// early, re-arms for the remainder; moving it earlier re-arms the
	// timer (see moveDeadline).
	deadline time.Time
	timer    *ioloop.Timer
	onTimer  func() // checkDeadline, bound once per connection

	peerIP string // the peer's address, formatted once per connection

	// drainMark is how many response bytes were still queued when the
	// current idle deadline of phaseWriting was set: a client that took
	// some of them since is reading, and gets another idle timeout.
	drainMark int

	// bodyReserved is what this connection's request body counts against
	// Server.MaxBodyBytesInFlight, until its response is finished.
	bodyReserved int64

	closeHook iostream.CloseCallbackID // onStreamClosed, removed by Hijack
}

func (c *conn) remoteIP() string {
	if c.peerIP == "" {
		if addr, ok := c.stream.RemoteAddr().(*net.TCPAddr); ok {
			c.peerIP = addr.IP.String()
		}
	}
	return c.peerIP
}

// setDeadline makes the connection time out d from now.
func (c *conn) setDeadline(d time.Duration) { c.moveDeadline(time.Now().Add(d)) }

// moveDeadline sets the current phase's deadline, earlier or later than
// the previous one. A later deadline is a field store (the armed timer,
// when it fires early, re-arms for the remainder); an earlier one re-arms
// the timer now, so the header timeout after a long idle wait, a body
// timeout shorter than the header timeout and the close linger each hold.
func (c *conn) moveDeadline(at time.Time) {
	c.deadline = at
	if c.timer != nil {
		if !at.Before(c.timer.Deadline()) {
			return
		}
		c.timer.Cancel()
	}
	c.timer = c.srv.Loop.CallAt(at, c.onTimer)
}

func (c *conn) clearDeadline() { c.deadline = time.Time{} }

func (c *conn) checkDeadline() {
	c.timer = nil
	if c.deadline.IsZero() || c.phase == phaseClosed || c.phase == phaseHijacked {
		return
	}
	if now := time.Now(); now.Before(c.deadline) {
		c.timer = c.srv.Loop.CallAt(c.deadline, c.onTimer)
		return
	}
	c.timedOut()
}

// timedOut ends a connection whose client was too slow: an idle one
// quietly, one caught mid-request with 408, one that does not take its
// response by closing.
func (c *conn) timedOut() {
	switch c.phase {
	case phaseIdle:
		c.stream.Close(nil)
	case phaseWriting:
		if pending := c.stream.PendingWriteBytes(); pending < c.drainMark {
			c.drainMark = pending // still reading, if slowly
			c.setDeadline(c.srv.idleTimeout())
			return
		}
		c.stream.Close(errors.New("httpserver: the client took none of the response within the idle timeout"))
	case phaseHead, phaseBody:
		c.fail(408, "request timed out")
	default:
		c.stream.Close(errors.New("httpserver: timed out"))
	}
}

// readHead waits for the next request head. A new connection gets the
// header timeout; a kept-alive one the idle timeout until bytes arrive.
func (c *conn) readHead(first bool) {
	c.phase = phaseIdle
	if first {
		c.setDeadline(c.srv.headerTimeout())
	} else {
		c.setDeadline(c.srv.idleTimeout())
	}
	c.stream.ReadScanner((*headReader)(c))
}

// headReader is the connection seen as the stream's iostream.Scanner for
// request heads: a conversion, so reading a head allocates no closure.
type headReader conn

// Split wraps the head scanner to notice the first byte of a request,
// which ends the idle wait and starts the header timeout.
func (r *headReader) Split(data []byte, atEOF bool) (int, []byte, error) {
	c := (*conn)(r)
	if c.phase == phaseClosing {
		return len(data), nil, nil // consumed unread; see onHead
	}
	if c.phase != phaseIdle || len(data) == 0 {
		return c.scanner.Split(data, atEOF)
	}
	// The first byte of a request: the idle wait is over and the header
	// timeout starts. A head that arrived whole (the common case) needs
	// no deadline of its own, which saves re-arming the timer.
	c.phase = phaseHead
	advance, token, err := c.scanner.Split(data, atEOF)
	if token == nil && err == nil {
		c.setDeadline(c.srv.headerTimeout())
	}
	return advance, token, err
}

func (r *headReader) OnRead(head []byte, err error) { (*conn)(r).onHead(head, err) }

func (c *conn) onHead(head []byte, err error) {
	if c.phase == phaseClosing {
		// An error was answered while this read waited: what arrives
		// now is discarded, never dispatched.
		c.discard(nil, err)
		return
	}
	if err != nil {
		c.readFailed(err)
		return
	}
	h, err := ParseRequestHead(head, c.srv.limit)
	if err != nil {
		c.fail(StatusOf(err), err.Error())
		return
	}
	req := newRequest(c, h)
	if !h.HasBody() {
		c.dispatch(req)
		return
	}
	if !h.Chunked && !c.reserveBody(h.ContentLength) {
		c.failBusy() // before a 100 Continue: the body is never sent
		return
	}
	c.phase = phaseBody
	if h.Chunked || int64(c.stream.Buffered()) < h.ContentLength {
		// A body already buffered is read before any timer can fire, so
		// it needs no deadline (and the timer no re-arming).
		c.setDeadline(c.srv.bodyTimeout())
	}
	if h.Expect100Continue {
		// The client waits for this before sending the body; limits on
		// the declared length were checked by ParseRequestHead.
		c.stream.QueueWrite(continueResponse)
	}
	if h.Chunked {
		c.readChunked(req, &ChunkedDecoder{Limits: c.srv.limit, KeepTrailers: true})
		return
	}
	c.readFixed(req, int(h.ContentLength))
}

var continueResponse = []byte("HTTP/1.1 100 Continue\r\n\r\n")

// readFailed handles a failed head or body read: a client that simply went
// away is closed quietly, a malformed request gets its error status.
func (c *conn) readFailed(err error) {
	var parseErr *ParseError
	switch {
	case c.stream.Closed():
		return
	case errors.Is(err, io.EOF), errors.Is(err, ErrIncomplete) && c.phase == phaseIdle:
		c.stream.CloseAfterWrites() // whatever was answered still goes out
	case errors.As(err, &parseErr):
		c.fail(parseErr.Status, parseErr.Reason)
	case errors.Is(err, iostream.ErrBufferFull):
		c.fail(431, "request head too large")
	default:
		c.stream.Close(err)
	}
}

// firstBodyAllocation caps the buffer allocated for a Content-Length body
// before its bytes arrive: the declared length is the client's word, and
// 54 bytes of head must not pin megabytes for the body timeout. Larger
// bodies grow (doubling, never past the declared length) as they arrive.
const firstBodyAllocation = 64 << 10

// readFixed reads a Content-Length body: in one piece when it fits the
// stream's buffer, otherwise piece by piece.
func (c *conn) readFixed(req *Request, n int) {
	body := make([]byte, 0, min(n, max(firstBodyAllocation, c.stream.Buffered())))
	var next iostream.ReadCallback
	next = func(data []byte, err error) {
		if c.phase != phaseBody {
			c.discard(data, err) // answered (408) while this read waited
			return
		}
		if err != nil {
			c.readFailed(fmt.Errorf("%w: body: %w", ErrIncomplete, err))
			return
		}
		body = appendBody(body, data, n)
		if len(body) < n {
			c.stream.ReadPartial(n-len(body), next)
			return
		}
		req.Body = body
		c.dispatch(req)
	}
	c.stream.ReadPartial(n, next)
}

// appendBody appends data to a body of declared length n, growing the
// buffer by doubling but never beyond n.
func appendBody(body, data []byte, n int) []byte {
	if need := len(body) + len(data); need > cap(body) {
		grown := make([]byte, len(body), min(n, max(2*cap(body), need)))
		copy(grown, body)
		body = grown
	}
	return append(body, data...)
}

// reserveBody counts n more body bytes against the server's
// MaxBodyBytesInFlight, or reports false (and counts nothing) if they do
// not fit. The reservation is held until the response is finished, since
// the handler holds the body until then.
func (c *conn) reserveBody(n int64) bool {
	s := c.srv
	if s.bodyBytesInFlight+n > s.maxBodyBytesInFlight() {
		return false
	}
	s.bodyBytesInFlight += n
	c.bodyReserved += n
	return true
}

// releaseBody returns the connection's body reservation.
func (c *conn) releaseBody() {
	c.srv.bodyBytesInFlight -= c.bodyReserved
	c.bodyReserved = 0
}

// failBusy answers a request whose body would take the server past
// MaxBodyBytesInFlight.
func (c *conn) failBusy() {
	c.failWith(503, "too many request bodies in flight; retry", "1")
}

// readChunked reads a chunked body token by token.
func (c *conn) readChunked(req *Request, dec *ChunkedDecoder) {
	var body []byte
	var next iostream.ReadCallback
	next = func(data []byte, err error) {
		if c.phase != phaseBody {
			c.discard(data, err) // answered (408) while this read waited
			return
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		if !c.reserveBody(int64(len(data))) {
			c.failBusy()
			return
		}
		body = append(body, data...)
		if !dec.Done() {
			c.stream.ReadScan(dec.Split, next)
			return
		}
		req.Body, req.Trailer = body, dec.Trailer()
		c.dispatch(req)
	}
	c.stream.ReadScan(dec.Split, next)
}

// dispatch hands a complete request to the handler. No timeout runs while
// the handler works: a long poll may legitimately park for minutes, and the
// stream's close callback tells it if the client leaves.
func (c *conn) dispatch(req *Request) {
	if c.phase == phaseClosing || c.stream.Closed() {
		return // an error was answered: nothing more runs on this connection
	}
	c.phase = phaseHandling
	c.clearDeadline()
	w := newResponseWriter(c, req)
	c.resp = w
	defer func() {
		if r := recover(); r != nil {
			c.srv.errorLog().Error("httpserver: handler panicked", "panic", r,
				"method", req.Method, "path", req.Path, "stack", stack())
			if !w.headerSent && !w.finished {
				w.reset()
				w.SendError(500, "")
				return
			}
			c.stream.Close(fmt.Errorf("httpserver: handler panicked: %v", r))
		}
	}()
	c.srv.Handler.ServeHTTP(w, req)
}

// responseFinished runs when Finish has handed a response to the stream
// (sent is the future of its last write). The next request head is read
// only once the kernel has taken the whole response, as Tornado and
// net/http sequence it: a client that pipelines without reading gets one
// response queued at most, and a client that half-closes after its
// request (its EOF is what the next head read would see) still gets all
// of it. While the response drains the idle timeout runs: a client that
// takes none of it for that long is dropped, one that keeps taking some
// (a large download on a slow link) is not. (A half-close that arrives on
// its own while a handler is still working, with nothing queued, reads as
// the client leaving, as in Tornado: the handler's OnConnectionClose runs
// and its answer is not sent.)
func (c *conn) responseFinished(w *ResponseWriter, sent *concurrent.Future[struct{}]) {
	c.resp = nil
	c.releaseBody()
	if sent.Done() {
		c.responseDone(w)
		return
	}
	c.phase = phaseWriting
	c.drainMark = c.stream.PendingWriteBytes()
	c.setDeadline(c.srv.idleTimeout())
	sent.OnResult(func(struct{}, error) {
		w.releaseOut() // the stream no longer refers to it
		c.responseDone(w)
	})
}

// responseDone runs once the kernel has the whole response (or the stream
// closed while it waited): keep alive, or close.
func (c *conn) responseDone(w *ResponseWriter) {
	if c.phase == phaseHijacked || c.phase == phaseClosing || c.stream.Closed() {
		return
	}
	if w.closeAfter {
		c.closeGracefully()
		return
	}
	c.readHead(false)
}

// fail answers a request the server could not accept and closes the
// connection. It ends the connection's request cycle: a read still
// waiting (the head or body whose timeout this answers) discards what it
// gets, and nothing more is dispatched.
func (c *conn) fail(status int, reason string) { c.failWith(status, reason, "") }

// failWith is fail with a Retry-After value (none if empty).
func (c *conn) failWith(status int, reason, retryAfter string) {
	if c.phase == phaseClosing || c.stream.Closed() {
		return
	}
	c.releaseBody()
	body := StatusText(status)
	if reason != "" {
		body += ": " + reason
	}
	body += "\n"
	h := Header{}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", fmt.Sprint(len(body)))
	h.Set("Connection", "close")
	if retryAfter != "" {
		h.Set("Retry-After", retryAfter)
	}
	h.Set("Date", c.srv.date.Value(time.Now()))
	out := AppendResponseHead(nil, 1, 1, status, h)
	out = append(out, body...)
	c.stream.QueueWrite(out)
	c.closeGracefully()
}

// closeGracefully sends FIN after the queued response and reads (and
// discards) what the client still sends until it closes too. Closing at
// once while unread request bytes sit in the kernel would send a reset,
// which can destroy the response before the client reads it.
func (c *conn) closeGracefully() {
	c.phase = phaseClosing
	c.stream.CloseWrite()
	c.setDeadline(c.srv.lingerTimeout())
	if !c.stream.Reading() {
		c.stream.ReadPartial(0, c.discard)
	}
	// Otherwise the read that is waiting (a head or a body the client was
	// too slow to send) sees phaseClosing and turns into this discard.
}

// discard reads and drops what a closing connection's client still sends,
// until it closes too (or the linger deadline passes).
func (c *conn) discard(_ []byte, err error) {
	if err != nil {
		c.stream.Close(nil)
		return
	}
	c.stream.ReadPartial(0, c.discard)
}

// onStreamClosed runs once when the connection closes, for any reason.
func (c *conn) onStreamClosed(cause error) {
	if c.phase == phaseHijacked {
		return
	}
	c.phase = phaseClosed
	c.releaseBody()
	if c.timer != nil {
		c.timer.Cancel()
		c.timer = nil
	}
	if w := c.resp; w != nil && !w.finished {
		w.connectionClosed()
	}
}
